"""A small utility built in code for the read models, with numbers a test can compute by hand.

Units U0 > U1, U2. Feeder F1 (U1) feeds area A1; feeder F2 (U2) feeds area A2. Customers C1 (multiplier 2,
reader S1) and C2 on A1, C3 on A2. 59 days, 2025-01-01 .. 2025-02-28: C1 reads 10 register kWh a day
(20 kWh of energy), C2 5, C3 8; A1's total meter sees 1.25 × its customers (loss 20 %), A2's 1.05 × (4.8 %).
A cover-open event on C1's meter on 2025-02-10. Findings: a theft finding on C1 (2025-02, ¥100), a risk
score on C1 (2025-02), a billing finding on C3 (U2, ¥20), a reading finding on C2 with S1 responsible (¥5).
Case store: users of several roles in U1 and U2, the units synced, a plan for 2025-02 with the four findings.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from gridaudit.dataset import commit_version, stage_version

START = date(2025, 1, 1)
DAYS = 59
CUSTOMERS = {
    "C1": ("A1", "F1", "U1", 2.0, 10.0),
    "C2": ("A1", "F1", "U1", 1.0, 5.0),
    "C3": ("A2", "F2", "U2", 1.0, 8.0),
}
AREA_FACTOR = {"A1": 1.25, "A2": 1.05}
FEEDER_FACTOR = 1.02


def energy(cid: str) -> float:
    """A customer's daily energy (register kWh × multiplier)."""
    _, _, _, mult, reg = CUSTOMERS[cid]
    return mult * reg


def area_sales(area: str) -> float:
    """An area's daily sales."""
    return sum(energy(c) for c, v in CUSTOMERS.items() if v[0] == area)


def build_dataset(root: Path) -> None:
    """Write the dataset to ``root``."""
    days = [START + timedelta(days=i) for i in range(DAYS)]
    stage = stage_version(root)
    stage.write_table(
        "units",
        pa.Table.from_pylist(
            [
                {"unit_id": "U0", "name": "县公司", "parent_id": None, "level": "county"},
                {"unit_id": "U1", "name": "城东供电所", "parent_id": "U0", "level": "station"},
                {"unit_id": "U2", "name": "城西供电所", "parent_id": "U0", "level": "station"},
            ]
        ),
    )
    stage.write_table(
        "feeders",
        pa.Table.from_pylist(
            [
                {"feeder_id": "F1", "unit_id": "U1", "voltage_kv": 10.0, "name": "东一线"},
                {"feeder_id": "F2", "unit_id": "U2", "voltage_kv": 10.0, "name": "西一线"},
            ]
        ),
    )
    stage.write_table(
        "areas",
        pa.Table.from_pylist(
            [
                {"area_id": "A1", "feeder_id": "F1", "unit_id": "U1", "name": "东街1号台区", "transformer_kva": 200.0,
                 "no_load_loss_kw": 0.2, "load_loss_kw": 2.0, "manager_id": "S1"},
                {"area_id": "A2", "feeder_id": "F2", "unit_id": "U2", "name": "西街台区", "transformer_kva": 100.0,
                 "no_load_loss_kw": 0.1, "load_loss_kw": 1.0, "manager_id": "S2"},
            ]
        ),
    )  # fmt: skip
    stage.write_table(
        "staff",
        pa.Table.from_pylist(
            [
                {"staff_id": "S1", "unit_id": "U1", "role": "reader", "name": "张三"},
                {"staff_id": "S2", "unit_id": "U2", "role": "reader", "name": "李四"},
            ]
        ),
    )
    stage.write_table(
        "customers",
        pa.Table.from_pylist(
            [
                {"customer_id": c, "unit_id": u, "category": "residential", "tariff_code": "R1", "voltage_kv": 0.4,
                 "contract_kva": 8.0, "status": "active", "area_id": a, "feeder_id": f, "name": f"用户{c}",
                 "reader_id": "S1" if u == "U1" else "S2"}
                for c, (a, f, u, _, _) in CUSTOMERS.items()
            ]
        ),
    )  # fmt: skip
    meters = [
        {"meter_id": "M" + c, "role": "customer", "multiplier": m, "customer_id": c, "area_id": None, "feeder_id": None,
         "verification_due": date(2030, 6, 30)}
        for c, (_, _, _, m, _) in CUSTOMERS.items()
    ]  # fmt: skip
    meters += [
        {"meter_id": "MT" + a, "role": "area_total", "multiplier": 10.0, "customer_id": None, "area_id": a,
         "feeder_id": None, "verification_due": None}
        for a in AREA_FACTOR
    ]  # fmt: skip
    meters += [
        {"meter_id": "MF" + f, "role": "feeder_head", "multiplier": 100.0, "customer_id": None, "area_id": None,
         "feeder_id": f, "verification_due": None}
        for f in ("F1", "F2")
    ]  # fmt: skip
    stage.write_table("meters", pa.Table.from_pylist(meters))
    mid, day, kwh, reg = [], [], [], []
    for i, d in enumerate(days):
        for c, (_, _, _, _, r) in CUSTOMERS.items():
            mid.append("M" + c)
            day.append(d)
            kwh.append(r)
            reg.append(1000.0 + r * (i + 1))
        for a, k in AREA_FACTOR.items():
            mid.append("MT" + a)
            day.append(d)
            kwh.append(area_sales(a) * k / 10.0)
            reg.append(None)
        for f, a in (("F1", "A1"), ("F2", "A2")):
            mid.append("MF" + f)
            day.append(d)
            kwh.append(area_sales(a) * AREA_FACTOR[a] * FEEDER_FACTOR / 100.0)
            reg.append(None)
    stage.write_table(
        "daily_usage",
        pa.table(
            {
                "meter_id": mid,
                "day": pa.array(day, pa.date32()),
                "kwh": pa.array(kwh, pa.float64()),
                "register": pa.array(reg, pa.float64()),
            }
        ),
    )
    stage.write_table(
        "meter_events",
        pa.table(
            {
                "meter_id": ["MC1"],
                "ts": pa.array([datetime(2025, 2, 10, 9, 30)], pa.timestamp("us")),
                "event_type": ["cover_open"],
                "ended_at": pa.array([None], pa.timestamp("us")),
                "detail": ["表盖打开"],
            }
        ),
    )
    # C1 read on 2025-01-25 (day index 24): AMI register 1000 + 10 × 25 = 1250; the reader wrote 1255
    stage.write_table(
        "readings",
        pa.Table.from_pylist(
            [
                {"meter_id": "MC1", "period": "2025-01", "read_on": date(2025, 1, 25), "reading": 1255.0,
                 "read_type": "actual", "reader_id": "S1"},
                {"meter_id": "MC2", "period": "2025-01", "read_on": date(2025, 1, 25), "reading": 1125.0,
                 "read_type": "actual", "reader_id": "S1"},
                {"meter_id": "MC3", "period": "2025-01", "read_on": date(2025, 1, 25), "reading": 1200.0,
                 "read_type": "actual", "reader_id": "S2"},
                {"meter_id": "MC2", "period": "2025-02", "read_on": date(2025, 2, 25), "reading": 1280.0,
                 "read_type": "estimated", "reader_id": "S1"},
            ]
        ),
    )  # fmt: skip
    stage.write_table(
        "bills",
        pa.Table.from_pylist(
            [{"bill_id": "B1", "customer_id": "C1", "period": "2025-01", "kwh": 500.0, "tariff_code": "R1",
              "amount_yuan": 260.0, "clerk_id": None, "issued_on": date(2025, 2, 1)}]
        ),
    )  # fmt: skip
    stage.write_table(
        "payments",
        pa.Table.from_pylist(
            [{"payment_id": "P1", "customer_id": "C1", "amount_yuan": 260.0, "paid_at": datetime(2025, 2, 5, 10, 0),
              "bill_id": "B1"}]
        ),
    )  # fmt: skip
    stage.write_table(
        "inspections",
        pa.Table.from_pylist(
            [{"inspection_id": "I1", "customer_id": "C1", "inspected_on": date(2024, 11, 3), "outcome": "normal",
              "inspector_id": "S2"}]
        ),
    )  # fmt: skip
    stage.write_table(
        "tariffs",
        pa.Table.from_pylist(
            [{"tariff_code": "R1", "category": "residential", "price_yuan_kwh": 0.52, "valid_from": date(2020, 1, 1)}]
        ),
    )  # fmt: skip
    commit_version(stage, {"sources": ["tests/views/views_data.py"]})


