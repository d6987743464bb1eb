"""The out-of-fold estimate under the scoring-time protocol (issue 17): thefts simulated at the scoring date.

Scoring ranks every customer once, as of one day (``--until``, default the last day of data), wherever in the
back-billing horizon its theft lies — still running, ended months ago, or on some days only. Inspection labels
describe thefts in the act, of the kinds inspections happened to find. So the estimate ``risk train`` reports
measures the scoring protocol directly, out of fold:

* every customer inspected ``normal`` (and never theft/violation) gives a **clean snapshot as of the scoring
  date** (label 0) and ``estimate_copies`` **attacked copies** of its own daily data up to that date (label 1),
  with one theft each whose window lies anywhere in the back-billing horizon, drawn with equal chance as
  *ongoing* at the scoring date, *ended* 1 to ``backbill_months`` months before it, or *intermittent* (x·α on a
  random 20–60 % of the days of its span, in runs of 1–5 days, ending 0 to ``backbill_months`` months before it);
  the attack kinds of the ongoing and ended ones are h1–h4 and the sustained drop (:mod:`gridaudit.risk.inject`,
  α, γ ~ U(0.1, 0.8)); spans U(``min_span_days``, ``backbill_months``) at least ``lead_days`` into the data;
* each of these rows is predicted by the fold model that did not see its customer (the same folds as the
  out-of-fold predictions: a customer's inspections, its training snapshots, its augmented copies and its
  estimate rows are all on one side of a fold);
* AUC over all of them (``scoring_oof_roc_auc``), per timing (``scoring_oof_roc_auc_by_timing``), and theft
  AP@100 with the attacked copies subsampled to the labels' share of thefts (mean of ``draws`` draws).

Copies, like the training augmentation's, are left out of the peer index and the area sales, so no real row's
features move. The estimate is of *these* simulated thefts on *these* honest households: a utility whose thefts
are other mechanisms (bypass with meter events, CT shorts, a stopped meter) is not measured by it — the
label-based estimate (``inspection_oof_*``) stays beside it (docs/risk.md, "what the estimate does not cover").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from gridaudit.engines import Engine
from gridaudit.risk.augment import Augmentation, empty_augmentation
from gridaudit.risk.inject import KINDS, InjectionSettings, apply_attack, intermittent_days
from gridaudit.risk.metrics import ap_at_n, roc_auc
from gridaudit.risk.settings import RiskSettings
from gridaudit.risk.snapshot import Snapshot

EST_SEP = "#est"
"""Estimate copies are ``<source id>#est<k>`` (customers and meters)."""
TIMINGS = ("ongoing", "ended", "intermittent")
"""Where a simulated theft lies against the scoring date (drawn with equal chance)."""
MIN_DATA_DAYS = 120
"""A household needs this many days of data for a copy (as the London matrix bench asks of its thieves)."""


@dataclass
class EstimateRows:
    """The rows of the scoring-time estimate and the attacked data their features are computed from."""

    snapshots: list[Snapshot]
    """Clean snapshots (the real customer) and attacked copies, all as of the scoring date."""
    groups: list[str]
    """The real customer of each row (its fold group)."""
    labels: np.ndarray
    """0 for a clean snapshot, 1 for an attacked copy."""
    timing: list[str]
    """``""`` for a clean snapshot, else one of :data:`TIMINGS`."""
    augmentation: Augmentation
    """The copies' daily data (for :func:`gridaudit.risk.features.compute_features`)."""

    def __len__(self) -> int:
        return len(self.snapshots)


@dataclass
class EstimateSet:
    """Feature rows of the scoring-time estimate, as :func:`gridaudit.risk.model.train_model` takes them."""

    x: pd.DataFrame
    y: np.ndarray
    groups: np.ndarray
    timing: np.ndarray


def _honest_sources(labels: pd.DataFrame) -> list[str]:
    """Customers whose every labelled inspection was normal (sorted)."""
    lab = labels.assign(customer_id=labels["customer_id"].astype(str))
    worst = lab.groupby("customer_id")["label"].max()
    return sorted(worst[worst == 0].index)


