"""The automatic data re-check runs the finding's real rule (gridaudit.rules) on the later period."""

from datetime import date

import pyarrow as pa
import pytest

from gridaudit.audit import actions
from gridaudit.audit.errors import AuditError
from gridaudit.audit.models import Task
from gridaudit.audit.plans import create_plan
from gridaudit.audit.recheck import recheck_finding
from gridaudit.contract import load_contract
from gridaudit.dataset import commit_version, stage_version
from gridaudit.findings import findings_table

from .conftest import add_people


def _table(name, rows):
    schema = load_contract().table(name).arrow_schema()
    cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
    return pa.table(cols, schema=schema)


@pytest.fixture
def missed_reads_dataset(tmp_path):
    """M1 and M2 had no reading in 2025-06; M1 was read in 2025-07 (fixed), M2 still not (recurs)."""
    customers = [
        dict(
            customer_id=c,
            unit_id="U1",
            category="residential",
            tariff_code="R1",
            voltage_kv=0.4,
            contract_kva=8.0,
            status="active",
            reader_id="S01",
        )
        for c in ("C1", "C2", "C3")
    ]
    meters = [
        dict(meter_id=m, role="customer", multiplier=1.0, customer_id=c)
        for m, c in (("M1", "C1"), ("M2", "C2"), ("M3", "C3"))
    ]
    reads = [
        ("M3", "2025-06", date(2025, 6, 25)),
        ("M3", "2025-07", date(2025, 7, 25)),
        ("M1", "2025-07", date(2025, 7, 25)),
    ]
    readings = [
        dict(meter_id=m, period=p, read_on=d, reading=100.0, read_type="actual", reader_id="S01") for m, p, d in reads
    ]
    staged = stage_version(tmp_path / "ds")
    staged.write_table("customers", _table("customers", customers))
    staged.write_table("meters", _table("meters", meters))
    staged.write_table("readings", _table("readings", readings))
    commit_version(staged, {"sources": []})
    return tmp_path / "ds"


def _finding(meter):
    return dict(
        rule_id="reading_missed",
        family="reading",
        severity="medium",
        entity_type="meter",
        entity_id=meter,
        period="2025-06",
        score=1.0,
        responsible_staff_id="S01",
        run_id="t",
    )


def test_recheck_with_the_real_rule(missed_reads_dataset):
    pytest.importorskip("gridaudit.rules.runner")
    fixed = Task(rule_id="reading_missed", entity_type="meter", entity_id="M1", period="2025-06")
    still = Task(rule_id="reading_missed", entity_type="meter", entity_id="M2", period="2025-06")
    assert recheck_finding(fixed, missed_reads_dataset, "2025-07").status == "clear"
    res = recheck_finding(still, missed_reads_dataset, "2025-07")
    assert res.status == "recurs" and "M2" in res.detail
    unknown = Task(rule_id="no_such_rule", entity_type="meter", entity_id="M2", period="2025-06")
    assert recheck_finding(unknown, missed_reads_dataset, "2025-07").status == "unavailable"
    same = recheck_finding(still, missed_reads_dataset, "2025-06")
    assert same.status == "unavailable" and "not after" in same.detail


def test_verify_refuses_accept_when_the_rule_still_fires(store, missed_reads_dataset):
    pytest.importorskip("gridaudit.rules.runner")
    add_people(store)
    with store.transaction() as s:
        tasks = create_plan(s, "lead", "2025-07", findings_table([_finding("M1"), _finding("M2")])).tasks
        ids = {t.entity_id: t.task_id for t in tasks}
    for tid in ids.values():
        for step in (
            lambda s, t=tid: actions.assign(s, "li", t, "zhang"),
            lambda s, t=tid: actions.record_result(s, "zhang", t, "irregular", "desk"),
            lambda s, t=tid: actions.rectify(s, "li", t, "zhou", 5),
            lambda s, t=tid: actions.reply(s, "zhou", t, "补抄完成"),
        ):
            with store.transaction() as s:
                step(s)

    def check(task):
        return recheck_finding(task, missed_reads_dataset, "2025-07")

    with pytest.raises(AuditError, match="recurs"), store.transaction() as s:
        actions.verify(s, "li", ids["M2"], accept=True, recheck=check)
    with store.transaction() as s:
        v = actions.verify(s, "li", ids["M1"], accept=True, recheck=check)
        assert v.recheck_status == "clear"
        assert s.get(Task, ids["M1"]).state == "verified"
        assert s.get(Task, ids["M2"]).state == "replied"


