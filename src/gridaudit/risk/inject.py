"""Inject known theft patterns into real daily consumption (DOMAIN §6, after Jokar et al. 2016).

On daily data the visible attacks are h1–h4 and a sustained drop:

* ``h1``  x·α for the whole span, α ~ U(0.1, 0.8)
* ``h2``  a part of every day switched off: x·(1 − f_t), f_t = share of the day in a window of L ~ U(6, 20) h,
  jittered per day (on half-hourly data: zero over a window; summed to a day it is a reduction)
* ``h3``  x_t·γ_t with γ_t ~ U(0.1, 0.8) drawn per day
* ``h4``  γ_t·mean(x) with γ_t ~ U(0.1, 0.8) drawn per day (the shape is lost)
* ``drop`` x·β, β ~ U(0.1, 0.8), from the start date to the end of the data (sustained)

Each theft starts on a random day with at least ``lead_days`` of honest history before it and lasts a random
span of at least ``min_span_days`` (to the end of the data for ``drop``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

KINDS = ("h1", "h2", "h3", "h4", "drop")


def intermittent_days(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    """Intermittent theft: a boolean mask of ``n`` days, about ``share`` of them on, in runs of 1–5 days.

    The days an intermittent thief steals on (x·α on those days only); the London matrix bench
    (``bench/lcl_matrix.py``) and the scoring-time estimate (:mod:`gridaudit.risk.estimate`) both draw it here."""
    on = np.zeros(n, dtype=bool)
    i = int(rng.integers(0, 3))
    while i < n:
        length = int(rng.integers(1, 6))
        on[i : i + length] = True
        gap = max(int(round(length * (1 - share) / max(share, 1e-6))), 1)
        i += length + int(rng.integers(max(gap // 2, 1), gap * 2 + 1))
    return on


@dataclass(frozen=True)
class InjectionSettings:
    """How much theft to inject and how long it lasts."""

    share: float = 0.10
    min_span_days: int = 30
    lead_days: int = 30
    alpha_low: float = 0.1
    alpha_high: float = 0.8


def attacked_use(kind: Any, x: np.ndarray, alpha: Any, off_share: Any, gamma: Any, honest_mean: Any) -> np.ndarray:
    """The attack formulas, element by element (scalars or arrays that broadcast against ``x``).

    h1 and drop ``x·α``; h2 ``x·(1 − off_share)``; h3 ``x·γ``; h4 ``γ·honest_mean``; any other kind leaves
    ``x`` as it is. :func:`apply_attack` (one household) and the training augmentation (every copy at once)
    both price their draws through this one function.
    """
    kind = np.asarray(kind)
    return np.select(
        [np.isin(kind, ("h1", "drop")), kind == "h2", kind == "h3", kind == "h4"],
        [x * alpha, x * (1.0 - off_share), x * gamma, gamma * honest_mean],
        x,
    )


def apply_attack(
    x: np.ndarray, kind: str, rng: np.random.Generator, honest_mean: float, settings: InjectionSettings
) -> np.ndarray:
    """The attacked version of the daily series ``x`` (one household's days inside the theft span).

    ``honest_mean`` is the household's mean daily use before the theft (h4 scales it). Draws α, the
    switched-off share or γ_t from ``rng`` exactly as :func:`inject_theft` does (only what ``kind`` needs).
    """
    s = settings
    n = len(x)
    alpha = 0.0
    off_share: float | np.ndarray = 0.0
    gamma: float | np.ndarray = 0.0
    if kind in ("h1", "drop"):
        alpha = rng.uniform(s.alpha_low, s.alpha_high)
    elif kind == "h2":
        off = rng.uniform(6, 20) / 24.0
        off_share = np.clip(off * rng.uniform(0.7, 1.3, n), 0.0, 1.0)
    elif kind in ("h3", "h4"):
        gamma = rng.uniform(s.alpha_low, s.alpha_high, n)
    else:
        raise ValueError(f"unknown attack kind {kind!r} (one of {', '.join(KINDS)})")
    return attacked_use(kind, np.asarray(x, dtype="float64"), alpha, off_share, gamma, honest_mean)


def inject_theft(
    daily: pd.DataFrame, rng: np.random.Generator, settings: InjectionSettings | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Inject theft into a random share of households of ``daily`` (columns household_id, day, kwh).

    Returns the modified daily frame and one row per thief: household_id, kind, start, end, stolen_kwh.
    """
    s = settings or InjectionSettings()
    daily = daily.sort_values(["household_id", "day"]).reset_index(drop=True)
    households = daily["household_id"].drop_duplicates().to_numpy()
    n_thieves = int(round(s.share * len(households)))
    thieves = rng.choice(households, size=n_thieves, replace=False)
    kwh = daily["kwh"].to_numpy(dtype="float64").copy()
    days = daily["day"].to_numpy()
    groups = daily.groupby("household_id", sort=False).indices
    rows = []
    for hh in sorted(thieves):
        idx = groups[hh]
        d0, d1 = pd.Timestamp(days[idx[0]]), pd.Timestamp(days[idx[-1]])
        first_start = d0 + pd.Timedelta(days=s.lead_days)
        last_start = d1 - pd.Timedelta(days=s.min_span_days)
        if last_start < first_start:
            continue
        start = first_start + pd.Timedelta(days=int(rng.integers(0, (last_start - first_start).days + 1)))
        kind = str(rng.choice(KINDS))
        if kind == "drop":
            end = d1
        else:
            room = (d1 - start).days
            end = start + pd.Timedelta(days=int(rng.integers(s.min_span_days, room + 1)))
        dd = pd.to_datetime(days[idx])
        sel = idx[(dd >= start) & (dd <= end)]
        x = kwh[sel].copy()
        honest_mean = float(np.mean(kwh[idx[dd < start]])) if np.any(dd < start) else float(np.mean(x))
        new = apply_attack(kwh[sel], kind, rng, honest_mean, s)
        kwh[sel] = new
        rows.append(
            {"household_id": hh, "kind": kind, "start": start.date(), "end": end.date(),
             "stolen_kwh": float(np.sum(x - new))}
        )  # fmt: skip
    out = daily.copy()
    out["kwh"] = kwh
    return out, pd.DataFrame(rows, columns=["household_id", "kind", "start", "end", "stolen_kwh"])
