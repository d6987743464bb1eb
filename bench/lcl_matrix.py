"""The issue-17 protocol matrix: London (LCL) households with injected theft under different label timings.

Every cell is one gridaudit dataset built from the development households: a share of thieves, a random half
of the households inspected (the training labels), the other half scored as of the last day of data (the
scoring date ``D``) and evaluated. What a cell varies:

* ``held``: the timing of the *held-out* (uninspected) thefts against ``D`` — ``ongoing`` (the theft runs to the
  end of the household's data), ``ended`` (it ended 1–12 months before ``D``), ``intermittent`` (some days only,
  ending anywhere from ``D`` back to 12 months before it), or ``mixed`` (each thief one of the three at random);
* ``insp``: when an inspected thief was inspected within its theft — ``early`` (in the first quarter of the
  span), ``late`` (in the last quarter) or ``random`` (anywhere), never before 14 days in. The theft stops at
  the inspection (it was caught): the household's data after it is honest;
* ``honest``: the inspection dates of honest households — ``thieves`` (drawn from the thieves' inspection
  dates, as in the issue-6 bench) or ``any`` (any date of the household's data from 60 days in);
* ``share``: the share of thieves (0.10 or 0.05).

Attacks are those of :mod:`gridaudit.risk.inject` (h1–h4, sustained drop; α, γ ~ U(0.1, 0.8)); an
``intermittent`` theft applies h1 (x·α) on a random share U(0.2, 0.6) of the days of its span only, in runs
of 1–5 days. Theft spans are U(30, 365) days (held-out) and U(60, 365) days (inspected, cut at the inspection).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gridaudit.risk.inject import KINDS, InjectionSettings, apply_attack, intermittent_days
from lcl_dataset import PRICE_YUAN_KWH, write_dataset


@dataclass(frozen=True)
class Cell:
    """One protocol of the matrix."""

    name: str
    held: str = "mixed"
    insp: str = "random"
    honest: str = "thieves"
    share: float = 0.10


CELLS: tuple[Cell, ...] = (
    Cell("ongoing at D", held="ongoing"),
    Cell("ended 1-12 months before D", held="ended"),
    Cell("intermittent", held="intermittent"),
    Cell("inspected early in the theft", insp="early"),
    Cell("inspected late in the theft", insp="late"),
    Cell("inspected at random in the theft", insp="random"),
    Cell("honest inspections at any date", honest="any"),
    Cell("5% thieves", share=0.05),
)
"""The cells, in the order of the table. Unnamed dimensions take the defaults (mixed, random, thieves, 10 %)."""

CELL_SEEDS: dict[str, tuple[int, ...]] = {c.name: (1700 + i,) for i, c in enumerate(CELLS)}
"""Seeds per cell, fixed before any result was looked at. One each: a second (1800 + i) was planned and dropped
for cost when the shared machine's load reached 13 on 2 cores (a cell then took minutes, not 25 s)."""
DEV_SEEDS: dict[str, tuple[int, ...]] = {c.name: (2700 + i,) for i, c in enumerate(CELLS)}
"""Development seeds: every choice of this round was made on these, never on :data:`CELL_SEEDS`."""
CHECK_SEEDS: dict[str, tuple[int, ...]] = {c.name: (1800 + i,) for i, c in enumerate(CELLS)}
"""A second set of seeds (the one planned and dropped in the first round), fixed before the scoring-time
estimate was run: checks that its agreement with the held-out figure is not a property of :data:`CELL_SEEDS`."""


