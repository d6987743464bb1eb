"""Training-time augmentation: synthetic thefts on households inspected ``normal`` (after Jokar et al. 2016).

Real thefts are rare, so the model sees few positive rows. With ``augment_copies = N`` every household
inspected ``normal`` (on or before ``--until``) gives N extra *positive* rows: a copy of its own daily data up
to the day before its inspection, with one DOMAIN §6 attack (h1–h4 or a sustained drop, drawn by
:func:`gridaudit.risk.inject.apply_attack`) applied from a random start date for a random span of at least
``min_span_days``. The copy's features are taken as of the day before the inspection, like the real row's.

What it never does: use data on or after the inspection date (the copy is cut at the day before), use
households that were not inspected (the scored population), or move the peer index (copies are left out of
it). Copies are grouped with their source household in the out-of-fold folds, so a household and its attacked
copy never sit on opposite sides of a fold. The attack models are those of :mod:`gridaudit.risk.inject`
(h1/drop x·α, h2 part of the day off, h3 γ_t·x_t, h4 γ_t·honest mean), drawn here for all copies at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from gridaudit.engines import Engine
from gridaudit.risk.inject import KINDS, InjectionSettings, attacked_use
from gridaudit.risk.snapshot import Snapshot

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


def _source_daily(engine: Engine, normals: pd.DataFrame) -> pd.DataFrame:
    """Daily rows of the normal-inspected customers' meters, strictly before each one's inspection."""
    src = pa.Table.from_pandas(normals[["customer_id", "inspected_on"]], preserve_index=False)
    engine.register_table("_aug_src", src)
    try:
        return engine.query(
            "SELECT m.customer_id, d.meter_id, d.day, d.kwh FROM daily_usage d "
            "JOIN meters m ON m.meter_id = d.meter_id AND m.role = 'customer' "
            "JOIN _aug_src s ON s.customer_id = m.customer_id "
            "WHERE d.day < CAST(s.inspected_on AS DATE) AND d.kwh IS NOT NULL "
            "ORDER BY m.customer_id, d.meter_id, d.day"
        ).to_pandas()
    finally:
        engine.drop_materialised("_aug_src")


def build_augmentation(
    engine: Engine,
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
    inspected = dict(zip(normals["customer_id"].astype(str), normals["inspected_on"], strict=True))
    src["customer_id"] = src["customer_id"].astype(str)
    src["meter_id"] = src["meter_id"].astype(str)
    day = pd.to_datetime(src["day"]).to_numpy("datetime64[D]").astype("int64")  # days since 1970
    kwh_src = src["kwh"].to_numpy(dtype="float64")
    cust_codes, cust_ids = pd.factorize(src["customer_id"], sort=True)
    n_c = len(cust_ids)
    first = np.full(n_c, np.iinfo(np.int64).max)
    np.minimum.at(first, cust_codes, day)
    as_of = np.array([np.datetime64(inspected[c], "D").astype("int64") - 1 for c in cust_ids])
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(copies):
        # per customer: attack kind, start (≥ lead days in, ≥ min span before as_of), end, depth α / window share
        kind = rng.integers(0, len(KINDS), n_c)
        lo = first + s.lead_days
        hi = as_of - (s.min_span_days - 1)
        ok = hi >= lo
        start = lo + np.floor(rng.random(n_c) * (np.maximum(hi - lo, 0) + 1)).astype("int64")
        room = as_of - start
        end = (
            start
            + (s.min_span_days - 1)
            + np.floor(rng.random(n_c) * (np.maximum(room - s.min_span_days + 1, 0) + 1)).astype("int64")  # noqa: E501
        )
        end = np.where(np.array(KINDS)[kind] == "drop", as_of, np.minimum(end, as_of))
        alpha = rng.uniform(s.alpha_low, s.alpha_high, n_c)
        off = rng.uniform(6, 20, n_c) / 24.0
        # every source row: inside its customer's window → attacked
        ck = cust_codes
        inside = ok[ck] & (day >= start[ck]) & (day <= end[ck])
        before = day < start[ck]
        # h4 uses the meter's honest mean before the start (all of its days when none precede it)
        mkey = pd.factorize(src["meter_id"])[0]
        sum_b = np.bincount(mkey, weights=np.where(before, kwh_src, 0.0))
        cnt_b = np.bincount(mkey, weights=before.astype("float64"))
        mean_all = np.bincount(mkey, weights=kwh_src) / np.maximum(np.bincount(mkey), 1)
        honest = np.where(cnt_b > 0, sum_b / np.maximum(cnt_b, 1), mean_all)[mkey]
        kn = np.array(KINDS)[kind][ck]
        g = rng.uniform(s.alpha_low, s.alpha_high, len(day))
        f = np.clip(off[ck] * rng.uniform(0.7, 1.3, len(day)), 0.0, 1.0)
        attacked = attacked_use(kn, kwh_src, alpha[ck], f, g, honest)
        kwh = np.where(inside, attacked, kwh_src)
        keep = ok[ck]
        suffix = f"{AUG_SEP}{k}"
        parts.append(
            {
                "meter": (src["meter_id"].to_numpy()[keep] + suffix),
                "src_meter": src["meter_id"].to_numpy()[keep],
                "cust": (src["customer_id"].to_numpy()[keep] + suffix),
                "day": day[keep],
                "kwh": kwh[keep],
                "copies": [
                    (
                        f"{cust_ids[i]}{suffix}",
                        str(cust_ids[i]),
                        KINDS[kind[i]],
                        *map(int, (start[i], end[i], as_of[i])),
                    )  # noqa: E501
                    for i in np.flatnonzero(ok)
                ],
            }
        )
    copies_rows = [c for p in parts for c in p["copies"]]
    if not copies_rows:
        return empty_augmentation()
    epoch = date(1970, 1, 1)
    as_date = lambda n: epoch + timedelta(days=int(n))  # noqa: E731
    snaps = [Snapshot(c[0], as_date(c[5]), c[1]) for c in copies_rows]
    meter_pairs = pd.DataFrame(
        {
            "meter_id": np.concatenate([p["meter"] for p in parts]),
            "customer_id": np.concatenate([p["cust"] for p in parts]),
            "src_meter_id": np.concatenate([p["src_meter"] for p in parts]),
        }
    ).drop_duplicates("meter_id")
    daily = pa.table(
        {
            "meter_id": pa.array(np.concatenate([p["meter"] for p in parts]).astype(str), pa.string()),
            "day": pa.array(np.concatenate([p["day"] for p in parts]).astype("datetime64[D]"), pa.date32()),
            "kwh": pa.array(np.concatenate([p["kwh"] for p in parts]), pa.float64()),
        }
    )
    return Augmentation(
        snapshots=snaps,
        sources=[c[1] for c in copies_rows],
        daily=daily,
        meters=pa.Table.from_pandas(meter_pairs.astype(str), preserve_index=False),
        customers=pa.table(
            {"customer_id": pa.array([c[0] for c in copies_rows], pa.string()),
             "src_customer_id": pa.array([c[1] for c in copies_rows], pa.string())}
        ),
        kinds=[c[2] for c in copies_rows],
        windows=[(as_date(c[3]), as_date(c[4])) for c in copies_rows],
    )  # fmt: skip
