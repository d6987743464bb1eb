"""Assessment numbers on a scenario worked out by hand; the XLSX workbook; inspections written back."""

from datetime import date

import pyarrow as pa
import pytest
from openpyxl import load_workbook

from gridaudit.audit import actions
from gridaudit.audit.assess import assess
from gridaudit.audit.export import SHEET_TITLES, SHEETS, export_xlsx, inspection_rows, write_inspections_csv
from gridaudit.audit.penalties import calculate
from gridaudit.audit.penalties.book import book_penalty
from gridaudit.audit.plans import create_plan
from gridaudit.contract import load_contract
from gridaudit.dataset import commit_version, open_dataset, stage_version
from gridaudit.findings import findings_table

from .conftest import add_people, make_findings


def _table(name, rows):
    schema = load_contract().table(name).arrow_schema()
    return pa.table({f.name: [r.get(f.name) for r in rows] for f in schema}, schema=schema)


@pytest.fixture
def reads_dataset(tmp_path):
    customers = [
        dict(
            customer_id=f"C{i:03d}",
            unit_id="U1" if i < 3 else "U2",
            category="residential",
            tariff_code="R1",
            voltage_kv=0.4,
            contract_kva=8.0,
            status="active",
        )
        for i in range(6)
    ]
    meters = [dict(meter_id=f"M{i:03d}", role="customer", multiplier=1.0, customer_id=f"C{i:03d}") for i in range(6)]
    readings = [
        dict(
            meter_id="M001",
            period="2025-06",
            read_on=date(2025, 6, 1 + k % 28),
            reading=float(k),
            read_type="actual",
            reader_id="S01",
        )
        for k in range(300)
    ]
    readings += [
        dict(
            meter_id="M003",
            period="2025-06",
            read_on=date(2025, 6, 1 + k % 28),
            reading=float(k),
            read_type="actual",
            reader_id="S01",
        )
        for k in range(200)
    ]
    readings += [
        dict(
            meter_id="M003",
            period="2025-05",
            read_on=date(2025, 5, 2),
            reading=1.0,
            read_type="actual",
            reader_id="S01",
        )
    ]  # another period: not counted
    staged = stage_version(tmp_path / "ds")
    for name, rows in (("customers", customers), ("meters", meters), ("readings", readings)):
        staged.write_table(name, _table(name, rows))
    commit_version(staged, {"sources": []})
    return tmp_path / "ds"


def _step(store, fn):
    with store.transaction() as s:
        return fn(s)


def scenario(store):
    add_people(store)
    earlier = [r for r in make_findings(6, period="2025-04").to_pylist() if r["entity_id"] == "C001"]
    for r in earlier:
        r.pop("finding_id")
    old = _step(store, lambda s: create_plan(s, "lead", "2025-05", findings_table(earlier)).tasks[0].task_id)
    _step(store, lambda s: actions.cancel(s, "lead", old, "superseded"))
    tasks = _step(
        store, lambda s: {t.entity_id: t.task_id for t in create_plan(s, "lead", "2025-07", make_findings(6)).tasks}
    )
    for c in ("C000", "C001", "C003", "C005"):
        _step(store, lambda s, c=c: actions.assign(s, "li", tasks[c], "zhang"))
    _step(
        store,
        lambda s: actions.record_result(
            s,
            "zhang",
            tasks["C000"],
            "theft",
            recovered_kwh=5400,
            recovered_yuan=3000,
            violation_type="seal_broken",
            inspected_on=date(2025, 7, 3),
        ),
    )
    pen = calculate("theft", date(2024, 3, 1), capacity_kw=10, tariff_yuan_kwh=0.5)  # 1996 schedule
    _step(store, lambda s: book_penalty(s, "zhang", tasks["C000"], pen, date(2024, 3, 1)))
    for c in ("C001", "C003"):
        _step(store, lambda s, c=c: actions.record_result(s, "zhang", tasks[c], "irregular", "desk"))
    _step(store, lambda s: actions.record_result(s, "zhang", tasks["C005"], "normal", "desk"))
    _step(store, lambda s: actions.close(s, "li", tasks["C005"]))
    _step(store, lambda s: actions.rectify(s, "li", tasks["C001"], "zhou", 5, today=date(2025, 9, 29)))
    _step(store, lambda s: actions.rectify(s, "li", tasks["C003"], "zhou", 3, today=date(2025, 8, 1)))
    _step(store, lambda s: actions.escalate(s, "li", date(2025, 8, 8)))
    _step(store, lambda s: actions.reply(s, "zhou", tasks["C003"], "late", today=date(2025, 8, 11)))
    _step(store, lambda s: actions.reply(s, "zhou", tasks["C001"], "in time", today=date(2025, 10, 9)))
    for c in ("C001", "C003"):
        _step(store, lambda s, c=c: actions.verify(s, "li", tasks[c], accept=True))
    return tasks