def build_cell(daily: pd.DataFrame, cell: Cell, seed: int, out: Path) -> dict:
    """Inject the cell's thefts (seed), write the dataset at ``out``; return held-out labels and the thefts."""
    rng = np.random.default_rng(seed)
    s = InjectionSettings()
    daily = daily.sort_values(["household_id", "day"]).reset_index(drop=True)
    households = np.sort(daily["household_id"].unique())
    span = daily.groupby("household_id")["day"].agg(["min", "max"])
    end_all = pd.Timestamp(daily["day"].max())
    kwh = daily["kwh"].to_numpy(dtype="float64").copy()
    dd = pd.to_datetime(daily["day"]).to_numpy()
    groups = daily.groupby("household_id", sort=False).indices
    # thieves need room: ≥ 120 days of data and data within the last 400 days before D
    long_enough = span[((span["max"] - span["min"]).apply(lambda t: t.days) >= 120)].index
    n_thieves = int(round(cell.share * len(households)))
    thieves = set(rng.choice(np.sort(long_enough.to_numpy()), size=n_thieves, replace=False))
    inspected = set(rng.choice(households, size=len(households) // 2, replace=False))
    rows, insp_rows, theft_dates = [], [], []
    for hh in sorted(thieves):
        idx = groups[hh]
        d0, d1 = pd.Timestamp(span.loc[hh, "min"]), pd.Timestamp(span.loc[hh, "max"])
        kind = str(rng.choice(KINDS))
        first = d0 + pd.Timedelta(days=s.lead_days)
        if hh in inspected:
            length = int(rng.integers(60, 366))
            start = first + pd.Timedelta(days=int(rng.integers(0, max((d1 - first).days - 60, 0) + 1)))
            end = min(start + pd.Timedelta(days=length - 1), d1)
            n = (end - start).days
            lo = 14
            if cell.insp == "early":
                a, b = lo, max(lo, n // 4)
            elif cell.insp == "late":
                a, b = max(lo, (3 * n) // 4), max(lo, n)
            else:
                a, b = lo, max(lo, n)
            when = start + pd.Timedelta(days=int(rng.integers(a, b + 1)))
            end = when - pd.Timedelta(days=1)  # caught: the theft stops at the inspection
            timing = "inspected"
            theft_dates.append(when)
            insp_rows.append({"customer_id": hh, "inspected_on": when, "outcome": "theft"})
            if cell.held == "intermittent":
                kind = "intermittent"
        else:
            timing = cell.held if cell.held != "mixed" else str(rng.choice(["ongoing", "ended", "intermittent"]))
            length = int(rng.integers(30, 366))
            if timing == "ongoing":
                end = d1
            elif timing == "ended":
                end = min(end_all - pd.Timedelta(days=int(rng.integers(30, 366))), d1)
            else:
                end = min(end_all - pd.Timedelta(days=int(rng.integers(0, 366))), d1)
                kind = "intermittent"
            start = max(end - pd.Timedelta(days=length - 1), first)
            if (end - start).days < 29:  # too little data for this timing: theft over the last 30 days of data
                end = d1
                start = max(d1 - pd.Timedelta(days=length - 1), first)
        days = pd.DatetimeIndex(dd[idx])
        inside = (days >= start) & (days <= end)
        sel = idx[inside]
        if len(sel) == 0:
            continue
        honest_mean = float(np.mean(kwh[idx[days < start]])) if np.any(days < start) else float(np.mean(kwh[sel]))
        x = kwh[sel].copy()
        if kind == "intermittent":
            on = intermittent_days(rng, len(sel), float(rng.uniform(0.2, 0.6)))
            new = x.copy()
            new[on] = x[on] * rng.uniform(s.alpha_low, s.alpha_high)
        else:
            new = apply_attack(x, kind, rng, honest_mean, s)
        kwh[sel] = new
        rows.append(
            {"household_id": hh, "kind": kind, "timing": timing, "start": start.date(), "end": end.date(),
             "stolen_kwh": float(np.sum(x - new))}
        )  # fmt: skip
    for hh in sorted(inspected - thieves):
        lo = pd.Timestamp(span.loc[hh, "min"]) + pd.Timedelta(days=60)
        hi = pd.Timestamp(span.loc[hh, "max"]) + pd.Timedelta(days=1)
        if cell.honest == "any" or not theft_dates:
            when = lo + pd.Timedelta(days=int(rng.integers(0, max((hi - lo).days, 0) + 1)))
        else:
            when = theft_dates[int(rng.integers(0, len(theft_dates)))]
        when = min(max(when, lo), hi) if lo <= hi else hi
        insp_rows.append({"customer_id": hh, "inspected_on": when, "outcome": "normal"})
    modified = daily.copy()
    modified["kwh"] = kwh
    thefts = pd.DataFrame(rows, columns=["household_id", "kind", "timing", "start", "end", "stolen_kwh"])
    insp = pd.DataFrame(insp_rows)
    write_dataset(modified, insp, households, out, f"LCL daily, issue-17 cell {cell.name!r}, seed {seed}")
    held = np.array(sorted(set(households) - inspected))
    thief = thefts.set_index("household_id")
    stolen = thief["stolen_kwh"].reindex(held).fillna(0.0).to_numpy()
    labels = pd.DataFrame(
        {"customer_id": held, "label": np.isin(held, thief.index).astype(int), "yuan": stolen * PRICE_YUAN_KWH}
    )
    return {"labels": labels, "thefts": thefts, "inspections": insp, "modified": modified}
