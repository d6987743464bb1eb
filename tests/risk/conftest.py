"""Fixtures for the risk tests (datasets come from risk_helpers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .risk_helpers import make_dataset


@pytest.fixture(scope="session")
def risk_ds(tmp_path_factory) -> tuple[Path, dict]:
    """A 200-customer dataset with inspections for half of them."""
    root = tmp_path_factory.mktemp("risk") / "ds"
    return root, make_dataset(root)


@pytest.fixture(scope="session")
def sparse_ds(tmp_path_factory) -> tuple[Path, dict]:
    """Only customers, meters and daily_usage."""
    root = tmp_path_factory.mktemp("risk_sparse") / "ds"
    return root, make_dataset(root, n=60, days=300, seed=3, inspected_share=0.0)
