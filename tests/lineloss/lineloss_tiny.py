"""A tiny utility built in code: 2 stations, 2 feeders, 4 areas, ~45 customers, 90 days.

Injected (and returned as ``truth``):
* a thief in A2 (metered use falls to 20 % from day 45; the stolen energy stays in A2's supply),
* a mapping error: customer C_MAP is fed from A3 but recorded on A1 (A1 goes negative, A3 high),
* a customer in A4 with no AMI data for days 10–14 (coverage below 95 % on those days),
* a customer fed directly from feeder F1 at 10 kV (multiplier 40),
* billing: customers read on the 25th, area/feeder meters on the 1st; one estimated read; one unbilled customer.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gridaudit.dataset import commit_version, open_dataset, stage_version

START = date(2025, 1, 1)
DAYS = 90
AREAS = {"A1": ("F1", "U1"), "A2": ("F1", "U1"), "A3": ("F1", "U1"), "A4": ("F2", "U2")}
THIEF, MAPPED, GAPPY, DIRECT, UNBILLED, ESTIMATED = "C_A2_03", "C_MAP", "C_A4_05", "C_DIR", "C_A3_07", "C_A1_02"


def build_tiny(root: Path, seed: int = 7, mapping_error: bool = True) -> dict:
    """Write the tiny dataset to ``root`` and return what was injected."""
    rng = np.random.default_rng(seed)
    days = [START + timedelta(days=i) for i in range(DAYS)]
    t = np.arange(DAYS)
    weather = 1.0 + 0.25 * np.sin(2 * np.pi * t / 30.0) + 0.1 * rng.standard_normal(DAYS)

    customers, meters, usage = [], [], []  # usage: (meter_id, day_index, register kwh)
    true_load = {a: np.zeros(DAYS) for a in AREAS}
    feeder_direct = {"F1": np.zeros(DAYS), "F2": np.zeros(DAYS)}

    def add_customer(cid: str, area: str | None, feeder: str, unit: str, base: float, mult: float, kv: float) -> None:
        own = np.clip(base * weather * (1 + 0.3 * rng.standard_normal(DAYS)), 0.05, None)
        metered = own.copy()
        if cid == THIEF:
            metered[45:] *= 0.2
        customers.append(
            {
                "customer_id": cid,
                "unit_id": unit,
                "category": "residential" if mult == 1 else "industrial",
                "tariff_code": "R1" if mult == 1 else "I1",
                "voltage_kv": kv,
                "contract_kva": 8.0 if mult == 1 else 400.0,
                "status": "active",
                "area_id": "A1" if cid == MAPPED and mapping_error else area,
                "feeder_id": feeder,
            }
        )
        meters.append({"meter_id": "M" + cid, "role": "customer", "multiplier": mult, "customer_id": cid})
        for i in range(DAYS):
            if cid == GAPPY and 10 <= i < 15:
                continue
            usage.append(("M" + cid, i, round(float(metered[i]) / mult, 4)))
        if area is None:
            feeder_direct[feeder] += np.round(metered / mult, 4) * mult
        else:
            true_load[area] += own

    for area, (feeder, unit) in AREAS.items():
        for k in range(10):
            add_customer(f"C_{area}_{k:02d}", area, feeder, unit, 6.0 + 4 * rng.random(), 1.0, 0.4)
    add_customer(MAPPED, "A3", "F1", "U1", 14.0, 1.0, 0.4)  # fed from A3, recorded on A1
    add_customer(DIRECT, None, "F1", "U1", 25.0, 40.0, 10.0)

    area_supply = {}
    for area in AREAS:
        load = true_load[area]
        area_supply[area] = load * 1.03 + 0.0004 * load**2  # technical loss: fixed + quadratic
        meters.append({"meter_id": "MT_" + area, "role": "area_total", "multiplier": 80.0, "area_id": area})
        for i in range(DAYS):
            usage.append(("MT_" + area, i, round(float(area_supply[area][i]) / 80.0, 4)))
    for feeder in ("F1", "F2"):
        into_areas = sum(np.round(area_supply[a] / 80.0, 4) * 80.0 for a, (f, _) in AREAS.items() if f == feeder)
        head = (into_areas + feeder_direct[feeder]) * 1.02
        meters.append({"meter_id": "MF_" + feeder, "role": "feeder_head", "multiplier": 1000.0, "feeder_id": feeder})
        for i in range(DAYS):
            usage.append(("MF_" + feeder, i, round(float(head[i]) / 1000.0, 6)))

    stage = stage_version(root)
    stage.write_table(
        "units",
        pa.Table.from_pylist(
            [
                {"unit_id": "U0", "name": "County", "parent_id": None},
                {"unit_id": "U1", "name": "S1", "parent_id": "U0"},
                {"unit_id": "U2", "name": "S2", "parent_id": "U0"},
            ]
        ),
    )
    stage.write_table(
        "feeders",
        pa.Table.from_pylist(
            [
                {"feeder_id": "F1", "unit_id": "U1", "voltage_kv": 10.0},
                {"feeder_id": "F2", "unit_id": "U2", "voltage_kv": 10.0},
            ]
        ),
    )
    stage.write_table(
        "areas",
        pa.Table.from_pylist(
            [
                {
                    "area_id": a,
                    "feeder_id": f,
                    "unit_id": u,
                    "transformer_kva": 200.0,
                    "no_load_loss_kw": 0.24,
                    "load_loss_kw": 2.6,
                }
                for a, (f, u) in AREAS.items()
            ]
        ),
    )
    stage.write_table("customers", pa.Table.from_pylist(customers))
    mschema = pa.schema(
        [
            ("meter_id", pa.string()),
            ("role", pa.string()),
            ("multiplier", pa.float64()),
            ("customer_id", pa.string()),
            ("area_id", pa.string()),
            ("feeder_id", pa.string()),
            ("installed_on", pa.date32()),
            ("removed_on", pa.date32()),
        ]
    )
    stage.write_table("meters", pa.Table.from_pylist(meters, schema=mschema))
    du = pa.table(
        {
            "meter_id": [u[0] for u in usage],
            "day": pa.array([days[u[1]] for u in usage], pa.date32()),
            "kwh": pa.array([u[2] for u in usage], pa.float64()),
        }
    )
    stage.write_table("daily_usage", du)
    stage.write_table("readings", _readings(usage, days, meters))
    stage.write_table("bills", _bills(stage.path / "readings.parquet", meters))
    stage.write_table(
        "meter_events",
        pa.table(
            {
                "meter_id": ["M" + THIEF, "M" + THIEF],
                "ts": pa.array([datetime(2025, 2, 14, 3), datetime(2025, 2, 16, 9)], pa.timestamp("s")),
                "event_type": ["cover_open", "current_loss"],
            }
        ),
    )
    commit_version(stage, {"sources": ["tests/lineloss tiny"]})
    return {
        "thief": THIEF,
        "mapped": MAPPED,
        "mapped_true_area": "A3",
        "mapped_recorded_area": "A1",
        "gappy": GAPPY,
        "direct": DIRECT,
        "unbilled": UNBILLED,
        "estimated": ESTIMATED,
    }


def _readings(usage: list, days: list[date], meters: list[dict]) -> pa.Table:
    """Register readings: cumulative register at 00:00 of the read day (customers on the 25th, others on the 1st)."""
    per: dict[str, np.ndarray] = {}
    for mid, i, k in usage:
        per.setdefault(mid, np.zeros(DAYS))[i] = k
    rows = []
    for m in meters:
        mid = m["meter_id"]
        cum = np.concatenate([[0.0], np.cumsum(per.get(mid, np.zeros(DAYS)))]) + 1000.0
        read_days = (
            [date(2025, 1, 25), date(2025, 2, 25)]
            if m["role"] == "customer"
            else [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]
        )
        if m["role"] == "customer":
            read_days = [date(2024, 12, 25)] + read_days
        for rd in read_days:
            idx = max(0, (rd - START).days)
            value = float(cum[min(idx, DAYS)])
            rtype = "ami"
            if mid == "M" + ESTIMATED and rd == date(2025, 2, 25):
                value += 60.0
                rtype = "estimated"
            period = rd.strftime("%Y-%m") if m["role"] == "customer" else (rd - timedelta(days=1)).strftime("%Y-%m")
            rows.append(
                {"meter_id": mid, "period": period, "read_on": rd, "reading": round(value, 4), "read_type": rtype}
            )
    return pa.Table.from_pylist(rows)


def _bills(readings_path: Path, meters: list[dict]) -> pa.Table:
    import pyarrow.parquet as pq

    r = pq.read_table(readings_path).to_pylist()
    mult = {m["meter_id"]: (m["multiplier"], m.get("customer_id")) for m in meters if m["role"] == "customer"}
    by: dict[str, list] = {}
    for row in sorted(r, key=lambda x: (x["meter_id"], x["read_on"])):
        by.setdefault(row["meter_id"], []).append(row)
    bills = []
    for mid, rows in by.items():
        if mid not in mult:
            continue
        m, cid = mult[mid]
        if cid == UNBILLED:
            continue
        for prev, cur in zip(rows, rows[1:], strict=False):
            kwh = round((cur["reading"] - prev["reading"]) * m, 3)
            bills.append(
                {
                    "bill_id": f"B{cid}{cur['period']}",
                    "customer_id": cid,
                    "period": cur["period"],
                    "kwh": kwh,
                    "tariff_code": "R1",
                    "amount_yuan": round(kwh * 0.5, 2),
                }
            )
    return pa.Table.from_pylist(bills)


def derive(src_root: Path, dst_root: Path, replace: dict[str, pa.Table]) -> Path:
    """A copy of the dataset at ``src_root`` in ``dst_root`` with some tables replaced or added."""
    from gridaudit.dataset import open_dataset

    src = open_dataset(src_root)
    stage = stage_version(dst_root)
    for t in src.tables():
        if t not in replace:
            stage.write_table(t, src.read(t))
    for t, table in replace.items():
        stage.write_table(t, table)
    commit_version(stage, {"sources": [f"derived from {src_root}"]})
    return dst_root


def without_days(src_root: Path, dst: Path, meters: list[str], days: list[date]) -> Path:
    """A copy of the dataset at ``src_root`` with the daily_usage rows of ``meters`` on ``days`` removed."""
    src = open_dataset(src_root)
    st = stage_version(dst)
    gone = pa.array(days, pa.date32())
    for t in src.tables():
        tab = src.read(t)
        if t == "daily_usage":
            drop = pc.and_(pc.is_in(tab["meter_id"], value_set=pa.array(meters)), pc.is_in(tab["day"], value_set=gone))
            tab = tab.filter(pc.invert(drop))
        st.write_table(t, tab)
    commit_version(st, {"sources": ["test"]})
    return dst
