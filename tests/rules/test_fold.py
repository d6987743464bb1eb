"""Folded near-copies give the same findings as the rules they replaced (ids and whole rows)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridaudit.engines.duckdb import DuckDBEngine
from gridaudit.rules import load_catalog
from gridaudit.rules.harness import build_fixture_dataset, fixture_files, load_fixture
from gridaudit.rules.runner import run_rules

PREFOLD = Path(__file__).parent / "prefold"
OLD = {r.id: r for r in load_catalog([PREFOLD], builtin=False)}
NEW = {r.id: r for r in load_catalog()}
PROCESS = sorted(i for i in OLD if i.startswith("process_"))
BILLING = ["billing_virtual_qty", "billing_withheld_qty"]


def rows(dataset, rules, period=None, params=None):
    engine = DuckDBEngine(dataset)
    try:
        findings, reports = run_rules(engine, rules, period=period, overrides=params)
    finally:
        engine.close()
    assert all(r.status == "ok" for r in reports), reports
    return [{k: v for k, v in r.items() if k != "run_id"} for r in findings.to_pylist()]


def test_the_near_copies_are_folded():
    assert set(OLD) == set(PROCESS) | set(BILLING) and len(PROCESS) == 5
    for rid in PROCESS:
        assert [d.id for d in NEW[rid].needs] == ["work_order_step_days"], rid
        assert len(NEW[rid].sql.splitlines()) < 20, rid
    assert NEW["billing_virtual_qty"].path == NEW["billing_withheld_qty"].path
    assert NEW["billing_virtual_qty"].path.name == "billing_metered_qty.template.sql"
    for rid in OLD:  # the same id, metadata and parameters: only the SQL moved
        old, new = OLD[rid].header, NEW[rid].header
        assert (old.title, old.severity, old.entity_type, old.description, old.params) == (
            new.title,
            new.severity,
            new.entity_type,
            new.description,
            new.params,
        ), rid


CASES = [(rid, f) for rid in sorted(OLD) for f in fixture_files(NEW[rid])]


@pytest.mark.parametrize(("rid", "path"), CASES, ids=[f"{r}/{p.name}" for r, p in CASES])
def test_folded_rule_matches_the_old_one_on_its_fixtures(tmp_path, rid, path):
    fx = load_fixture(path)
    ds = build_fixture_dataset(NEW[rid], fx, tmp_path / "ds")
    params = {rid: fx.get("params") or {}}
    old = rows(ds, [OLD[rid]], fx.get("period"), params)
    new = rows(ds, [NEW[rid]], fx.get("period"), params)
    assert old and new == old


@pytest.fixture(scope="module")
def synth_dataset(tmp_path_factory):
    import dataclasses

    from gridaudit.dataset import open_dataset
    from gridaudit.ingest import ingest
    from gridaudit.synth.config import Rates, SynthConfig
    from gridaudit.synth.generate import generate, source_files

    root = tmp_path_factory.mktemp("fold-synth")
    rates = dataclasses.replace(Rates(), process_overdue_step=0.5)  # enough overdue steps to compare
    generate(SynthConfig(customers=2000, months=6, start="2024-01", seed=13, rates=rates), root / "src")
    assert ingest(source_files(root / "src"), root / "ds").exit_code in (0, 1)
    return open_dataset(root / "ds")


@pytest.mark.parametrize("period", [None, "2024-04"])
def test_folded_rules_match_the_old_ones_on_a_synthetic_utility(synth_dataset, period):
    ids = sorted(OLD)
    old = rows(synth_dataset, [OLD[i] for i in ids], period)
    new = rows(synth_dataset, [NEW[i] for i in ids], period)
    fired = {r["rule_id"] for r in old}
    if period is None:  # the synthetic utility has few high-voltage orders (design review, mid check): see below
        assert {*BILLING, "process_plan_reply_overdue", "process_completion_check_overdue"} <= fired, fired
    assert len(new) == len(old) and new == old


STEPS = ["accepted", "plan_replied", "design_reviewed", "mid_checked", "completion_checked", "contract_signed",
         "meter_installed", "energized", "archived"]  # fmt: skip


@pytest.fixture(scope="module")
def random_orders(tmp_path_factory):
    """600 work orders with random steps: gaps, missing start times, repeated steps, holidays, no supply type."""
    import random
    from datetime import datetime, timedelta

    from gridaudit.dataset import commit_version, stage_version
    from gridaudit.rules.harness import arrow_rows

    rng = random.Random(13)
    orders, steps = [], []
    for i in range(600):
        t = datetime(2023, 12, 20) + timedelta(days=rng.randint(0, 150), hours=rng.randint(0, 23))
        oid = f"W{i}"
        orders.append({"order_id": oid, "order_type": "new_connection", "accepted_at": t,
                       "supply": rng.choice(["single", "dual", None])})  # fmt: skip
        for step in STEPS[1:]:
            for _ in range(rng.choice([0, 1, 1, 1, 1, 2])):  # some steps missing, some twice
                start = t + timedelta(days=rng.randint(0, 3)) if rng.random() < 0.6 else None
                t = t + timedelta(days=rng.randint(0, 25), hours=rng.randint(0, 23))
                steps.append({"order_id": oid, "step": step, "finished_at": t, "started_at": start,
                              "handler_id": f"S{rng.randint(1, 9)}"})  # fmt: skip
    steps.append({"order_id": "W_orphan", "step": "energized", "finished_at": datetime(2024, 3, 1)})
    staged = stage_version(tmp_path_factory.mktemp("fold-orders") / "ds")
    staged.write_table("work_orders", arrow_rows("work_orders", orders))
    staged.write_table("work_order_steps", arrow_rows("work_order_steps", steps))
    return commit_version(staged, {"sources": ["test_fold random orders"]})


@pytest.mark.parametrize("limits", ["defaults", "tight"])
@pytest.mark.parametrize("period", [None, "2024-03"])
def test_folded_process_rules_match_the_old_ones_on_random_orders(random_orders, limits, period):
    params = None
    if limits == "tight":  # most steps overdue: every candidate row is compared
        params = {rid: {p: 1 for p in OLD[rid].header.params} for rid in PROCESS}
    old = rows(random_orders, [OLD[i] for i in PROCESS], period, params)
    new = rows(random_orders, [NEW[i] for i in PROCESS], period, params)
    assert {r["rule_id"] for r in old} == set(PROCESS)
    assert len(new) == len(old) and new == old
