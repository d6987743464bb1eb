import pytest

from gridaudit.audit import actions
from gridaudit.audit.errors import AuditError, Forbidden
from gridaudit.audit.models import Base
from gridaudit.audit.plans import create_plan, entity_units
from gridaudit.audit.priority import (
    PrioritySettings,
    money_term,
    priority,
    rule_cap,
    score_percentiles,
    select_diverse,
)
from gridaudit.dataset import commit_version, stage_version
from gridaudit.findings import findings_table

from .conftest import add_people, make_findings


def test_priority_is_expected_yuan_weighed_by_severity():
    # hit rate × (severity floor + |¥|) × severity weight × (0.5 + 0.5 × score percentile)
    assert priority(1.0, "high", 0, 0.25) == pytest.approx(0.25 * 2000 * 0.75)
    assert priority(1.0, "high", 1000, 0.25) == pytest.approx(0.25 * 3000 * 0.75)
    assert priority(None, "medium", None, 0.5) == pytest.approx(0.5 * 500 * 0.5 * 0.75)  # no score: default 0.5
    assert priority(1.0, "low", -80, 0.4) == priority(1.0, "low", 80, 0.4)  # a negative adjustment: its size
    assert money_term(None, "critical") == 5000 and money_term(float("nan"), "low") == 100
    assert priority(0.5, "critical", None, 0.3) > priority(0.5, "high", None, 0.3) > priority(0.5, "low", 10, 0.3)
    flat = PrioritySettings(severity_floors_yuan=tuple((s, 0.0) for s in ("low", "medium", "high", "critical")))
    assert priority(1.0, "high", None, 0.9, flat) == 0.0  # no floor and no money: worth nothing


@pytest.mark.parametrize("severity", ["low", "medium", "high", "critical"])
@pytest.mark.parametrize("pct", [None, 0.1, 1.0])
def test_priority_is_monotone_in_money_and_hit_rate(severity, pct):
    money = [None, 0.0, 1.0, 50.0, 2000.0, 1e6]
    by_money = [priority(pct, severity, y, 0.3) for y in money]
    assert by_money[0] == by_money[1] and all(a < b for a, b in zip(by_money[1:], by_money[2:], strict=False))
    by_rate = [priority(pct, severity, 100.0, h) for h in (0.0, 0.01, 0.2, 0.5, 1.0)]
    assert by_rate[0] == 0 and all(a < b for a, b in zip(by_rate, by_rate[1:], strict=False))