def test_assessment_numbers(store, reads_dataset):
    scenario(store)
    with store.transaction() as s:
        rows = {(r.level, r.key): r for r in assess(s, "2025-07", reads_dataset, as_of=date(2025, 10, 31))}
    assert set(rows) == {("staff", "S01"), ("unit", "U1"), ("unit", "U2")}
    s01 = rows[("staff", "S01")]
    assert (s01.tasks, s01.confirmed, s01.by_family) == (3, 2, {"reading": 2})
    assert (s01.reads, s01.wrong_reads, s01.error_rate) == (500, 2, 4.0)
    assert (s01.rect_counted, s01.rect_on_time, s01.on_time_rate) == (2, 1, 0.5)
    assert (s01.repeats, s01.escalations) == (1, 1)
    u1 = rows[("unit", "U1")]
    assert (u1.tasks, u1.confirmed, u1.by_family) == (3, 2, {"theft": 1, "reading": 1})
    assert (u1.reads, u1.error_rate, u1.on_time_rate, u1.repeats) == (300, pytest.approx(3.333), 1.0, 1)
    # the booked penalty establishes the back-billing (10 kW × 180 d × 12 h at ¥0.5): it replaces the result's
    # estimate (5,400 kWh, ¥3,000) instead of adding to it; each yuan counts once
    assert (u1.backbill_kwh, u1.backbill_yuan, u1.penalty_yuan, u1.recovered_yuan) == (21600, 10800, 32400, 43200)
    u2 = rows[("unit", "U2")]
    assert (u2.confirmed, u2.reads, u2.error_rate, u2.on_time_rate, u2.escalations) == (1, 200, 5.0, 0.0, 1)
    with store.transaction() as s:  # without a dataset there are no reading counts
        assert all(r.reads is None and r.error_rate is None for r in assess(s, "2025-07"))


def test_xlsx_and_inspections(store, reads_dataset, tmp_path):
    tasks = scenario(store)
    out = tmp_path / "audit.xlsx"
    with store.transaction() as s:
        counts = export_xlsx(s, "2025-07", out, reads_dataset, as_of=date(2025, 10, 31))
        inspections = inspection_rows(s, "2025-07")
    assert counts == {"plan": 1, "tasks": 6, "results": 4, "rectifications": 2, "assessment": 3, "penalties": 1}
    wb = load_workbook(out, read_only=True)
    assert wb.sheetnames == [SHEET_TITLES[k][0] for k in SHEETS]
    pen = list(wb["违约用电处理"].iter_rows(values_only=True))
    assert pen[0][:3] == ("编号", "任务编号", "违约类型")
    assert pen[1][1] == tasks["C000"] and pen[1][7] == 32400 and "第一百零三条" in pen[1][9]
    assert pen[1][2] == "窃电" and pen[-1][0] == "合计（有效）"  # labels; the money in force totalled
    assert str(pen[-1][7]).startswith("=SUBTOTAL")
    cached = list(load_workbook(out, read_only=True, data_only=True)["违约用电处理"].iter_rows(values_only=True))
    assert cached[-1][7] == 32400
    head = next(wb["考核"].iter_rows(values_only=True))
    assert "按期整改率" in head and "每千抄差错率" in head
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # the temporary file is gone
    by_customer = {r["customer_id"]: r for r in inspections.to_pylist()}
    assert set(by_customer) == {"C000", "C001", "C003", "C005"}
    theft = by_customer["C000"]
    assert (theft["outcome"], theft["violation_type"], theft["recovered_kwh"], theft["penalty_yuan"]) == (
        "theft",
        "seal_broken",
        21600,
        32400,
    )
    assert theft["inspector_id"] == "S60" and theft["inspected_on"] == date(2025, 7, 3)
    assert inspections.schema == load_contract().table("inspections").arrow_schema()
    csv = tmp_path / "inspections.csv"
    write_inspections_csv(inspections, csv)
    assert csv.read_text().splitlines()[0].replace('"', "").startswith("inspection_id,customer_id,inspected_on")


def test_inspections_ingested_into_dataset(store, reads_dataset, tmp_path):
    ingest = pytest.importorskip("gridaudit.ingest").ingest
    scenario(store)
    with store.transaction() as s:
        table = inspection_rows(s)
    csv = tmp_path / "out" / "inspections.csv"
    write_inspections_csv(table, csv)
    ingest([csv], reads_dataset)
    got = open_dataset(reads_dataset).read("inspections")
    assert sorted(got.column("customer_id").to_pylist()) == ["C000", "C001", "C003", "C005"]