FINDINGS = [
    dict(rule_id="theft_sustained_drop_own_history", family="theft", severity="high", entity_type="customer",
         entity_id="C1", period="2025-02", score=0.9, kwh_at_stake=None, yuan_at_stake=100.0,
         responsible_staff_id=None, evidence={"note": "drop"}),
    dict(rule_id="theft_risk", family="theft", severity="critical", entity_type="customer", entity_id="C1",
         period="2025-02", score=0.95, kwh_at_stake=None, yuan_at_stake=None, responsible_staff_id=None,
         evidence={"rank": 1, "score": 0.95, "as_of": "2025-02-28", "explanation_zh": "近4周用电较自身中位下降80%",
                   "explanation_en": "use of the last 4 weeks 80% below its own median", "reasons": []}),
    dict(rule_id="billing_x", family="billing", severity="low", entity_type="customer", entity_id="C3",
         period="2025-02", score=0.2, kwh_at_stake=None, yuan_at_stake=20.0, responsible_staff_id="S2", evidence={}),
    dict(rule_id="reading_y", family="reading", severity="medium", entity_type="customer", entity_id="C2",
         period="2025-02", score=0.4, kwh_at_stake=None, yuan_at_stake=5.0, responsible_staff_id="S1", evidence={}),
]  # fmt: skip


def add_findings(root: Path) -> None:
    """Append the findings as one run of an analyzer ``rules``."""
    from gridaudit.findings import RunProvenance, append_run, findings_table

    append_run(root, findings_table([{**f, "run_id": None} for f in FINDINGS]), RunProvenance(analyzer="rules"))


PEOPLE = [
    ("admin", "admin", None, None, None),
    ("lead", "audit_lead", None, None, None),
    ("zhang", "inspector", "U1", "S9", None),
    ("sun", "inspector", "U2", "S8", None),
    ("mgr1", "manager", "U1", None, None),
    ("zhou", "responsible", "U1", "S1", "mgr1"),
    ("v2", "viewer", "U2", None, None),
]


def build_store(url: str, dataset: Path, attachments: Path):
    """A case store with the people, the dataset's units, and the plan of 2025-02 from the findings."""
    from gridaudit.audit.plans import create_plan, entity_units
    from gridaudit.audit.store import open_store
    from gridaudit.audit.units import read_dataset_units, sync_units
    from gridaudit.audit.users import add_user, get_user
    from gridaudit.findings import load_findings

    store = open_store(url, attachments, create=True)
    for uid, role, unit, staff, manager in PEOPLE:
        with store.transaction() as s:
            add_user(s, None if uid == "admin" else "admin", uid, uid.title(), role, unit, staff, manager)
    with store.transaction() as s:
        sync_units(s, get_user(s, "admin"), read_dataset_units(dataset), str(dataset))
    with store.transaction() as s:
        create_plan(s, "lead", "2025-02", load_findings(dataset), top=10, unit_map=entity_units(dataset))
    return store
