"""Run one catalog rule on a dataset (synth tests compare its hits with truth.csv)."""

from __future__ import annotations

from gridaudit.dataset import Dataset
from gridaudit.engines.duckdb import DuckDBEngine
from gridaudit.rules import load_catalog
from gridaudit.rules.runner import run_rules


def rule_hits(dataset: Dataset, rule_id: str) -> set[str]:
    """Entity ids the catalog rule ``rule_id`` finds on ``dataset`` (DuckDB); the rule must run cleanly."""
    rule = [r for r in load_catalog() if r.id == rule_id]
    engine = DuckDBEngine(dataset)
    try:
        findings, reports = run_rules(engine, rule)
    finally:
        engine.close()
    assert reports[0].status == "ok", reports[0]
    return set(findings.column("entity_id").to_pylist())
