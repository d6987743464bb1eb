"""Issue 17: how visible are the matrix's thefts at all? Oracle yardsticks on the London cells.

The matrix (bench/lcl_matrix.py) injects thefts into real households; the aim asks AUC ≥ 0.95 in every cell.
This bench asks what a detector that is *told* where the theft is could reach on the same held-out households,
with the thefts of the same cell and seed (``build_cell``: the very households, spans, days and factors).

Every household's day is put against its peers: ``r = log(x + ε) − log(median of all households that day + ε)``
(ε = 0.05 kWh), which takes out weather, season and holidays common to London. Four oracles score the
held-out households (thieves high):

* ``span``  knows the theft's first and last day (an honest household gets a span drawn as the cell draws a
            held-out theft's: length U(30, 365) days, ending 0–365 days before the scoring date, clipped to its
            data). Score: Welch's t of the household's r outside the span against inside it.
* ``days``  also knows *which* days were stolen on (an honest household's days drawn by the cell's
            ``intermittent_days`` inside its span). Score: the t of r on the other days against the stolen days.
* ``span+low`` knows the span, not the days, and counts low days: the share of the span's days below the 20th
            percentile of the household's r outside it, as a binomial z against 20 %.
* ``days+α`` knows the days and scores by the mean log drop on them: ``mean(r off) − mean(r on)``, unscaled.

None of them is proven optimal, but each sees more than any scorer can (nobody is told the span or the days);
an oracle's AUC well below an aim says the aim is out of reach on these thefts, not that the scorer is weak.
The same run reports, per theft, the share of the span's energy taken (``stolen / honest use in the span``).

    PYTHONPATH=src:bench nice -n 5 python bench/risk_ceiling.py [--cells intermittent] [--seed-set all]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gridaudit.risk.inject import intermittent_days  # noqa: E402
from gridaudit.risk.metrics import evaluate  # noqa: E402
from lcl_dataset import load_lcl  # noqa: E402
from lcl_matrix import CELL_SEEDS, CELLS, CHECK_SEEDS, DEV_SEEDS, build_cell  # noqa: E402

EPS_KWH = 0.05
ORACLES = ("span", "span+low", "days", "days+α")
SEED_SETS = {"main": CELL_SEEDS, "dev": DEV_SEEDS, "check": CHECK_SEEDS}


def peer_ratio(daily: pd.DataFrame) -> pd.DataFrame:
    """``daily`` (household_id, day, kwh) with ``r``: log use against the peers' median use of that day."""
    out = daily[["household_id", "day", "kwh"]].copy()
    out["day"] = pd.to_datetime(out["day"])
    med = out.groupby("day")["kwh"].transform("median")
    out["r"] = np.log(out["kwh"].clip(lower=0) + EPS_KWH) - np.log(med + EPS_KWH)
    return out


def welch_t(a: np.ndarray, b: np.ndarray) -> float:
    """Welch's t of ``mean(a) − mean(b)``; NaN when either side has fewer than 3 values."""
    if len(a) < 3 or len(b) < 3:
        return float("nan")
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return float((a.mean() - b.mean()) / se) if se > 0 else float("nan")


def low_day_z(outside: np.ndarray, inside: np.ndarray, q: float = 0.2) -> float:
    """Binomial z of the share of ``inside`` below the ``q`` quantile of ``outside`` (NaN with < 30 outside)."""
    if len(outside) < 30 or len(inside) < 3:
        return float("nan")
    share = float(np.mean(inside < np.quantile(outside, q)))
    return (share - q) / np.sqrt(q * (1 - q) / len(inside))


def honest_span(rng: np.random.Generator, d0: pd.Timestamp, d1: pd.Timestamp, end_all: pd.Timestamp) -> tuple:
    """A span for an honest household, drawn as lcl_matrix draws an intermittent held-out theft's."""
    first = d0 + pd.Timedelta(days=30)
    length = int(rng.integers(30, 366))
    end = min(end_all - pd.Timedelta(days=int(rng.integers(0, 366))), d1)
    start = max(end - pd.Timedelta(days=length - 1), first)
    if (end - start).days < 29:
        end = d1
        start = max(d1 - pd.Timedelta(days=length - 1), first)
    return start, end