def test_injected_runner_is_used(tmp_path):
    task = Task(rule_id="r1", entity_type="customer", entity_id="C9", period="2025-06")

    def runner(rule_id, dataset_dir, period):
        rows = [dict(entity_type="customer", entity_id="C9", period=period)] if rule_id == "r1" else []
        return rows, ""

    assert recheck_finding(task, tmp_path, "2025-08", runner=runner).status == "recurs"
    task.rule_id = "r2"
    assert recheck_finding(task, tmp_path, "2025-08", runner=runner).status == "clear"


def test_cli_verify_with_recheck_and_escalate(missed_reads_dataset, tmp_path):
    """SQLite only (the full CLI loop runs on both backends in test_audit_cli)."""
    pytest.importorskip("gridaudit.rules.runner")
    store_url = str(tmp_path / "cases.db")
    from gridaudit.findings import write_findings

    from .test_audit_cli import cli, setup_store

    setup_store(store_url, tmp_path)
    f = tmp_path / "missed.parquet"
    write_findings(findings_table([_finding("M1"), _finding("M2")]), f)
    cli(store_url, "plan", "create", "--month", "2025-07", "--findings", str(f), user="lead")
    for tid in ("1", "2"):
        cli(store_url, "tasks", "assign", tid, "--to", "zhang", user="li")
        cli(store_url, "tasks", "result", tid, "--outcome", "irregular", "--kind", "desk", user="zhang")
        cli(
            store_url,
            "tasks",
            "rectify",
            tid,
            "--responsible",
            "zhou",
            "--days",
            "3",
            "--today",
            "2025-08-01",
            user="li",
        )
    out = cli(store_url, "escalate", "--today", "2025-08-11", user="li")
    assert "escalated 2" in out and "escalated to mgr" in out
    out = cli(store_url, "tasks", "list", "--overdue", "--today", "2025-08-11", user="li")
    assert "2 rows" in out
    for tid in ("1", "2"):
        cli(store_url, "tasks", "reply", tid, "--text", "补抄完成", "--today", "2025-08-12", user="zhou")
    # a re-check period not after the finding's (2025-06) is refused, not accepted as "unavailable"
    out = cli(
        store_url, "tasks", "verify", "1", "--accept", "--dataset", str(missed_reads_dataset), "--period", "2025-06",
        user="li", code=2,
    )  # fmt: skip
    assert "the re-check --period 2025-06 must be after the finding's period 2025-06" in out
    assert "replied" in cli(store_url, "tasks", "show", "1", user="li")  # nothing moved
    results = {}
    for tid in ("1", "2"):
        res = cli(
            store_url,
            "tasks",
            "verify",
            tid,
            "--accept",
            "--dataset",
            str(missed_reads_dataset),
            "--period",
            "2025-07",
            user="li",
            code=None,
        )
        results[tid] = res
    # exactly one of the two meters (M2) still has no reading in 2025-07: its reply cannot be accepted
    assert sorted("recurs" in r for r in results.values()) == [False, True]
    assert any("data re-check: clear" in r for r in results.values())
    out = cli(store_url, "tasks", "verify", "1", "--accept", "--dataset", str(missed_reads_dataset), user="li", code=2)
    assert "needs both --dataset and --period" in out
