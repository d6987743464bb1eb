"""Theft-risk scorer on real London consumption with injected theft (issue 6), 5 seeds, against baselines.

Per seed: inject theft (h1–h4, sustained drop; gridaudit.risk.inject) into a random 10% of LCL households;
write a gridaudit dataset in which a random half of the households carry an inspection outcome (thieves
inspected on a random day at least 30 days after their theft began, honest households on days drawn from
the same dates); train with the same code as ``gridaudit risk train``; score with ``gridaudit risk score``'s
code; evaluate on the other half only. LightGBM is trained twice, without and with training augmentation
(one attacked copy of every normal-inspected household, ``--augment 1``). Baselines in the same run:
(a) the largest drop of a 30-day mean against the household's own mean, (b) an isolation forest on raw
daily statistics; and the unsupervised scorer.

    PYTHONPATH=src:bench nice -n 10 python bench/risk_lcl.py [--seeds 0,1,2,3,4] [--write]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gridaudit.risk.metrics import evaluate  # noqa: E402
from gridaudit.risk.pipeline import score, train  # noqa: E402
from gridaudit.risk.settings import RiskSettings  # noqa: E402
from lcl_dataset import build, load_lcl  # noqa: E402
from lcl_matrix import CELL_SEEDS, CELLS, CHECK_SEEDS, DEV_SEEDS, Cell, build_cell  # noqa: E402

METRICS = ("roc_auc", "ap_at_100", "ap_at_200", "map_at_100", "precision_at_100")


def baseline_drop(daily: pd.DataFrame) -> pd.Series:
    """(a) Largest drop of a 30-day rolling mean against the household's own mean (1 − min ratio)."""
    out = {}
    for hh, g in daily.groupby("household_id", sort=False):
        x = g.sort_values("day")["kwh"].to_numpy()
        mean = x.mean()
        if len(x) < 60 or mean <= 0:
            out[hh] = 0.0
            continue
        roll = np.convolve(x, np.ones(30) / 30, mode="valid")
        out[hh] = 1.0 - roll.min() / mean
    return pd.Series(out)


def baseline_iforest(daily: pd.DataFrame, seed: int) -> pd.Series:
    """(b) Isolation forest on raw daily statistics of each household (higher = more anomalous)."""
    from sklearn.ensemble import IsolationForest

    g = daily.groupby("household_id")["kwh"]
    stats = pd.DataFrame(
        {
            "mean": g.mean(),
            "std": g.std(),
            "min": g.min(),
            "max": g.max(),
            "q05": g.quantile(0.05),
            "q25": g.quantile(0.25),
            "q50": g.median(),
            "q75": g.quantile(0.75),
            "q95": g.quantile(0.95),
            "zero": g.apply(lambda v: float((v <= 0).mean())),
        }
    ).fillna(0.0)
    stats["cv"] = stats["std"] / stats["mean"].replace(0, np.nan)
    stats = stats.fillna(0.0)
    forest = IsolationForest(n_estimators=300, random_state=seed).fit(stats.to_numpy())
    return pd.Series(-forest.score_samples(stats.to_numpy()), index=stats.index)


def _metrics(labels: pd.DataFrame, scores: pd.Series) -> dict[str, float]:
    s = scores.reindex(labels["customer_id"]).fillna(-np.inf).to_numpy()
    return evaluate(labels["label"].to_numpy(), s, labels["yuan"].to_numpy())


