from __future__ import annotations

from pathlib import Path

import pytest

from gridaudit.synth import SynthConfig, generate


@pytest.fixture(scope="session")
def small_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 customers × 3 months, Parquet, default rates."""
    out = tmp_path_factory.mktemp("synth") / "src"
    generate(SynthConfig(customers=2000, months=3, start="2024-01", seed=11), out)
    return out


@pytest.fixture(scope="session")
def small_dataset(small_synth: Path, tmp_path_factory: pytest.TempPathFactory):
    """The small synthetic output, ingested."""
    from gridaudit.ingest import ingest
    from gridaudit.synth import source_files

    result = ingest(source_files(small_synth), tmp_path_factory.mktemp("ds") / "ds")
    return result
