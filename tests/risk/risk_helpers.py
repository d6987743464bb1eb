"""Tiny datasets built in code for the risk tests: households with a weekly rhythm and seasons, some stealing.

A module of its own (not conftest) so tests import it by a unique name."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from gridaudit.contract import load_contract
from gridaudit.dataset import commit_version, stage_version

START = date(2023, 1, 2)


def typed(table: str, columns: dict) -> pa.Table:
    """An Arrow table with the contract's types for the given columns."""
    schema = load_contract().table(table).arrow_schema()
    fields = [schema.field(name) for name in columns]
    return pa.table({name: pa.array(values, f.type) for (name, values), f in zip(columns.items(), fields, strict=True)})


def make_dataset(
    root: Path,
    n: int = 200,
    days: int = 420,
    seed: int = 1,
    theft_share: float = 0.2,
    inspected_share: float = 0.5,
    extras: bool = False,
) -> dict:
    """Write a dataset; return the thieves, the inspections and the theft start days."""
    rng = np.random.default_rng(seed)
    ids = [f"C{i:04d}" for i in range(n)]
    thieves = set(rng.choice(ids, size=int(n * theft_share), replace=False).tolist())
    t = np.arange(days)
    season = 1 + 0.25 * np.cos(2 * np.pi * t / 365.0)
    dow = np.array([(START + timedelta(days=int(d))).weekday() for d in t])
    meter_ids, day_col, kwh_col = [], [], []
    starts = {}
    for c in ids:
        level = rng.lognormal(2.0, 0.5)
        x = level * season * np.where(dow >= 5, 1.15, 1.0) * rng.lognormal(0, 0.25, days)
        if c in thieves:
            s0 = int(rng.integers(120, days - 60))
            starts[c] = s0
            x[s0:] *= rng.uniform(0.2, 0.5)
        keep = rng.random(days) > 0.02
        meter_ids += [f"M{c}"] * int(keep.sum())
        day_col += [START + timedelta(days=int(d)) for d in t[keep]]
        kwh_col += list(np.round(x[keep], 3))
    staged = stage_version(root)
    cats = ["residential"] * n
    areas = [f"A{i % 4}" for i in range(n)]
    staged.write_table(
        "customers",
        typed("customers", {"customer_id": ids, "unit_id": ["U1"] * n, "category": cats, "tariff_code": ["R1"] * n,
                            "voltage_kv": [0.4] * n, "contract_kva": [8.0] * n, "status": ["active"] * n,
                            "area_id": areas}),
    )  # fmt: skip
    staged.write_table(
        "meters",
        typed("meters", {"meter_id": [f"M{c}" for c in ids], "role": ["customer"] * n, "multiplier": [1.0] * n,
                         "customer_id": ids}),
    )  # fmt: skip
    staged.write_table("daily_usage", typed("daily_usage", {"meter_id": meter_ids, "day": day_col, "kwh": kwh_col}))
    inspected = sorted(rng.choice(ids, size=int(n * inspected_share), replace=False).tolist())
    insp_rows = []
    for i, c in enumerate(inspected):
        if c in thieves:
            d = START + timedelta(days=starts[c] + int(rng.integers(35, days - starts[c] + 1)))
            insp_rows.append((f"I{i:05d}", c, min(d, START + timedelta(days=days)), "theft"))
        else:
            insp_rows.append((f"I{i:05d}", c, START + timedelta(days=int(rng.integers(200, days))), "normal"))
    if inspected_share > 0:
        staged.write_table(
            "inspections",
            typed("inspections", {"inspection_id": [r[0] for r in insp_rows], "customer_id": [r[1] for r in insp_rows],
                                  "inspected_on": [r[2] for r in insp_rows], "outcome": [r[3] for r in insp_rows]}),
        )  # fmt: skip
    if extras:
        staged.write_table(
            "tariffs",
            typed("tariffs", {"tariff_code": ["R1"], "category": ["residential"], "price_yuan_kwh": [0.56],
                              "valid_from": [date(2020, 1, 1)]}),
        )  # fmt: skip
        ev_m = [f"M{c}" for c in sorted(thieves)][:10]
        staged.write_table(
            "meter_events",
            typed("meter_events", {"meter_id": ev_m,
                                   "ts": [np.datetime64(START + timedelta(days=starts[c[1:]]), "us") for c in ev_m],
                                   "event_type": ["cover_open"] * len(ev_m)}),
        )  # fmt: skip
    commit_version(staged, {"sources": ["tests/risk"]})
    return {"thieves": thieves, "inspections": insp_rows, "starts": starts, "ids": ids}