def _source_daily(engine: Engine, customers: list[str], as_of: date) -> pd.DataFrame:
    """Daily rows of these customers' meters up to and including ``as_of``."""
    engine.register_table("_est_src", pa.table({"customer_id": pa.array(customers, pa.string())}))
    try:
        return engine.query(
            "SELECT m.customer_id, d.meter_id, d.day, d.kwh FROM daily_usage d "
            "JOIN meters m ON m.meter_id = d.meter_id AND m.role = 'customer' "
            "JOIN _est_src s ON s.customer_id = m.customer_id "
            "WHERE d.day <= $as_of AND d.kwh IS NOT NULL ORDER BY m.customer_id, d.meter_id, d.day",
            {"as_of": as_of},
        ).to_pandas()
    finally:
        engine.drop_materialised("_est_src")


def theft_window(
    rng: np.random.Generator, timing: str, d0: int, d1: int, as_of: int, settings: RiskSettings
) -> tuple[int, int]:
    """First and last day (days since 1970) of a simulated theft of ``timing`` in data from ``d0`` to ``d1``.

    Span U(``min_span_days``, horizon) days, starting at least ``lead_days`` into the data; ongoing: to ``d1``;
    ended: ``as_of`` − U(30, horizon) days; intermittent: ``as_of`` − U(0, horizon) days (each at most ``d1``).
    When that leaves under 30 days, the theft covers the last span of the data."""
    s = InjectionSettings()
    horizon = int(round(settings.backbill_months * 30.4375))
    first = d0 + s.lead_days
    length = int(rng.integers(s.min_span_days, max(horizon, s.min_span_days) + 1))
    if timing == "ongoing":
        end = d1
    elif timing == "ended":
        end = min(as_of - int(rng.integers(30, max(horizon, 30) + 1)), d1)
    else:
        end = min(as_of - int(rng.integers(0, horizon + 1)), d1)
    start = max(end - length + 1, first)
    if end - start < s.min_span_days - 1:
        end = d1
        start = max(d1 - length + 1, first)
    return start, end


def build_estimate(
    engine: Engine, labels: pd.DataFrame, as_of: date, settings: RiskSettings, seed: int
) -> EstimateRows | None:
    """Clean and attacked snapshots as of ``as_of`` of every normal-only inspected customer (see module doc).

    None when ``estimate_copies`` is 0 or no such customer has daily data."""
    copies = int(settings.estimate_copies)
    sources = _honest_sources(labels) if copies > 0 and len(labels) else []
    if not sources or "daily_usage" not in engine.tables():
        return None
    src = _source_daily(engine, sources, as_of)
    if src.empty:
        return None
    src["customer_id"] = src["customer_id"].astype(str)
    src["meter_id"] = src["meter_id"].astype(str)
    day = pd.to_datetime(src["day"]).to_numpy("datetime64[D]").astype("int64")
    kwh = src["kwh"].to_numpy(dtype="float64")
    end_day = int(np.datetime64(as_of, "D").astype("int64"))
    rng = np.random.default_rng(seed)
    inj = InjectionSettings()
    snaps: list[Snapshot] = []
    groups: list[str] = []
    timing: list[str] = []
    y: list[int] = []
    parts: dict[str, list[np.ndarray]] = {"meter": [], "src_meter": [], "day": [], "kwh": []}
    cust_rows: list[tuple[str, str]] = []
    kinds: list[str] = []
    windows: list[tuple[date, date]] = []
    epoch = date(1970, 1, 1)
    for cid, idx in src.groupby("customer_id", sort=True).indices.items():
        snaps.append(Snapshot(str(cid), as_of))
        groups.append(str(cid))
        timing.append("")
        y.append(0)
        d0, d1 = int(day[idx].min()), int(day[idx].max())
        if d1 - d0 < MIN_DATA_DAYS:
            continue
        meters = src["meter_id"].to_numpy()[idx]
        for k in range(copies):
            tm = TIMINGS[int(rng.integers(0, len(TIMINGS)))]
            kind = "intermittent" if tm == "intermittent" else str(KINDS[int(rng.integers(0, len(KINDS)))])
            start, end = theft_window(rng, tm, d0, d1, end_day, settings)
            new = kwh[idx].copy()
            for m in np.unique(meters):  # one window per customer, attacked meter by meter
                rows = np.flatnonzero(meters == m)
                dd = day[idx][rows]
                inside = rows[(dd >= start) & (dd <= end)]
                if not len(inside):
                    continue
                before = rows[dd < start]
                x = kwh[idx][inside]
                honest = float(np.mean(kwh[idx][before])) if len(before) else float(np.mean(x))
                if kind == "intermittent":
                    on = intermittent_days(rng, len(x), float(rng.uniform(0.2, 0.6)))
                    x = np.where(on, x * rng.uniform(inj.alpha_low, inj.alpha_high), x)
                else:
                    x = apply_attack(x, kind, rng, honest, inj)
                new[inside] = x
            suffix = f"{EST_SEP}{k}"
            copy_id = f"{cid}{suffix}"
            parts["meter"].append(np.char.add(meters.astype(str), suffix))
            parts["src_meter"].append(meters.astype(str))
            parts["day"].append(day[idx])
            parts["kwh"].append(new)
            cust_rows.append((copy_id, str(cid)))
            snaps.append(Snapshot(copy_id, as_of, str(cid)))
            groups.append(str(cid))
            timing.append(tm)
            y.append(1)
            kinds.append(kind)
            windows.append((epoch + timedelta(days=start), epoch + timedelta(days=end)))
    aug = empty_augmentation()
    if cust_rows:
        meter_pairs = pd.DataFrame(
            {
                "meter_id": np.concatenate(parts["meter"]),
                "customer_id": np.concatenate(
                    [np.full(len(m), c[0], dtype=object) for m, c in zip(parts["meter"], cust_rows, strict=True)]
                ),
                "src_meter_id": np.concatenate(parts["src_meter"]),
            }
        ).drop_duplicates("meter_id")
        aug = Augmentation(
            snapshots=[s for s in snaps if s.source is not None],
            sources=[c[1] for c in cust_rows],
            daily=pa.table(
                {
                    "meter_id": pa.array(np.concatenate(parts["meter"]).astype(str), pa.string()),
                    "day": pa.array(np.concatenate(parts["day"]).astype("datetime64[D]"), pa.date32()),
                    "kwh": pa.array(np.concatenate(parts["kwh"]), pa.float64()),
                }
            ),
            meters=pa.Table.from_pandas(meter_pairs.astype(str), preserve_index=False),
            customers=pa.table(
                {
                    "customer_id": pa.array([c[0] for c in cust_rows], pa.string()),
                    "src_customer_id": pa.array([c[1] for c in cust_rows], pa.string()),
                }
            ),
            kinds=kinds,
            windows=windows,
        )
    return EstimateRows(snaps, groups, np.array(y, dtype="int64"), timing, aug)


