"""bench/catalog_passes.py on a tiny synthetic utility, so the issue-18 pass count cannot rot."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))


@pytest.fixture(scope="module")
def tiny_source(tmp_path_factory):
    """200 customers × 2 months of synth output."""
    from gridaudit.synth import SynthConfig, generate

    base = tmp_path_factory.mktemp("passes")
    generate(SynthConfig(customers=200, months=2, start="2024-01", seed=5), base / "src")
    return base / "src"


@pytest.mark.slow
def test_every_rule_and_derived_table_counts_its_reads(tiny_source):
    from catalog_passes import catalog_passes, markdown
    from gridaudit.rules import load_catalog

    result = catalog_passes(tiny_source)
    rules = load_catalog()
    derived = {d.id for r in rules for d in r.needs}
    assert set(result["reads"]) == {r.id for r in rules} | derived
    # meter_month_usage reads every daily row once, and nothing else of the source tables
    assert result["reads"]["meter_month_usage"]["daily_usage"] == result["sizes"]["daily_usage"]
    assert "bills" not in result["reads"]["meter_month_usage"]
    # a rule over a derived table reads the materialised table, not the daily rows again
    assert "daily_usage" not in result["reads"]["billing_zero_use_ami"]
    assert result["passes"]["daily_usage"] >= 2
    text = markdown(result)
    assert "| daily_usage |" in text and "* meter_month_usage: 1.00" in text
