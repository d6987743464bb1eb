import pyarrow as pa
from openpyxl import load_workbook

from gridaudit.audit import trail
from gridaudit.audit.demo import run_demo
from gridaudit.audit.models import Plan, Task
from gridaudit.audit.store import open_store
from gridaudit.contract import load_contract
from gridaudit.dataset import commit_version, stage_version
from gridaudit.findings import RunProvenance, append_run, findings_table


def _table(name, rows):
    schema = load_contract().table(name).arrow_schema()
    return pa.table({f.name: [r.get(f.name) for r in rows] for f in schema}, schema=schema)


def test_run_demo(tmp_path):
    customers = [
        dict(
            customer_id=f"C{i}",
            unit_id=f"U{i % 2}",
            category="residential",
            tariff_code="R1",
            voltage_kv=0.4,
            contract_kva=8.0,
            status="active",
        )
        for i in range(30)
    ]
    staged = stage_version(tmp_path / "ds")
    staged.write_table("customers", _table("customers", customers))
    commit_version(staged, {"sources": []})
    rows = [
        dict(
            rule_id="risk_theft",
            family="theft",
            severity="high",
            entity_type="customer",
            entity_id=f"C{i}",
            period="2024-05",
            score=i / 30,
            yuan_at_stake=10.0 * i,
            run_id="t",
        )
        for i in range(30)
    ]
    rows += [
        dict(
            rule_id="reading_missed",
            family="reading",
            severity="medium",
            entity_type="customer",
            entity_id="C3",
            period="2024-04",
            score=5.0,
            yuan_at_stake=1e5,
            responsible_staff_id="S9",
            run_id="t",
        )
    ]
    append_run(tmp_path / "ds", findings_table(rows), RunProvenance(analyzer="rules"))  # the demo reads the store
    loss = [
        dict(
            rule_id="loss_high",
            family="loss",
            severity="high",
            entity_type="area",
            entity_id="A1",
            period="2024-01..2024-05",
            score=4.0,
            yuan_at_stake=5e4,
            responsible_staff_id="S8",
            run_id="t",
        )
    ]
    append_run(tmp_path / "ds", findings_table(loss), RunProvenance(analyzer="loss"))
    run_demo(tmp_path / "ds", tmp_path, top=10)
    run_demo(tmp_path / "ds", tmp_path, top=10)  # re-runnable: replaces its own store
    store = open_store(tmp_path / "audit")
    try:
        with store.transaction() as s:
            plans = s.query(Plan).all()
            assert [(p.month, p.kind) for p in plans] == [("2024-06", "comprehensive")]
            tasks = s.query(Task).all()
            assert len(tasks) == 10
            assert {t.unit_id for t in tasks if t.entity_type == "customer"} <= {"U0", "U1"}
            states = sorted(t.state for t in tasks)
            assert states.count("closed") == 3 and states.count("new") == 7
            c3 = next(t for t in tasks if t.entity_id == "C3")
            assert (c3.rule_id, c3.state) == ("reading_missed", "closed")
            assert any(t.period == "2024-01..2024-05" for t in tasks)
            assert trail.verify_log(s)[1] == []
    finally:
        store.dispose()
    wb = load_workbook(tmp_path / "audit" / "audit-2024-06.xlsx", read_only=True)
    assert len(list(wb[wb.sheetnames[1]].iter_rows())) == 12  # the tasks: header, 10 tasks, totals
    assert (tmp_path / "audit" / "inspections.csv").read_text().count("theft") >= 1