def merge_augmentations(a: Augmentation, b: Augmentation) -> Augmentation:
    """One augmentation holding both sets of copies (their ids must differ: ``#aug`` and ``#est``)."""
    if not len(b):
        return a
    if not len(a):
        return b
    return Augmentation(
        snapshots=a.snapshots + b.snapshots,
        sources=a.sources + b.sources,
        daily=pa.concat_tables([a.daily, b.daily]),
        meters=pa.concat_tables([a.meters, b.meters]),
        customers=pa.concat_tables([a.customers, b.customers]),
        kinds=a.kinds + b.kinds,
        windows=a.windows + b.windows,
    )


def estimate_metrics(
    y: np.ndarray, pred: np.ndarray, timing: np.ndarray, positive_share: float, seed: int, draws: int = 20
) -> dict[str, object]:
    """AUC of the attacked copies against the clean snapshots (all, and per timing), and theft AP@100 with the
    copies subsampled to ``positive_share`` of the rows (mean over ``draws`` draws). Rows without a prediction
    (NaN: their customer had no out-of-fold fold) are left out."""
    ok = ~np.isnan(pred)
    y, pred, timing = y[ok], pred[ok], timing[ok]
    neg = np.flatnonzero(y == 0)
    pos = np.flatnonzero(y == 1)
    out: dict[str, object] = {"scoring_estimate_rows": {"clean": int(len(neg)), "attacked": int(len(pos))}}
    if not len(neg) or not len(pos):
        return out
    out["scoring_oof_roc_auc"] = roc_auc(y, pred)
    out["scoring_oof_roc_auc_by_timing"] = {
        tm: round(roc_auc(y[sel], pred[sel]), 4)
        for tm in TIMINGS
        if (sel := (timing == tm) | (y == 0)).any() and y[sel].max() == 1
    }
    share = min(max(float(positive_share), 1e-6), 0.999)
    n_pos = max(1, min(len(pos), int(round(share / (1 - share) * len(neg)))))
    rng = np.random.default_rng(seed)
    aps = []
    for _ in range(draws):
        pick = np.concatenate([neg, rng.choice(pos, size=n_pos, replace=False)])
        aps.append(ap_at_n(y[pick], pred[pick], 100))
    out["scoring_oof_ap_at_100"] = float(np.mean(aps))
    out["scoring_estimate_positive_share"] = round(n_pos / (n_pos + len(neg)), 4)
    return out
