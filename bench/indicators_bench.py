"""Indicator assessment speed and memory: all indicators for one month, as ratios to one scan of the month's data.

    nice -n 10 env PYTHONPATH=src python bench/indicators_bench.py --customers 200000 --months 3 --data /tmp/ind-bench

Makes the synthetic utility (``gridaudit synth`` + ingest, as the demo does) into ``--data`` when it holds no
dataset yet, then runs each phase in a fresh child process (so each peak RSS is its own):

* baseline: one scan of the month's data every indicator family reads — daily_usage of the month (meter_id,
  day, kwh), readings (meter_id, period, read_type, reader_id), bills (customer_id, period, clerk_id),
  meters and customers — as one aggregate per table on DuckDB;
* indicators: ``gridaudit.indicators.assess.assess_month`` for the last month, every catalogue indicator at
  every level (the line-loss balance of the month included), without the previous month's comparison and
  without a case store (the audit-loop indicators read a few thousand task rows; they are not the cost).

Writes the ``## Issue 14 — indicators`` block of BENCHMARKS.md (time and peak memory, and their ratios).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
SECTION = "## Issue 14 — indicators"

BASELINE_SQL = [
    "select count(*), sum(kwh), count(distinct meter_id) from daily_usage where day >= $s and day < $n",
    "select count(*), count(distinct meter_id), sum(case when read_type = 'estimated' then 1 else 0 end), "
    "count(distinct reader_id) from readings where period = $m",
    "select count(*), count(distinct customer_id), count(distinct clerk_id) from bills where period = $m",
    "select count(*), count(distinct customer_id) from meters",
    "select count(*), count(distinct unit_id), count(distinct area_id) from customers",
]


def make_data(root: Path, customers: int, months: int) -> Path:
    """The synthetic utility as a dataset under ``root/dataset`` (kept for the next run)."""
    from gridaudit.ingest import ingest
    from gridaudit.synth.config import SynthConfig
    from gridaudit.synth.generate import generate, source_files

    ds = root / "dataset"
    if (ds / "CURRENT").is_file():
        return ds
    src = root / "source"
    generate(SynthConfig(customers=customers, months=months, start="2024-01", seed=42, fmt="parquet"), src)
    result = ingest(source_files(src), ds)
    if result.dataset is None:
        raise SystemExit("; ".join(result.errors))
    return ds


def last_month(ds: Path) -> str:
    """The last month of daily_usage in the dataset."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines.duckdb import DuckDBEngine

    eng = DuckDBEngine(open_dataset(ds))
    try:
        return str(eng.query("select strftime(max(day), '%Y-%m') m from daily_usage").column("m")[0])
    finally:
        eng.close()


def peak_mb() -> int:
    """This process's peak resident memory in MB (VmHWM: reset by exec, unlike ru_maxrss after a fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def phase(name: str, ds: Path, month: str, threads: int) -> dict:
    """Run one phase in this process; returns seconds and peak RSS (MB)."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines.duckdb import DuckDBEngine
    from gridaudit.indicators.inputs import month_bounds

    dataset = open_dataset(ds)
    t0 = time.perf_counter()
    if name == "baseline":
        eng = DuckDBEngine(dataset, threads=threads)
        s, n = month_bounds(month)
        for sql in BASELINE_SQL:
            eng.query(sql, {k: v for k, v in {"s": s, "n": n, "m": month}.items() if f"${k}" in sql})
        eng.close()
        extra: dict = {}
    else:
        from gridaudit.indicators.assess import assess_month

        a = assess_month(dataset, month, compare=False)
        extra = {"values": len(a.scored), "standings": len(a.standings)}
    seconds = time.perf_counter() - t0
    return {"seconds": round(seconds, 2), "peak_mb": peak_mb(), **extra}


def child(name: str, ds: Path, month: str, threads: int) -> dict:
    """``phase`` in a fresh interpreter (its own peak memory)."""
    out = subprocess.run(
        [sys.executable, __file__, "--phase", name, "--dataset", str(ds), "--month", month, "--threads", str(threads)],
        check=True, capture_output=True, text=True, env={**os.environ},
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_section(text: str) -> None:
    """Replace (or append) the section in BENCHMARKS.md."""
    body = BENCH.read_text("utf-8") if BENCH.exists() else ""
    if SECTION in body:
        start = body.index(SECTION)
        nxt = body.find("\n## ", start + len(SECTION))
        body = body[:start] + text + (body[nxt:] if nxt != -1 else "")
    else:
        body = body.rstrip("\n") + "\n\n" + text
    BENCH.write_text(body, "utf-8")


def main() -> None:
    """Parse the options, run the phases, print and record the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, default=200000)
    ap.add_argument("--months", type=int, default=3)
    ap.add_argument("--data", type=Path, default=Path("/tmp/ind-bench"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--phase", choices=["baseline", "indicators"])
    ap.add_argument("--dataset", type=Path)
    ap.add_argument("--month")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.dataset, args.month, args.threads)))
        return
    ds = make_data(args.data, args.customers, args.months)
    month = last_month(ds)
    runs = {p: [child(p, ds, month, args.threads) for _ in range(args.repeat)] for p in ("baseline", "indicators")}
    best = {p: min(r, key=lambda x: x["seconds"]) for p, r in runs.items()}
    b, i = best["baseline"], best["indicators"]
    from gridaudit.indicators.catalog import load_catalog

    n_indicators = len(load_catalog())
    lines = [
        SECTION,
        "",
        f"All {i['values']:,} indicator values ({n_indicators} indicators × every level and entity, "
        f"{i['standings']:,} standings) for {month} of the synthetic utility "
        f"at {args.customers:,} customers × {args.months} months (`gridaudit synth`, seed 42), DuckDB, "
        f"{args.threads} threads, 2-core machine shared with other jobs; best of {args.repeat}, each phase in a "
        "fresh process. Baseline: one aggregate scan of the month's daily_usage, readings and bills plus meters "
        "and customers. `bench/indicators_bench.py`.",
        "",
        "| phase | seconds | peak RSS MB |",
        "|---|---:|---:|",
        f"| one scan of the month's data | {b['seconds']:.2f} | {b['peak_mb']} |",
        f"| all indicators (`assess_month`, no comparison) | {i['seconds']:.2f} | {i['peak_mb']} |",
        f"| **ratio** | **{i['seconds'] / b['seconds']:.1f}×** | **{i['peak_mb'] / b['peak_mb']:.1f}×** |",
        "",
        "The month's line-loss balance (one pass over daily_usage, `lineloss.balance`) is inside the indicator "
        "time; the comparison with the previous month (on by default in the CLI) costs a second month. Memory is each "
        "phase's own peak (VmHWM of a fresh process, Python and DuckDB included).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(text)


if __name__ == "__main__":
    main()
