"""theft_intermittent_low_days narrows the meters it judges day by day with a bound from one aggregate pass
(issue 18): the bound must never drop a finding. The rule is compared with itself without the narrowing
(every month of every meter of every customer judged day by day) on a synthetic utility, at several parameter sets."""

from __future__ import annotations

import dataclasses

import pytest

from gridaudit.engines.duckdb import DuckDBEngine
from gridaudit.rules import load_catalog
from gridaudit.rules.runner import run_rules

RULE = next(r for r in load_catalog() if r.id == "theft_intermittent_low_days")
NARROWED = """judged_g AS (
  -- integer keys for the day rows below: the meter-month (g) and the meter (mi), so the two window sorts and the
  -- rows they hold carry two integers instead of the meter id and the month
  SELECT meter_id, month,
         ROW_NUMBER() OVER (ORDER BY meter_id, month) AS g,
         DENSE_RANK() OVER (ORDER BY meter_id) AS mi
  FROM judged
),"""
EVERY_METER = """judged_g AS (
  SELECT meter_id, month,
         ROW_NUMBER() OVER (ORDER BY meter_id, month) AS g,
         DENSE_RANK() OVER (ORDER BY meter_id) AS mi
  FROM meter_month_usage
  WHERE meter_id IN (SELECT meter_id FROM cm)
),"""
PARAMS = [
    {},
    {"low_share": 0.5, "ref_quantile": 0.7},
    {"low_share": 0.3, "ref_quantile": 0.9, "min_low_days": 0.1},
    {"ref_quantile": 0.5, "min_baseline_kwh": 0.5},
    {"low_share": 0.6, "normal_share": 0.8, "min_low_days": 0.15, "max_middle_days": 0.4, "max_mean_run": 4.0},
]


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    from gridaudit.dataset import commit_version, stage_version
    from gridaudit.synth.config import Rates, SynthConfig
    from gridaudit.synth.generate import generate

    root = tmp_path_factory.mktemp("intermittent-synth")
    rates = dataclasses.replace(Rates(), theft_intermittent=0.05)  # enough intermittent thefts to find
    generate(SynthConfig(customers=1500, months=4, start="2024-01", seed=18, rates=rates), root / "src")
    staged = stage_version(root / "ds")
    for src in sorted((root / "src").glob("*.parquet")):
        (staged.path / src.name).symlink_to(src)
    return commit_version(staged, {"sources": [str(root / "src")]})


def findings(dataset, rule, params):
    engine = DuckDBEngine(dataset, threads=2)
    try:
        table, reports = run_rules(engine, [rule], overrides={rule.id: params})
    finally:
        engine.close()
    assert [r.status for r in reports] == ["ok"], reports
    return sorted((r["finding_id"], r["score"], r["evidence"]) for r in table.to_pylist())


def test_the_reference_is_the_rule_without_its_narrowing():
    assert NARROWED in RULE.sql


@pytest.mark.parametrize("params", PARAMS, ids=[",".join(p) or "defaults" for p in PARAMS])
def test_narrowing_keeps_every_finding(synth, params):
    every_meter = RULE.model_copy(update={"sql": RULE.sql.replace(NARROWED, EVERY_METER)})
    expected = findings(synth, every_meter, params)
    assert expected, "the parameter set finds nothing on the synthetic utility: the comparison would be empty"
    assert findings(synth, RULE, params) == expected
