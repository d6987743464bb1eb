"""On the demo, one priority scale: a plan's top 200 holds findings of every family that fired with a critical or
high severity, and critical findings no analyzer prices are not crowded out by a few ¥-heavy rules."""

import json
from collections import Counter
from pathlib import Path

import pytest

from gridaudit.audit.plans import create_plan, entity_units
from gridaudit.audit.quotas import parse_quota
from gridaudit.audit.store import open_store

from .conftest import add_people


@pytest.fixture(scope="session")
def demo_out(tmp_path_factory) -> Path:
    """``gridaudit demo --customers 2000 --months 6`` once per test session."""
    from gridaudit.demo import run

    out = tmp_path_factory.mktemp("h2demo") / "demo"
    run(customers=2000, months=6, out=out)
    return out


@pytest.fixture(scope="session")
def demo_findings(demo_out):
    """The rules, loss and risk findings in the demo dataset's store, combined (as the demo's own plan reads them)."""
    from gridaudit.audit.demo import _findings

    table, used = _findings(demo_out / "dataset")
    assert len(used) == 3, used
    return table


def test_top_200_covers_every_family_with_critical_or_high_findings(demo_out, demo_findings, tmp_path):
    rows = demo_findings.to_pylist()
    severe = {r["family"] for r in rows if r["severity"] in ("critical", "high")}
    assert len(severe) >= 8  # the demo fires most families; the assertion below must mean something
    store = open_store(tmp_path / "cases.db", create=True)
    try:
        add_people(store)
        with store.transaction() as s:
            out = create_plan(s, "lead", "2024-07", demo_findings, top=200, unit_map=entity_units(demo_out / "dataset"))
            tasks = out.tasks
    finally:
        store.dispose()
    assert len(tasks) == 200
    assert severe <= {t.family for t in tasks}
    rules = Counter(t.rule_id for t in tasks)
    assert max(rules.values()) <= 40  # the diversity rule: at most 20 % of the top per rule
    entities = {(t.entity_type, t.entity_id) for t in tasks}
    # every entity with a critical finding has a task (by that finding or a better one of the same entity)
    assert {(r["entity_type"], r["entity_id"]) for r in rows if r["severity"] == "critical"} <= entities
    # every critical / high rule is in the plan, unless each entity it fired on is there by another finding
    for rule in {r["rule_id"] for r in rows if r["severity"] in ("critical", "high")}:
        fired = {(r["entity_type"], r["entity_id"]) for r in rows if r["rule_id"] == rule}
        assert rules[rule] > 0 or fired <= entities, rule
    # the two: most critical use-drop events, and the (small-¥, priced) virtual-quantity bills by their seat
    assert rules["metering_event_with_use_drop"] >= 5 and rules["billing_virtual_qty"] >= 1


def test_demo_quotas(demo_out, demo_findings, tmp_path):
    store = open_store(tmp_path / "cases.db", create=True)
    units = entity_units(demo_out / "dataset")
    loss_units = Counter(
        json.loads(r["evidence"]).get("unit_id") for r in demo_findings.to_pylist() if r["family"] == "loss"
    )
    top_unit = next(u for u, _n in loss_units.most_common() if u)
    quotas = [parse_quota("family=reading:30"), parse_quota(f"family=loss,unit={top_unit}:all")]
    try:
        add_people(store)
        with store.transaction() as s:
            out = create_plan(s, "lead", "2024-07", demo_findings, top=200, unit_map=units, quotas=quotas)
    finally:
        store.dispose()
    reading, loss = out.quotas
    assert reading.filled >= 30 and reading.met
    assert loss.met and loss.filled == loss.available > 0
    assert len(out.tasks) == 200
