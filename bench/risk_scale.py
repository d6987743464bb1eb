"""Theft-risk features and scoring at county scale: 1 M customers × 365 days of daily_usage on 2 cores.

Uses /work/bench-data/synth-1m when it exists (the synth helper's dataset), otherwise generates a
daily_usage-like dataset with DuckDB ``range()`` (customers, meters, daily_usage, a few thousand inspections).
Each phase runs in its own process so its peak memory (max RSS, DuckDB included) is its own:

* ``scan``      one scan of daily_usage (SUM(kwh) GROUP BY meter_id) — the baseline
* ``features``  the feature query for every customer (gridaudit.risk.features)
* ``score``     features + unsupervised score + explanations + ranking (= ``gridaudit risk score``)
* ``score_lgbm`` the same with a LightGBM model trained on the dataset's inspections

    PYTHONPATH=src:bench nice -n 10 python bench/risk_scale.py [--customers 1000000] [--days 365] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

SYNTH_1M = Path("/work/bench-data/synth-1m")


def generate(root: Path, customers: int, days: int) -> None:
    """Write a dataset of ``customers`` × ``days`` daily rows (a step drop for 10%, inspections for 0.5%)."""
    import duckdb

    from gridaudit.dataset import commit_version, stage_version

    staged = stage_version(root)
    p = staged.path
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute(
        f"""COPY (SELECT printf('C%08d', i) AS customer_id, 'U' || (i % 20) AS unit_id,
                 CASE WHEN i % 10 = 0 THEN 'commercial' ELSE 'residential' END AS category, 'R1' AS tariff_code,
                 0.4 AS voltage_kv, 8.0 AS contract_kva, 'active' AS status, printf('A%06d', i // 200) AS area_id
          FROM range({customers}) t(i)) TO '{p}/customers.parquet' (FORMAT parquet)"""
    )
    con.execute(
        f"""COPY (SELECT printf('M%08d', i) AS meter_id, 'customer' AS role, 1.0 AS multiplier,
                 printf('C%08d', i) AS customer_id FROM range({customers}) t(i))
          TO '{p}/meters.parquet' (FORMAT parquet)"""
    )
    (p / "daily_usage").mkdir()
    chunk = 250_000
    for part, lo in enumerate(range(0, customers, chunk)):
        hi = min(customers, lo + chunk)
        con.execute(
            f"""COPY (SELECT printf('M%08d', i) AS meter_id, DATE '2024-01-01' + CAST(d AS INTEGER) AS day,
                     round((2 + (hash(i) % 1000) / 100.0) * (1 + 0.3 * cos(2 * pi() * d / 365.0))
                           * (0.7 + 0.6 * random())
                           * CASE WHEN i % 10 = 3 AND d > 200 + i % 120 THEN 0.4 ELSE 1 END, 3) AS kwh
              FROM range({lo}, {hi}) a(i), range({days}) b(d)
              ORDER BY meter_id, day) TO '{p}/daily_usage/part-{part:03d}.parquet' (FORMAT parquet)"""
        )
    con.execute(
        f"""COPY (SELECT printf('I%07d', i) AS inspection_id, printf('C%08d', i * 97 % {customers}) AS customer_id,
                 DATE '2024-01-01' + CAST(330 + i % 30 AS INTEGER) AS inspected_on,
                 CASE WHEN (i * 97 % {customers}) % 10 = 3 THEN 'theft' ELSE 'normal' END AS outcome
          FROM range({max(customers // 200, 100)}) t(i)) TO '{p}/inspections.parquet' (FORMAT parquet)"""
    )
    con.close()
    commit_version(staged, {"sources": [f"bench/risk_scale.py generated {customers} x {days}"]})


def phase(name: str, dataset: Path, model: Path, memory_limit: str | None = None) -> dict:
    """Run one phase in this process; return its seconds, peak RSS and rows (DuckDB at ``memory_limit``)."""
    import logging

    import duckdb

    from gridaudit.dataset import open_dataset
    from gridaudit.risk import features as feature_module
    from gridaudit.risk.pipeline import score, train
    from gridaudit.risk.settings import RiskSettings

    base = RiskSettings() if memory_limit is None else RiskSettings(memory_limit=memory_limit)
    stages: dict[str, float] = {}

    class StageTimes(logging.Handler):  # the feature query's per-stage seconds (summed over batches)
        def emit(self, record: logging.LogRecord) -> None:
            name, secs = record.args
            stages[name] = round(stages.get(name, 0.0) + secs, 1)

    feature_module.log.addHandler(StageTimes())
    feature_module.log.setLevel(logging.DEBUG)
    t0 = time.perf_counter()
    rows = None
    if name == "scan":
        ds = open_dataset(dataset)
        con = duckdb.connect()
        con.execute("SET threads = 2")
        rows = con.execute(
            f"SELECT COUNT(*) FROM (SELECT meter_id, SUM(kwh) FROM read_parquet('{ds.table_glob('daily_usage')}') "
            "GROUP BY meter_id)"
        ).fetchall()[0][0]
    elif name == "features":
        from gridaudit.engines.duckdb import DuckDBEngine
        from gridaudit.risk.features import compute_features, data_end, scoring_snapshots
        from gridaudit.risk.settings import RiskSettings

        ds = open_dataset(dataset)
        s = base
        eng = DuckDBEngine(ds, threads=s.threads, memory_limit=s.memory_limit)
        rows = len(compute_features(ds, scoring_snapshots(eng, data_end(eng)), s, engine=eng))
    elif name == "train":
        rows = train(dataset, model, settings=base).meta["labels"]["rows"]
    elif name in ("score", "score_lgbm"):
        rows = len(score(dataset, model if name == "score_lgbm" else None, settings=base))
    elif name == "score_split":  # = score_lgbm, timed per part (features; model, explanations and ranking)
        from gridaudit.engines.duckdb import DuckDBEngine
        from gridaudit.risk.features import compute_features, data_end, scoring_snapshots
        from gridaudit.risk.pipeline import _prices, load_scorer, score_from_features
        from gridaudit.risk.settings import RiskSettings

        scorer = load_scorer(model)
        s = RiskSettings.from_dict(scorer.meta.get("settings", {})) if scorer is not None else RiskSettings()
        s = replace(s, memory_limit=base.memory_limit)
        ds = open_dataset(dataset)
        eng = DuckDBEngine(ds, threads=s.threads, memory_limit=s.memory_limit)
        as_of = data_end(eng)
        feats = compute_features(ds, scoring_snapshots(eng, as_of), s, engine=eng)
        prices = _prices(eng, as_of)
        eng.close()
        t_feat = time.perf_counter() - t0
        rows = len(score_from_features(feats, scorer, s, as_of, prices))
        extra = {"features_s": round(t_feat, 1), "model_s": round(time.perf_counter() - t0 - t_feat, 1)}
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"phase": name, "seconds": round(seconds, 1), "peak_mb": round(peak_mb), "rows": rows}
    return {**out, **(extra if name == "score_split" else {}), **({"stages": stages} if stages else {})}


def main() -> None:
    """Generate (if needed), run each phase in a child process, print and optionally write the table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--dataset", type=Path, default=None)
    ap.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--model", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--phases", default="scan,score,train,score_lgbm", help="comma-separated, run in order")
    ap.add_argument("--memory-limit", default=None, help="DuckDB memory_limit of the phases (default: RiskSettings)")
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.dataset, args.model, args.memory_limit)))
        return
    from gridaudit.dataset import is_dataset, open_dataset

    dataset = args.dataset or (
        SYNTH_1M if is_dataset(SYNTH_1M) else Path(f"/tmp/risk_scale_{args.customers}x{args.days}")
    )
    if not is_dataset(dataset):
        t0 = time.perf_counter()
        generate(dataset, args.customers, args.days)
        print(f"generated {dataset} in {time.perf_counter() - t0:.0f} s", flush=True)
    ds = open_dataset(dataset)
    model = Path(f"/tmp/risk_scale_{os.getpid()}.model")
    results = []
    for name in args.phases.split(","):
        out = subprocess.run(
            [sys.executable, __file__, "--phase", name, "--dataset", str(dataset), "--model", str(model)]
            + (["--memory-limit", args.memory_limit] if args.memory_limit else []),
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:  # show why (e.g. DuckDB out of memory) instead of a bare CalledProcessError
            sys.exit(f"phase {name} failed:\n{out.stderr[-3000:]}")
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(results[-1], flush=True)
    base = results[0]["seconds"]
    lines = [
        f"dataset: {dataset} ({ds.rows('daily_usage'):,} daily_usage rows, {ds.rows('customers'):,} customers), "
        f"2 threads, DuckDB memory_limit {args.memory_limit or '4GB'}",
        "",
        "| phase | seconds | × one scan | peak RSS MB | rows |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        name = r["phase"]
        if "features_s" in r:
            name += f" (features {r['features_s']} s + model, explanations, ranking {r['model_s']} s)"
        lines.append(f"| {name} | {r['seconds']} | {r['seconds'] / base:.1f} | {r['peak_mb']} | {r['rows']} |")
    md = "\n".join(lines)
    print(md)
    for suffix in ("", ".json"):
        Path(str(model) + suffix).unlink(missing_ok=True)
    if args.write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_report import replace_block

        replace_block("risk_scale", md)


if __name__ == "__main__":
    main()
