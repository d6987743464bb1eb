"""Fixtures for the line-loss tests: the tiny utility of lineloss_tiny.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from .lineloss_tiny import build_tiny


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The tiny dataset folder and its truth."""
    root = tmp_path_factory.mktemp("lineloss") / "ds"
    truth = build_tiny(root)
    return root, truth