def oracle_scores(original: pd.DataFrame, built: dict, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per held-out household the three oracle scores; per held-out theft the share of its span's energy taken."""
    rng = np.random.default_rng(seed + 999_331)
    labels = built["labels"]
    held = set(labels["customer_id"])
    mod = built["modified"].sort_values(["household_id", "day"]).reset_index(drop=True)
    orig = original.sort_values(["household_id", "day"]).reset_index(drop=True)
    frame = peer_ratio(mod[mod["household_id"].isin(held)])
    orig_kwh = orig.loc[orig["household_id"].isin(held), "kwh"].to_numpy()
    frame["stolen_on"] = ~np.isclose(frame["kwh"].to_numpy(), orig_kwh, rtol=0, atol=1e-12)
    thefts = built["thefts"].set_index("household_id")
    end_all = frame["day"].max()
    rows, takes = [], []
    for hh, g in frame.groupby("household_id", sort=True):
        days, r = g["day"].to_numpy(), g["r"].to_numpy()
        if hh in thefts.index:
            t = thefts.loc[hh]
            start, end = pd.Timestamp(t["start"]), pd.Timestamp(t["end"])
            inside = (days >= start) & (days <= end)
            on = g["stolen_on"].to_numpy() & inside
            honest_use = orig_kwh[frame.index.get_indexer(g.index)][inside].sum()
            share = float(t["stolen_kwh"] / max(honest_use, 1e-9))
            takes.append({"household_id": hh, "kind": t["kind"], "span_days": int(inside.sum()),
                          "stolen_days": int(on.sum()), "share_taken": share})  # fmt: skip
        else:
            start, end = honest_span(rng, pd.Timestamp(days.min()), pd.Timestamp(days.max()), end_all)
            inside = (days >= start) & (days <= end)
            on = np.zeros(len(r), dtype=bool)
            on[np.flatnonzero(inside)] = intermittent_days(rng, int(inside.sum()), float(rng.uniform(0.2, 0.6)))
        rows.append(
            {"customer_id": hh,
             "span": welch_t(r[~inside], r[inside]),
             "span+low": low_day_z(r[~inside], r[inside]),
             "days": welch_t(r[~on], r[on]),
             "days+α": float(r[~on].mean() - r[on].mean()) if on.any() and (~on).any() else float("nan")}
        )  # fmt: skip
    return pd.DataFrame(rows).set_index("customer_id"), pd.DataFrame(takes)


def run(cells: list[str], seed_sets: list[str], work: Path) -> list[dict]:
    """Every (cell, seed set): the oracles' AUC / AP@100 on the cell's held-out households."""
    daily = load_lcl()
    results = []
    for cell in [c for c in CELLS if c.name in cells or c.held in cells]:
        for set_name in seed_sets:
            for seed in SEED_SETS[set_name][cell.name]:
                t0 = time.perf_counter()
                built = build_cell(daily, cell, seed, work / f"{cell.held}-{seed}")
                scores, takes = oracle_scores(daily, built, seed)
                lab = built["labels"]
                res = {"cell": cell.name, "set": set_name, "seed": seed, "thieves": int(lab["label"].sum()),
                       "held": len(lab), "takes": takes}  # fmt: skip
                for name in ORACLES:
                    s = scores[name].reindex(lab["customer_id"]).fillna(-np.inf).to_numpy()
                    m = evaluate(lab["label"].to_numpy(), s, lab["yuan"].to_numpy())
                    res[name] = (m["roc_auc"], m["ap_at_100"])
                res["seconds"] = time.perf_counter() - t0
                results.append(res)
                print(_line(res), flush=True)
    return results


def _line(res: dict) -> str:
    t = res["takes"]
    q = np.quantile(t["share_taken"], [0.25, 0.5, 0.75]) if len(t) else [np.nan] * 3
    parts = [res["cell"], f"{res['set']} ({res['seed']})", f"{res['thieves']} / {res['held']}"]
    parts += [f"{res[n][0]:.3f} / {res[n][1]:.3f}" for n in ORACLES]
    parts += [" / ".join(f"{v:.0%}" for v in q), f"{res['seconds']:.0f}"]
    return "| " + " | ".join(parts) + " |"


def main() -> None:
    """Run the oracles on the chosen cells and seed sets and print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", default="intermittent", help="cell names or held timings, comma-separated")
    ap.add_argument("--seed-set", default="all", help="main, dev, check or all")
    args = ap.parse_args()
    sets = list(SEED_SETS) if args.seed_set == "all" else args.seed_set.split(",")
    print("| cell | seeds | thieves / held out | span oracle AUC / AP@100 | span+low oracle | days oracle"
          " | days+α oracle | energy taken in the span, quartiles | s |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="risk_ceiling_") as tmp:
        run(args.cells.split(","), sets, Path(tmp))


if __name__ == "__main__":
    main()
