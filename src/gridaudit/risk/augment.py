"""Training-time augmentation: synthetic thefts on households inspected ``normal`` (after Jokar et al. 2016).

Real thefts are rare, so the model sees few positive rows. With ``augment_copies = N`` every household
inspected ``normal`` (on or before ``--until``) gives N extra *positive* rows: a copy of its own daily data up
to the day before its inspection, with one DOMAIN §6 attack (h1–h4 or a sustained drop, drawn by
:func:`gridaudit.risk.inject.apply_attack`) applied from a random start date for a random span of at least
``min_span_days``. The copy's features are taken as of the day before the inspection, like the real row's.

What it never does: use data on or after the inspection date (the copy is cut at the day before), use
households that were not inspected (the scored population), or move the peer index (copies are left out of
it). Copies are grouped with their source household in the out-of-fold folds, so a household and its attacked
copy never sit on opposite sides of a fold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from gridaudit.engines.duckdb import DuckDBEngine
from gridaudit.risk.features import Snapshot
from gridaudit.risk.inject import KINDS, InjectionSettings, apply_attack

AUG_SEP = "#aug"
"""Augmented ids are ``<source id>#aug<k>`` (customers and meters)."""


@dataclass
class Augmentation:
    """Extra training rows and the data their features are computed from."""

    snapshots: list[Snapshot]
    """One snapshot per augmented copy (as of the day before the source's inspection)."""
    sources: list[str]
    """The source customer of each snapshot (its fold group)."""
    daily: pa.Table
    """Attacked daily rows of the copies: meter_id, day, kwh (all days before the inspection)."""
    meters: pa.Table
    """Copy meters: meter_id (augmented), customer_id (augmented), src_meter_id."""
    customers: pa.Table
    """Copy customers: customer_id (augmented), src_customer_id."""
    kinds: list[str]
    """The attack applied to each copy (for reports)."""
    windows: list[tuple[date, date]]
    """First and last day of each copy's attack."""

    def __len__(self) -> int:
        return len(self.snapshots)


def empty_augmentation() -> Augmentation:
    """No augmented rows."""
    return Augmentation(
        [], [],
        pa.table({"meter_id": pa.array([], pa.string()), "day": pa.array([], pa.date32()),
                  "kwh": pa.array([], pa.float64())}),
        pa.table({"meter_id": pa.array([], pa.string()), "customer_id": pa.array([], pa.string()),
                  "src_meter_id": pa.array([], pa.string())}),
        pa.table({"customer_id": pa.array([], pa.string()), "src_customer_id": pa.array([], pa.string())}),
        [],
        [],
    )  # fmt: skip


def _source_daily(engine: DuckDBEngine, normals: pd.DataFrame) -> pd.DataFrame:
    """Daily rows of the normal-inspected customers' meters, strictly before each one's inspection."""
    src = pa.Table.from_pandas(normals[["customer_id", "inspected_on"]], preserve_index=False)
    engine.con.register("_aug_src", src)
    try:
        return engine.con.sql(
            "SELECT m.customer_id, d.meter_id, d.day, d.kwh FROM daily_usage d "
            "JOIN meters m ON m.meter_id = d.meter_id AND m.role = 'customer' "
            "JOIN _aug_src s ON s.customer_id = m.customer_id "
            "WHERE d.day < CAST(s.inspected_on AS DATE) AND d.kwh IS NOT NULL "
            "ORDER BY m.customer_id, d.meter_id, d.day"
        ).to_df()
    finally:
        engine.con.unregister("_aug_src")


def _attack_window(
    days: np.ndarray, as_of: date, rng: np.random.Generator, s: InjectionSettings, kind: str
) -> tuple[date, date] | None:
    """A random theft span inside the copy's history: start ≥ lead days in, ≥ min span before as_of."""
    first = pd.Timestamp(days.min()).date() + timedelta(days=s.lead_days)
    last_start = as_of - timedelta(days=s.min_span_days - 1)
    if last_start < first:
        return None
    start = first + timedelta(days=int(rng.integers(0, (last_start - first).days + 1)))
    if kind == "drop":
        return start, as_of
    room = (as_of - start).days
    end = start + timedelta(days=int(rng.integers(s.min_span_days - 1, room + 1)))
    return start, end


def build_augmentation(
    engine: DuckDBEngine,
    labels: pd.DataFrame,
    copies: int,
    seed: int,
    inject: InjectionSettings | None = None,
) -> Augmentation:
    """``copies`` attacked copies of every customer inspected normal (``labels`` rows with label 0)."""
    s = inject or InjectionSettings()
    normals = labels[labels["label"] == 0][["customer_id", "inspected_on"]].drop_duplicates("customer_id", keep="last")
    if copies <= 0 or normals.empty or "daily_usage" not in engine.tables():
        return empty_augmentation()
    src = _source_daily(engine, normals)
    if src.empty:
        return empty_augmentation()
    src["day"] = pd.to_datetime(src["day"]).dt.date
    inspected = dict(zip(normals["customer_id"].astype(str), normals["inspected_on"], strict=True))
    rng = np.random.default_rng(seed)
    snaps: list[Snapshot] = []
    sources: list[str] = []
    kinds: list[str] = []
    windows: list[tuple[date, date]] = []
    d_meter: list[np.ndarray] = []
    d_day: list[np.ndarray] = []
    d_kwh: list[np.ndarray] = []
    meters: list[tuple[str, str, str]] = []
    custs: list[tuple[str, str]] = []
    by_customer = src.groupby("customer_id", sort=True)
    for k in range(copies):
        for cid, g in by_customer:
            cid = str(cid)
            as_of = inspected[cid] - timedelta(days=1)
            kind = str(rng.choice(KINDS))
            window = _attack_window(g["day"].to_numpy(), as_of, rng, s, kind)
            if window is None:
                continue
            start, end = window
            aug_cid = f"{cid}{AUG_SEP}{k}"
            for mid, gm in g.groupby("meter_id", sort=True):
                days = gm["day"].to_numpy()
                kwh = gm["kwh"].to_numpy(dtype="float64").copy()
                inside = (days >= start) & (days <= end)
                before = days < start
                honest = float(kwh[before].mean()) if before.any() else float(kwh.mean())
                if inside.any():
                    kwh[inside] = apply_attack(kwh[inside], kind, rng, honest, s)
                aug_mid = f"{mid}{AUG_SEP}{k}"
                d_meter.append(np.full(len(days), aug_mid, dtype=object))
                d_day.append(days)
                d_kwh.append(kwh)
                meters.append((aug_mid, aug_cid, str(mid)))
            custs.append((aug_cid, cid))
            snaps.append(Snapshot(aug_cid, as_of, cid))
            sources.append(cid)
            kinds.append(kind)
            windows.append((start, end))
    if not snaps:
        return empty_augmentation()
    daily = pa.table(
        {
            "meter_id": pa.array(np.concatenate(d_meter), pa.string()),
            "day": pa.array(np.concatenate(d_day), pa.date32()),
            "kwh": pa.array(np.concatenate(d_kwh), pa.float64()),
        }
    )
    meter_t = pa.table(
        {
            "meter_id": pa.array([m[0] for m in meters], pa.string()),
            "customer_id": pa.array([m[1] for m in meters], pa.string()),
            "src_meter_id": pa.array([m[2] for m in meters], pa.string()),
        }
    )
    cust_t = pa.table(
        {"customer_id": pa.array([c[0] for c in custs], pa.string()),
         "src_customer_id": pa.array([c[1] for c in custs], pa.string())}
    )  # fmt: skip
    return Augmentation(snaps, sources, daily, meter_t, cust_t, kinds, windows)