def run_seed(
    daily: pd.DataFrame, seed: int, work: Path, settings: RiskSettings | None = None, baselines: bool = True
) -> dict[str, dict[str, float]]:
    """All scorers on one seed; returns metrics per scorer (on the held-out, uninspected half)."""
    ds = work / f"lcl_seed{seed}"
    t0 = time.perf_counter()
    built = build(daily, seed, ds)
    labels = built["labels"]
    t1 = time.perf_counter()
    settings = settings or RiskSettings()
    out = {}
    for copies in (0, 1):
        model = work / f"risk_seed{seed}_aug{copies}.model"
        res = train(ds, model, settings=replace(settings, augment_copies=copies))
        sup = score(ds, model).set_index("customer_id")
        name = "gridaudit LightGBM" + (f", augment {copies}" if copies else "")
        out[name] = _metrics(labels, -sup["rank"].astype(float))
    t3 = time.perf_counter()
    if baselines:
        uns = score(ds, None).set_index("customer_id")
        held = built["modified"][built["modified"]["household_id"].isin(set(labels["customer_id"]))]
        out["gridaudit unsupervised"] = _metrics(labels, -uns["rank"].astype(float))
        out["baseline (a) largest 30-day drop"] = _metrics(labels, baseline_drop(held))
        out["baseline (b) isolation forest"] = _metrics(labels, baseline_iforest(held, seed))
    print(
        f"seed {seed}: build {t1 - t0:.1f}s train+score (both models) {t3 - t1:.1f}s ({res.model_kind}, "
        f"{res.meta['labels']['positives']}/{res.meta['labels']['rows']} labels, "
        f"{res.meta['labels']['augmented_rows']} augmented); "
        + "; ".join(f"{k}: AUC {v['roc_auc']:.3f} AP@100 {v['ap_at_100']:.3f}" for k, v in out.items()),
        flush=True,
    )
    shutil.rmtree(ds, ignore_errors=True)
    return out


MATRIX_METRICS = ("roc_auc", "ap_at_100", "precision_at_100")
MATRIX_SECTION = "## Issue 17 — risk across label timing"


