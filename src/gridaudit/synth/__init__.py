"""A synthetic power supply company with labelled irregularities (``gridaudit synth``)."""

from gridaudit.synth.config import TRUTH_KINDS, Model, Rates, SynthConfig, load_rates
from gridaudit.synth.generate import SynthResult, generate, source_files

__all__ = ["TRUTH_KINDS", "Model", "Rates", "SynthConfig", "SynthResult", "generate", "load_rates", "source_files"]