def test_diversity_rule_caps_a_rule_while_others_remain():
    ranked = [dict(finding_id=f"a{i}", rule_id="A", priority=100 - i) for i in range(10)]
    ranked += [dict(finding_id=f"b{i}", rule_id="B", priority=10 - i) for i in range(2)]
    ranked.sort(key=lambda r: -r["priority"])
    assert rule_cap(5, 0.2) == 1 and rule_cap(200, 0.2) == 40 and rule_cap(7, 1.0) == 7
    # cap 2 of 10: A takes 2, B its 2, then A fills the rest (B ran out), in priority order
    got = [r["finding_id"] for r in select_diverse(ranked, 10, 0.2)]
    assert got == ["a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "b0", "b1"]
    assert [r["finding_id"] for r in select_diverse(ranked, 4, 0.5)] == ["a0", "a1", "b0", "b1"]
    # tasks already taken (quotas) count towards the cap and the size
    assert [r["finding_id"] for r in select_diverse(ranked[2:], 4, 0.5, taken=ranked[:2])] == ["b0", "b1"]
    assert select_diverse(ranked, 2, 0.5, taken=ranked[:3]) == []


def test_scores_on_different_scales_compete_fairly():
    """A rule scoring in kWh (huge numbers) does not crowd out a model scoring 0–1."""
    rows = [dict(finding_id=f"k{i}", rule_id="kwh_rule", score=1000.0 * i) for i in range(1, 5)]
    rows += [dict(finding_id=f"p{i}", rule_id="prob_model", score=0.2 * i) for i in range(1, 5)]
    pct = score_percentiles(rows + [dict(finding_id="none", rule_id="prob_model", score=None)])
    assert pct["k4"] == pct["p4"] == 1.0 and pct["k1"] == pct["p1"] == 0.25 and pct["none"] is None


def test_top_n_family_and_unit_scope(store):
    add_people(store)
    with store.transaction() as s:
        out = create_plan(
            s, "lead", "2025-07", make_findings(12), top=2, families=["theft"], units=["U2"], kind="comprehensive"
        )
        got = [(t.family, t.unit_id, t.entity_id) for t in out.tasks]
        # theft findings are even i; U2 holds i ≥ 6; highest priority first
        assert got == [("theft", "U2", "C010"), ("theft", "U2", "C008")]
        assert out.skipped == {"family": 6, "unit": 3, "beyond top": 1}
        assert out.plan.kind == "comprehensive"


def test_dedup_against_open_tasks_and_taken_findings(store):
    add_people(store)
    base = make_findings(4).to_pylist()
    with store.transaction() as s:
        first = create_plan(s, "lead", "2025-07", make_findings(4))
        assert len(first.tasks) == 4
        entity = base[0]["entity_id"]
        tid = next(t.task_id for t in first.tasks if t.entity_id == entity)
    # another rule on the same entity while its task is open → not a second task
    other = dict(base[0], rule_id="billing.virtual_quantity", family="billing", finding_id=None)
    other.pop("finding_id")
    with store.transaction() as s:
        again = create_plan(s, "lead", "2025-08", findings_table([other]))
        assert again.tasks == [] and again.skipped == {"open task for entity": 1}
    # once that task is closed, the new finding may be taken; the old finding id never again
    with store.transaction() as s:
        actions.assign(s, "li", tid, "zhang")
    with store.transaction() as s:
        actions.record_result(s, "zhang", tid, "normal", "desk")
    with store.transaction() as s:
        actions.close(s, "li", tid)
    with store.transaction() as s:
        later = create_plan(s, "lead", "2025-09", findings_table([other, dict(base[0])]))
        assert [(t.rule_id, t.entity_id) for t in later.tasks] == [("billing.virtual_quantity", entity)]
        assert later.skipped == {"finding already taken": 1}


def test_one_task_per_entity_within_a_file(store):
    add_people(store)
    rows = [dict(r) for r in make_findings(2).to_pylist()]
    twin = dict(rows[0], rule_id="theft.other", score=0.99, yuan_at_stake=10000.0)
    twin.pop("finding_id")
    with store.transaction() as s:
        out = create_plan(s, "lead", "2025-07", findings_table([*rows, twin]))
        assert sorted((t.entity_id, t.rule_id) for t in out.tasks) == [
            ("C000", "theft.other"),
            ("C001", "reading.estimated"),
        ]


def test_plan_refusals(store):
    add_people(store)
    with pytest.raises(Forbidden), store.transaction() as s:
        create_plan(s, "zhang", "2025-07", make_findings(2))
    with pytest.raises(AuditError, match="comprehensive or special"), store.transaction() as s:
        create_plan(s, "lead", "2025-07", make_findings(2), kind="weekly")
    with pytest.raises(AuditError, match="positive"), store.transaction() as s:
        create_plan(s, "lead", "2025-07", make_findings(2), top=0)


def test_period_ranges():
    from gridaudit.audit.plans import last_month, months_in, next_month

    assert months_in("2024-01..2024-06") == ["2024-01", "2024-06"]
    assert last_month("2024-01..2024-06") == "2024-06" and last_month(None) is None and last_month("n/a") is None
    assert next_month("2024-12") == "2025-01" and next_month("2024-06") == "2024-07"


def test_range_period_is_stored(store):
    add_people(store)
    rows = make_findings(1).to_pylist()
    rows[0].update(period="2024-01..2024-06")
    rows[0].pop("finding_id")
    with store.transaction() as s:
        t = create_plan(s, "lead", "2024-07", findings_table(rows)).tasks[0]
    with store.transaction() as s:
        assert s.get(type(t), t.task_id).period == "2024-01..2024-06"


def test_units_from_dataset(tmp_path):
    import pyarrow as pa

    staged = stage_version(tmp_path / "ds")
    staged.write_table("customers", pa.table({"customer_id": ["C1", "C2"], "unit_id": ["U7", "U8"]}))
    staged.write_table("meters", pa.table({"meter_id": ["M1"], "customer_id": ["C2"]}))
    staged.write_table("bills", pa.table({"bill_id": ["B1"], "customer_id": ["C1"]}))
    staged.write_table("work_orders", pa.table({"order_id": ["W1"], "order_type": ["complaint"]}))  # no customer
    commit_version(staged, {"sources": []})
    units = entity_units(tmp_path / "ds")
    assert units[("customer", "C1")] == "U7" and units[("meter", "M1")] == "U8" and units[("bill", "B1")] == "U7"
    assert not any(e == "work_order" for e, _ in units)


def test_migrations_match_models(store):
    """The alembic migrations create exactly what the ORM models declare."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.engine.connect() as con:
        ctx = MigrationContext.configure(con, opts={"version_table": "audit_alembic_version"})
        diff = compare_metadata(ctx, Base.metadata)
    if store.engine.dialect.name == "sqlite":  # SQLite ignores VARCHAR lengths; 0002 widens on PostgreSQL only
        diff = [d for d in diff if not (isinstance(d, list) and d[0][0] == "modify_type" and d[0][3] == "period")]
    assert diff == []


def test_duplicate_finding_written_meanwhile_is_a_conflict(store):
    """If another writer stored the same finding_id meanwhile, the unique key makes this command a Conflict
    (clear message, nothing saved) rather than a crash."""
    from gridaudit.audit.errors import Conflict
    from gridaudit.audit.models import Task

    add_people(store)
    with store.transaction() as s:
        create_plan(s, "lead", "2025-07", make_findings(2))
    cols = (
        "plan_id",
        "finding_id",
        "rule_id",
        "family",
        "severity",
        "entity_type",
        "entity_id",
        "priority",
        "state",
        "created_at",
        "updated_at",
    )
    with pytest.raises(Conflict, match="nothing of this command was saved"), store.transaction() as s:
        t = s.query(Task).first()
        s.add(Task(**{c: getattr(t, c) for c in cols}))
