"""The line-loss step of ``gridaudit demo``: balance all data, write ``out_dir/loss/``, show the worst areas."""

from __future__ import annotations

from pathlib import Path

from gridaudit.console import console
from gridaudit.dataset import Dataset
from gridaudit.lineloss.run import run_loss, write_outputs
from gridaudit.lineloss.summary import print_summary


def run_demo(dataset: Dataset | str | Path, out_dir: str | Path) -> None:
    """Run line loss over all the data, write its tables and findings into ``out_dir/loss/``, print a summary."""
    result = run_loss(dataset)
    write_outputs(result, Path(out_dir) / "loss")
    print_summary(result, console, level="area", top=10)