def run_cell(daily: pd.DataFrame, cell: Cell, seed: int, work: Path, settings: RiskSettings) -> dict:
    """One cell of the issue-17 matrix: build, train (``risk train``'s code), score once for the model and the
    unsupervised scorer (``risk score``'s code on one feature pass), the largest-drop baseline; metrics on the
    held-out half, plus the training's own out-of-fold estimates."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines.duckdb import DuckDBEngine
    from gridaudit.risk.features import compute_features, data_end, scoring_snapshots
    from gridaudit.risk.pipeline import load_scorer, score_from_features

    ds_dir = work / f"cell{seed}"
    t0 = time.perf_counter()
    built = build_cell(daily, cell, seed, ds_dir)
    labels = built["labels"]
    model_path = work / f"cell{seed}.model"
    t1 = time.perf_counter()
    res = train(ds_dir, model_path, settings=settings)
    t2 = time.perf_counter()
    model = load_scorer(model_path)
    ds = open_dataset(ds_dir)
    eng = DuckDBEngine(ds, threads=settings.threads, memory_limit=settings.memory_limit)
    try:
        as_of = data_end(eng)
        feats = compute_features(ds, scoring_snapshots(eng, as_of), settings, engine=eng)
    finally:
        eng.close()
    sup = score_from_features(feats, model, settings, as_of, {}).set_index("customer_id")
    uns = score_from_features(feats, None, settings, as_of, {}).set_index("customer_id")
    t3 = time.perf_counter()
    held = built["modified"][built["modified"]["household_id"].isin(set(labels["customer_id"]))]
    out = {
        "gridaudit LightGBM": _metrics(labels, -sup["rank"].astype(float)),
        "gridaudit unsupervised": _metrics(labels, -uns["rank"].astype(float)),
        "baseline largest 30-day drop": _metrics(labels, baseline_drop(held)),
    }
    # by held-out theft timing: that timing's thieves against every honest held-out household (model only)
    thefts_all = built["thefts"].set_index("household_id")
    timing = thefts_all["timing"].reindex(labels["customer_id"]).fillna("honest").to_numpy()
    by_timing = {}
    for tm in sorted(set(timing) - {"honest"}):
        sel = (timing == tm) | (timing == "honest")
        by_timing[tm] = _metrics(labels[sel].reset_index(drop=True), -sup["rank"].astype(float))["roc_auc"]
    m = res.meta.get("metrics", {})
    est = {k: v for k, v in m.items() if "oof" in k or k.startswith("scoring_estimate")}
    thefts = built["thefts"]
    info = {
        "seed": seed,
        "build_s": round(t1 - t0, 1),
        "train_s": round(t2 - t1, 1),
        "score_s": round(t3 - t2, 1),
        "held_thieves": int(labels["label"].sum()),
        "held": int(len(labels)),
        "held_timing": thefts[thefts["timing"] != "inspected"]["timing"].value_counts().to_dict(),
        "training_rows": res.meta.get("labels", {}).get("rows"),
        "estimate": est,
        "model_auc_by_timing": by_timing,
    }
    print(
        f"{cell.name} seed {seed}: build {info['build_s']}s train {info['train_s']}s score {info['score_s']}s; "
        + "; ".join(f"{k}: AUC {v['roc_auc']:.3f} AP@100 {v['ap_at_100']:.3f}" for k, v in out.items())
        + f"; estimate {est}",
        flush=True,
    )
    shutil.rmtree(ds_dir, ignore_errors=True)
    return {"metrics": out, "info": info}


def run_matrix(
    daily: pd.DataFrame, settings: RiskSettings, names: list[str], json_out: Path | None, dev: bool | str = False
) -> list[dict]:
    """Every cell (or those named), each with its fixed seeds (``dev``: True or ``"dev"`` the development seeds,
    ``"check"`` the second set :data:`CHECK_SEEDS`); results written to ``json_out`` as they come."""
    seed_set = {"dev": DEV_SEEDS, "check": CHECK_SEEDS}.get("dev" if dev is True else str(dev), CELL_SEEDS)
    results = []
    work = Path(tempfile.mkdtemp(prefix="risk_matrix_"))
    try:
        for cell in CELLS:
            if names and cell.name not in names:
                continue
            for seed in seed_set[cell.name]:
                r = run_cell(daily, cell, seed, work, settings)
                results.append({"cell": cell.name, **r})
                if json_out is not None:
                    json_out.write_text(json.dumps(results, indent=1, default=str), "utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def matrix_table(before: list[dict] | None, after: list[dict], also: dict[str, list[dict]] | None = None) -> str:
    """Markdown: one row per cell; per scorer AUC / AP@100 / P@100, the model before and after side by side."""

    def by_cell(rs: list[dict]) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for r in rs:
            out.setdefault(r["cell"], []).append(r)
        return out

    def cell_str(rs: list[dict], scorer: str) -> str:
        vals = [np.mean([r["metrics"][scorer][m] for r in rs]) for m in MATRIX_METRICS]
        return " / ".join(f"{v:.3f}" for v in vals)

    a, b = by_cell(after), by_cell(before or [])
    head = ["cell", "thieves held out"]
    if before:
        head += ["LightGBM before", "before: its out-of-fold AUC"]
    also = also or {}
    head += ["LightGBM after", "after: scoring-time out-of-fold AUC", "after: AUC by held-out timing"]
    head += [f"LightGBM after, {k}" for k in also]
    head += ["unsupervised", "largest 30-day drop"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---|" * (len(head) - 1)]
    for name, rs in a.items():
        row = [name, str(int(np.mean([r["info"]["held_thieves"] for r in rs])))]
        if before:
            row.append(cell_str(b[name], "gridaudit LightGBM") if name in b else "—")
            old = [r["info"]["estimate"].get("oof_roc_auc") for r in b.get(name, [])]
            row.append(f"{np.mean(old):.3f}" if old and all(e is not None for e in old) else "—")
        row.append(cell_str(rs, "gridaudit LightGBM"))
        est = [r["info"]["estimate"].get("scoring_oof_roc_auc") for r in rs]
        row.append(f"{np.mean(est):.3f}" if all(e is not None for e in est) else "—")
        timings = rs[0]["info"].get("model_auc_by_timing", {})
        row.append(
            ", ".join(
                f"{tm} {np.mean([r['info']['model_auc_by_timing'][tm] for r in rs]):.3f}" for tm in sorted(timings)
            )
            if len(timings) > 1
            else "—"
        )
        for extra in also.values():
            e = by_cell(extra).get(name)
            row.append(cell_str(e, "gridaudit LightGBM") if e else "—")
        row.append(cell_str(rs, "gridaudit unsupervised"))
        row.append(cell_str(rs, "baseline largest 30-day drop"))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


ESTIMATE_SECTION = "## Issue 17 — estimate and defaults (branch risk)"


def cell_estimate(r: dict) -> tuple[str, float | None]:
    """The estimate that measures what a cell measures: the scoring-time estimate of the cell's held-out timing
    (ongoing, ended, intermittent) when the cell has one, else its mixed figure."""
    held = next((c.held for c in CELLS if c.name == r["cell"]), "mixed")
    est = r["info"]["estimate"]
    if held != "mixed":
        return held, est.get("scoring_oof_roc_auc_by_timing", {}).get(held)
    return "mixed", est.get("scoring_oof_roc_auc")


def estimate_table(sets: dict[str, list[dict]]) -> str:
    """Markdown: per seed set and cell, the held-out AUC beside the scoring-time estimate for the cell, their
    difference, the estimate's mixed and per-timing figures and the label-based estimate of the same run."""
    head = ["seeds", "cell", "held-out AUC / AP@100", "estimate for the cell", "estimate − held-out",
            "scoring-time estimate: mixed / ongoing / ended / intermittent, AP@100",
            "label-based estimate (first version)"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---|" * (len(head) - 1)]
    diffs: dict[str, list[float]] = {}
    for label, rs in sets.items():
        for r in rs:
            est = r["info"]["estimate"]
            held = r["metrics"]["gridaudit LightGBM"]
            which, e = cell_estimate(r)
            bt = est.get("scoring_oof_roc_auc_by_timing", {})
            d = None if e is None else e - held["roc_auc"]
            if d is not None:
                diffs.setdefault(label, []).append(d)
            parts = [f"{est.get('scoring_oof_roc_auc', float('nan')):.3f}"]
            parts += [f"{bt[t]:.3f}" if t in bt else "—" for t in ("ongoing", "ended", "intermittent")]
            lines.append(
                "| " + " | ".join([
                    f"{label} ({r['info']['seed']})", r["cell"], f"{held['roc_auc']:.3f} / {held['ap_at_100']:.3f}",
                    "—" if e is None else f"{e:.3f} ({which})", "—" if d is None else f"{d:+.3f}",
                    " / ".join(parts) + f", {est.get('scoring_oof_ap_at_100', float('nan')):.3f}",
                    f"{est.get('inspection_oof_roc_auc', float('nan')):.3f}",
                ]) + " |"
            )  # fmt: skip
    for label, ds in diffs.items():
        v = np.abs(np.array(ds))
        lines.append(
            f"\n{label}: {int((v <= 0.03).sum())} of {len(v)} cells within ±0.03; largest |difference| {v.max():.3f}, "
            f"mean difference {np.mean(ds):+.3f}"
        )
    return "\n".join(lines)


def table(results: list[dict[str, dict[str, float]]]) -> str:
    """Markdown table, mean ± sd over seeds."""
    names = list(results[0])
    lines = ["| scorer | " + " | ".join(METRICS) + " |", "|---|" + "---|" * len(METRICS)]
    for name in names:
        cells = []
        for m in METRICS:
            v = np.array([r[name][m] for r in results])
            cells.append(f"{v.mean():.3f} ± {v.std(ddof=1) if len(v) > 1 else 0:.3f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    """Run the seeds, print the table, optionally write it into BENCHMARKS.md."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--dev-seeds", default="", help="development seeds, reported beside the main table")
    ap.add_argument("--write", action="store_true", help="replace the table in BENCHMARKS.md")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a RiskSettings value (JSON)")
    ap.add_argument("--no-baselines", action="store_true", help="LightGBM only (development runs)")
    ap.add_argument("--matrix", action="store_true", help="the issue-17 protocol matrix instead of the seeds")
    ap.add_argument("--cells", default="", help="matrix: only these cells (names separated by ';')")
    ap.add_argument("--json-out", type=Path, help="matrix: write the results here (JSON)")
    ap.add_argument("--dev", action="store_true", help="matrix: the development seeds")
    ap.add_argument("--seed-set", default="", choices=["", "main", "dev", "check"], help="matrix: which seeds")
    ap.add_argument("--also", action="append", default=[], metavar="LABEL=JSON", help="matrix: another run's column")
    ap.add_argument("--after-json", type=Path, action="append", default=[], help="matrix: render these results")
    ap.add_argument(
        "--estimate-table", action="append", default=[], metavar="LABEL=JSON",
        help="render the estimate-against-held-out table of these saved runs (repeat per seed set)",
    )  # fmt: skip
    ap.add_argument(
        "--before", type=Path, action="append", default=[],
        help="matrix: results of the 'before' run (JSON; repeat for several files), shown beside",
    )  # fmt: skip
    args = ap.parse_args()
    if args.estimate_table:
        specs = (x.split("=", 1) for x in args.estimate_table)
        sets = {lab: json.loads(Path(f).read_text("utf-8")) for lab, f in specs}
        md = estimate_table(sets)
        print(md)
        if args.write:
            from bench_report import replace_block

            replace_block("risk_estimate", md, ESTIMATE_SECTION)
        return
    if args.matrix:
        overrides = {k: json.loads(v) for k, v in (kv.split("=", 1) for kv in args.set)}
        known = RiskSettings().to_dict()
        settings = RiskSettings.from_dict({**known, **{k: v for k, v in overrides.items() if k in known}})
        print(f"settings overrides: {overrides or 'none'}", flush=True)
        names = [n for n in args.cells.split(";") if n]
        if args.after_json:  # render saved results (of this script) instead of running
            results = [r for f in args.after_json for r in json.loads(f.read_text("utf-8"))]
        else:
            results = run_matrix(load_lcl(), settings, names, args.json_out, args.seed_set or args.dev)
        seen = {(r["cell"], r["info"]["seed"]) for r in results}  # before: the same cells and seeds only
        before = [r for f in args.before for r in json.loads(f.read_text("utf-8"))]
        before = [r for r in before if (r["cell"], r["info"]["seed"]) in seen] or None
        also = {}
        for spec in args.also:
            label, path = spec.split("=", 1)
            also[label] = [
                r for r in json.loads(Path(path).read_text("utf-8")) if (r["cell"], r["info"]["seed"]) in seen
            ]
        md = matrix_table(before, results, also)
        print(md)
        if args.write:
            from bench_report import replace_block

            replace_block("risk_matrix", md, MATRIX_SECTION)
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    dev = [int(s) for s in args.dev_seeds.split(",") if s]
    overrides = {k: json.loads(v) for k, v in (kv.split("=", 1) for kv in args.set)}
    settings = RiskSettings.from_dict({**RiskSettings().to_dict(), **overrides})
    print(f"settings overrides: {overrides or 'none'}", flush=True)
    daily = load_lcl()
    work = Path(tempfile.mkdtemp(prefix="risk_lcl_"))
    try:
        results = [run_seed(daily, seed, work, settings, not args.no_baselines) for seed in seeds]
        dev_results = [run_seed(daily, seed, work, settings, not args.no_baselines) for seed in dev]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    md = table(results)
    if dev_results:
        md += (
            f"\n\nDevelopment seeds ({args.dev_seeds}; every choice was made on these, never on the seeds above):"
            f"\n\n{table(dev_results)}"
        )
    print(md)
    if args.write:
        from bench_report import replace_block

        replace_block(
            "risk_lcl", f"{len(seeds)} seeds ({args.seeds}), {daily['household_id'].nunique()} households\n\n{md}"
        )


if __name__ == "__main__":
    main()
