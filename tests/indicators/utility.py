"""A small utility built in code for the indicator tests, with its raw rows kept for independent checks.

Tree: U0 (company) → U1 (county) → U11, U12 (stations); U0 → U2 (county) → U21 (station).
Feeders F1 (U11), F2 (U12), F3 (U21). Areas: A1, A2 on F1 (manager M1), A3 on F2 (M2), A4, A5 on F3
(A4: M2, A5: M3). Months 2025-02 and 2025-03. Area loss rates are set by the area-total meter: A1 5 %
(normal), A2 15 % (high), A3 −2 % (negative), A4 8 % (watch), A5 has no area-total meter (not computable).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from gridaudit.dataset import commit_version, stage_version

UNITS = [
    {"unit_id": "U0", "name": "市公司", "parent_id": None, "level": "company"},
    {"unit_id": "U1", "name": "一县", "parent_id": "U0", "level": "county"},
    {"unit_id": "U2", "name": "二县", "parent_id": "U0", "level": "county"},
    {"unit_id": "U11", "name": "甲所", "parent_id": "U1", "level": "station"},
    {"unit_id": "U12", "name": "乙所", "parent_id": "U1", "level": "station"},
    {"unit_id": "U21", "name": "丙所", "parent_id": "U2", "level": "station"},
]
FEEDERS = [
    {"feeder_id": "F1", "unit_id": "U11", "voltage_kv": 10.0},
    {"feeder_id": "F2", "unit_id": "U12", "voltage_kv": 10.0},
    {"feeder_id": "F3", "unit_id": "U21", "voltage_kv": 10.0},
]
AREA_LOSS = {"A1": 0.05, "A2": 0.15, "A3": -0.02, "A4": 0.08, "A5": None}
AREAS = [
    {"area_id": "A1", "feeder_id": "F1", "unit_id": "U11", "manager_id": "M1"},
    {"area_id": "A2", "feeder_id": "F1", "unit_id": "U11", "manager_id": "M1"},
    {"area_id": "A3", "feeder_id": "F2", "unit_id": "U12", "manager_id": "M2"},
    {"area_id": "A4", "feeder_id": "F3", "unit_id": "U21", "manager_id": "M2"},
    {"area_id": "A5", "feeder_id": "F3", "unit_id": "U21", "manager_id": "M3"},
]
READER = {"A1": "R1", "A2": "R1", "A3": "R2", "A4": "R3", "A5": "R3"}
CLERK = {"U11": "K1", "U12": "K1", "U21": "K2"}
STAFF = [
    {"staff_id": s, "unit_id": u, "role": r, "name": s}
    for s, u, r in [
        ("R1", "U11", "reader"), ("R2", "U12", "reader"), ("R3", "U21", "reader"), ("K1", "U11", "clerk"),
        ("K2", "U21", "clerk"), ("M1", "U11", "area_manager"), ("M2", "U12", "area_manager"),
        ("M3", "U21", "area_manager"), ("H1", "U11", "clerk"),
    ]
]  # fmt: skip
MONTHS = ("2025-02", "2025-03")
CLOSED = "C_A1_3"  # closed customer: no data at all
NO_AMI = "C_A5_2"  # no daily data in 2025-03
GAPPY = "C_A4_1"  # misses 2 days of 2025-03
MISSED = "C_A3_1"  # no reading in 2025-03
ESTIMATED = {("C_A1_1", "2025-03"), ("C_A2_2", "2025-03"), ("C_A4_2", "2025-02")}
KWH = 10.0  # per customer and day


def days_of(month: str) -> list[date]:
    """Every day of ``month``."""
    first = date(int(month[:4]), int(month[5:]), 1)
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return [first + timedelta(days=i) for i in range((nxt - first).days)]


def build(root: Path) -> dict[str, list[dict]]:
    """Write the dataset to ``root``; returns its tables as lists of rows."""
    customers, meters, usage, readings, bills = [], [], [], [], []
    for a in AREAS:
        for k in (1, 2, 3):
            cid = f"C_{a['area_id']}_{k}"
            closed = cid == CLOSED
            customers.append({
                "customer_id": cid, "unit_id": a["unit_id"], "category": "residential", "tariff_code": "R1",
                "voltage_kv": 0.4, "contract_kva": 8.0, "status": "closed" if closed else "active",
                "area_id": a["area_id"], "feeder_id": a["feeder_id"], "reader_id": READER[a["area_id"]],
                "closed_on": date(2024, 12, 31) if closed else None,
            })  # fmt: skip
            meters.append({"meter_id": "M" + cid, "role": "customer", "multiplier": 1.0, "customer_id": cid})
    active = [c for c in customers if c["status"] == "active"]
    for month in MONTHS:
        for c in active:
            cid = c["customer_id"]
            for i, d in enumerate(days_of(month)):
                if month == "2025-03" and (cid == NO_AMI or (cid == GAPPY and i in (3, 4))):
                    continue
                usage.append({"meter_id": "M" + cid, "day": d, "kwh": KWH})
            if not (month == "2025-03" and cid == MISSED):
                readings.append({
                    "meter_id": "M" + cid, "period": month, "read_on": days_of(month)[24], "reading": 100.0,
                    "read_type": "estimated" if (cid, month) in ESTIMATED else "ami", "reader_id": c["reader_id"],
                })  # fmt: skip
            bills.append({
                "bill_id": f"B_{cid}_{month}", "customer_id": cid, "period": month, "kwh": 300.0,
                "tariff_code": "R1", "amount_yuan": 150.0, "clerk_id": CLERK[c["unit_id"]],
            })  # fmt: skip
        for a in AREAS:
            loss = AREA_LOSS[a["area_id"]]
            if loss is None:
                continue
            meters.append({"meter_id": "MT_" + a["area_id"], "role": "area_total", "multiplier": 1.0,
                           "area_id": a["area_id"]}) if month == MONTHS[0] else None  # fmt: skip
            n = sum(1 for c in active if c["area_id"] == a["area_id"])
            for d in days_of(month):
                usage.append({"meter_id": "MT_" + a["area_id"], "day": d, "kwh": round(n * KWH / (1 - loss), 4)})
        for f in FEEDERS:
            if month == MONTHS[0]:
                meters.append({"meter_id": "MF_" + f["feeder_id"], "role": "feeder_head", "multiplier": 1.0,
                               "feeder_id": f["feeder_id"]})  # fmt: skip
            for d in days_of(month):
                into = sum(
                    u["kwh"] for u in usage if u["day"] == d and u["meter_id"] in
                    {"MT_" + a["area_id"] for a in AREAS if a["feeder_id"] == f["feeder_id"]}
                )  # fmt: skip
                a5 = sum(KWH for c in active if c["area_id"] == "A5") if f["feeder_id"] == "F3" else 0.0
                usage.append({"meter_id": "MF_" + f["feeder_id"], "day": d, "kwh": round((into + a5) * 1.03, 4)})
    # connection orders: (id, type, accepted, customer, kV, supply, {step: finished}, handler of energizing)
    orders = [
        # plan reply 2 working days, energizing 3 after completion and contract: within every limit
        (
            "O1",
            "new_connection",
            datetime(2025, 3, 3, 9),
            "C_A1_1",
            0.4,
            None,
            {
                "plan_replied": datetime(2025, 3, 5, 9),
                "completion_checked": datetime(2025, 3, 6, 9),
                "contract_signed": datetime(2025, 3, 6, 15),
                "energized": datetime(2025, 3, 11, 10),
            },
            "H1",
        ),
        # energizing 7 working days after completion (limit 5): late
        (
            "O2",
            "new_connection",
            datetime(2025, 2, 20, 9),
            "C_A3_2",
            0.4,
            None,
            {
                "plan_replied": datetime(2025, 3, 5, 9),
                "completion_checked": datetime(2025, 3, 3, 9),
                "contract_signed": datetime(2025, 3, 3, 9),
                "energized": datetime(2025, 3, 12, 10),
            },
            "H1",
        ),
        # dual supply across the Spring Festival: the plan reply's working days skip the holiday, keep the 调休
        (
            "O3",
            "capacity_increase",
            datetime(2025, 1, 20, 9),
            "C_A4_3",
            10.0,
            "dual",
            {
                "plan_replied": datetime(2025, 2, 25, 9),
                "completion_checked": datetime(2025, 3, 5, 9),
                "contract_signed": datetime(2025, 3, 4, 9),
                "energized": datetime(2025, 3, 10, 10),
            },
            "K2",
        ),
        # energized in February: not the month assessed
        (
            "O4",
            "new_connection",
            datetime(2025, 2, 1, 9),
            "C_A2_1",
            0.4,
            None,
            {"plan_replied": datetime(2025, 2, 5, 9), "energized": datetime(2025, 2, 10, 10)},
            "H1",
        ),
        # not a connection order
        ("O5", "closure", datetime(2025, 3, 1, 9), "C_A2_3", 0.4, None, {"energized": datetime(2025, 3, 30, 10)}, "H1"),
        # a single-supply plan reply of 16 working days (limit 15): late
        (
            "O6",
            "new_connection",
            datetime(2025, 2, 17, 9),
            "C_A2_2",
            0.4,
            None,
            {"plan_replied": datetime(2025, 3, 11, 9), "energized": datetime(2025, 3, 20, 10)},
            "H1",
        ),
        # no step with a start (energizing without completion or contract): cannot be timed, not counted
        (
            "O7",
            "new_connection",
            datetime(2025, 3, 3, 9),
            "C_A1_2",
            0.4,
            None,
            {"energized": datetime(2025, 3, 21, 10)},
            "H1",
        ),
    ]
    work_orders = [
        {"order_id": o, "order_type": t, "accepted_at": acc, "customer_id": c, "voltage_kv": kv, "supply": sup}
        for o, t, acc, c, kv, sup, _, _ in orders
    ]
    steps = [
        {"order_id": o, "step": step, "finished_at": fin, "handler_id": h if step == "energized" else "P1"}
        for o, _, _, _, _, _, done, h in orders
        for step, fin in done.items()
    ]
    tables = {
        "units": UNITS, "feeders": FEEDERS, "areas": AREAS, "staff": STAFF, "customers": customers,
        "meters": meters, "daily_usage": usage, "readings": readings, "bills": bills,
        "work_orders": work_orders, "work_order_steps": steps,
    }  # fmt: skip
    stage = stage_version(root)
    schemas = {
        "meters": pa.schema([("meter_id", pa.string()), ("role", pa.string()), ("multiplier", pa.float64()),
                             ("customer_id", pa.string()), ("area_id", pa.string()), ("feeder_id", pa.string()),
                             ("installed_on", pa.date32()), ("removed_on", pa.date32())]),
        "customers": None,
    }  # fmt: skip
    for name, rows in tables.items():
        schema = schemas.get(name)
        stage.write_table(name, pa.Table.from_pylist(rows, schema=schema) if schema else pa.Table.from_pylist(rows))
    commit_version(stage, {"sources": []})
    return tables
