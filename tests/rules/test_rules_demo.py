"""The demo step: whole catalog on DuckDB → out_dir/findings.parquet, summary per family."""

from __future__ import annotations

from gridaudit.findings import read_findings
from gridaudit.rules import load_catalog
from gridaudit.rules.demo import run_demo
from gridaudit.rules.harness import build_fixture_dataset, load_fixture
from gridaudit.rules.loader import builtin_catalog

CATALOG = builtin_catalog()


def test_run_demo_writes_findings(tmp_path, capsys):
    rule = {r.id: r for r in load_catalog()}["billing_withheld_qty"]
    fx = load_fixture(CATALOG / "billing" / "billing_withheld_qty" / "fixture.yaml")
    ds = build_fixture_dataset(rule, fx, tmp_path / "ds")
    run_demo(ds, tmp_path / "out")
    findings = read_findings(tmp_path / "out" / "findings.parquet")
    keys = set(zip(findings.column("rule_id").to_pylist(), findings.column("entity_id").to_pylist(), strict=True))
    assert ("billing_withheld_qty", "B4") in keys and ("billing_virtual_qty", "B1") in keys
    out = capsys.readouterr().out
    assert "billing" in out and "skipped" in out  # rules whose tables are missing are listed as skipped
