"""Small exports written in code for the ingest tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from .ingest_helpers import METERS, READINGS_JAN, write


@pytest.fixture
def base(tmp_path: Path) -> tuple[Path, Path, Path]:
    """meters.csv and January readings.csv, and a dataset folder path."""
    src = tmp_path / "src"
    return write(src, "meters.csv", METERS), write(src, "readings.csv", READINGS_JAN), tmp_path / "ds"
