"""Write London (LCL) households with injected theft as a gridaudit dataset, half of them inspected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from gridaudit.contract import load_contract
from gridaudit.dataset import commit_version, stage_version
from gridaudit.risk.inject import InjectionSettings, inject_theft

LCL = next(
    (p / "shared" / "data" / "lcl" / "lcl_daily_dev.parquet" for p in Path(__file__).resolve().parents
     if (p / "shared" / "data" / "lcl" / "lcl_daily_dev.parquet").is_file()),
    Path("/work/shared/data/lcl/lcl_daily_dev.parquet"),
)  # fmt: skip
"""The development households (the first folder up from here holding shared/data/lcl; works from a worktree)."""
PRICE_YUAN_KWH = 0.56  # a typical residential tariff, for ¥ at stake


def _typed(table: str, frame: pd.DataFrame) -> pa.Table:
    schema = load_contract().table(table).arrow_schema()
    cols = [f for f in schema if f.name in frame.columns]
    return pa.Table.from_pandas(frame[[f.name for f in cols]], schema=pa.schema(cols), preserve_index=False)


def load_lcl(path: Path = LCL) -> pd.DataFrame:
    """The LCL daily frame: household_id, day, kwh."""
    df = pd.read_parquet(path, columns=["household_id", "day", "kwh"])
    df["day"] = pd.to_datetime(df["day"]).dt.date
    return df


def write_dataset(modified: pd.DataFrame, insp: pd.DataFrame, households: np.ndarray, out: Path, source: str) -> None:
    """Write households (one customer and one meter each), their daily use and the inspections at ``out``."""
    insp = insp.copy()
    insp["inspection_id"] = [f"I{i:06d}" for i in range(len(insp))]
    insp["inspected_on"] = pd.to_datetime(insp["inspected_on"]).dt.date
    customers = pd.DataFrame(
        {"customer_id": households, "unit_id": "LCL", "category": "residential", "tariff_code": "R1",
         "voltage_kv": 0.4, "contract_kva": 10.0, "status": "active"}
    )  # fmt: skip
    meters = pd.DataFrame(
        {"meter_id": "M" + households, "role": "customer", "multiplier": 1.0, "customer_id": households}
    )
    du = pd.DataFrame({"meter_id": "M" + modified["household_id"], "day": modified["day"], "kwh": modified["kwh"]})
    staged = stage_version(out)
    staged.write_table("customers", _typed("customers", customers))
    staged.write_table("meters", _typed("meters", meters))
    staged.write_table("daily_usage", _typed("daily_usage", du))
    staged.write_table("inspections", _typed("inspections", insp))
    commit_version(staged, {"sources": [source]})


def build(daily: pd.DataFrame, seed: int, out: Path, settings: InjectionSettings | None = None) -> dict:
    """Inject theft (seed), write the dataset at ``out``; return the held-out labels and the thefts."""
    rng = np.random.default_rng(seed)
    modified, thefts = inject_theft(daily, rng, settings)
    households = np.sort(modified["household_id"].unique())
    inspected = set(rng.choice(households, size=len(households) // 2, replace=False))
    span = modified.groupby("household_id")["day"].agg(["min", "max"])
    thief = thefts.set_index("household_id")
    rows = []
    theft_dates = []
    for hh in sorted(inspected & set(thief.index)):
        t = thief.loc[hh]
        room = max((span.loc[hh, "max"] - t["start"]).days + 1, 30)
        when = t["start"] + pd.Timedelta(days=int(rng.integers(30, room + 1)))
        theft_dates.append(when)
        rows.append({"customer_id": hh, "inspected_on": when, "outcome": "theft"})
    for hh in sorted(inspected - set(thief.index)):
        lo = span.loc[hh, "min"] + pd.Timedelta(days=60)
        hi = span.loc[hh, "max"] + pd.Timedelta(days=1)
        when = theft_dates[int(rng.integers(0, len(theft_dates)))] if theft_dates else hi
        when = min(max(when, lo), hi) if lo <= hi else hi
        rows.append({"customer_id": hh, "inspected_on": when, "outcome": "normal"})
    insp = pd.DataFrame(rows)
    write_dataset(modified, insp, households, out, f"LCL daily, theft injected with seed {seed}")
    held = np.array(sorted(set(households) - inspected))
    stolen = thief["stolen_kwh"].reindex(held).fillna(0.0).to_numpy()
    labels = pd.DataFrame(
        {"customer_id": held, "label": np.isin(held, thief.index).astype(int), "yuan": stolen * PRICE_YUAN_KWH}
    )
    return {"labels": labels, "thefts": thefts, "inspections": insp, "modified": modified}
