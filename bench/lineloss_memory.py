"""Issues 17/18: line loss (``run_loss`` over the whole data span) within a DuckDB memory limit, and whether two
runs gave the same results.

One run per process (its peak RSS is its own): opens a DuckDB engine with ``--memory-limit`` and ``--threads``,
runs :func:`gridaudit.lineloss.run.run_loss`, prints one JSON line (wall and CPU seconds of the process, all
threads; peak RSS; the run's own stage laps; rows; load average) and with ``--dump DIR`` writes every output
table and the findings as Parquet, so that two runs (before/after a change, or two memory limits) can be
compared with ``--compare A B``: each table sorted by all its columns, then compared cell by cell (exactly; a
float column's largest difference is reported when there is one).

    PYTHONPATH=src nice -n 5 python bench/lineloss_memory.py --data /work/data/synth-300k/dataset \
        --memory-limit 1200MB --dump /tmp/ll300k-after --out bench/results/lineloss_memory.jsonl
    PYTHONPATH=src python bench/lineloss_memory.py --compare /tmp/ll300k-before /tmp/ll300k-after
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
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]


def run(args: argparse.Namespace) -> dict[str, Any]:
    """One ``run_loss`` on a DuckDB engine with the given limits; the figures as a dict."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines import EngineSettings, open_engine
    from gridaudit.lineloss.run import run_loss

    ds = open_dataset(args.data)
    load0 = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    eng = open_engine(ds, EngineSettings(memory_limit=args.memory_limit, threads=args.threads))
    rec: dict[str, Any] = {"data": str(args.data), "memory_limit": args.memory_limit, "threads": args.threads}
    try:
        res = run_loss(ds, engine=eng)
        rec["status"] = "ok"
    except Exception as exc:  # the figure of a failed run (out of memory) is a result too
        rec.update(status="error", message=f"{type(exc).__name__}: {str(exc)[:400]}")
        res = None
    finally:
        eng.close()
    rec.update(
        seconds=round(time.perf_counter() - t0, 2),
        cpu_s=round(time.process_time() - c0, 2),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        load_start=round(load0, 2),
        load_end=round(os.getloadavg()[0], 2),
        commit=subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip(),
        customers=ds.rows("customers"),
        daily_rows=ds.rows("daily_usage"),
    )
    if res is not None:
        rec["laps"] = res.seconds
        rec["findings"] = res.findings.num_rows
        rec["monthly_rows"] = res.balance.monthly.num_rows
        if args.dump:
            out = Path(args.dump)
            out.mkdir(parents=True, exist_ok=True)
            for stem, table in {**res.tables(), "findings": res.findings}.items():
                pq.write_table(table, out / f"{stem}.parquet")
    return rec


def canonical(table: pa.Table) -> pa.Table:
    """``table`` sorted by every column (nested columns as JSON text), so row order does not count."""
    cols = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_nested(col.type) or pa.types.is_map(col.type):
            col = pa.array([json.dumps(v, sort_keys=True, default=str) for v in col.to_pylist()])
        cols[name] = col
    flat = pa.table(cols)
    return flat.sort_by([(n, "ascending") for n in flat.column_names])


def compare_dirs(a: Path, b: Path) -> list[str]:
    """Differences between the tables dumped in ``a`` and ``b`` (empty: identical)."""
    problems = []
    names = sorted({p.name for p in a.glob("*.parquet")} | {p.name for p in b.glob("*.parquet")})
    for name in names:
        if not (a / name).exists() or not (b / name).exists():
            problems.append(f"{name}: only in one of the two")
            continue
        ta, tb = pq.read_table(a / name), pq.read_table(b / name)
        if ta.schema != tb.schema:
            problems.append(f"{name}: schemas differ\n{ta.schema}\n---\n{tb.schema}")
            continue
        if ta.num_rows != tb.num_rows:
            problems.append(f"{name}: {ta.num_rows} vs {tb.num_rows} rows")
            continue
        ca, cb = canonical(ta), canonical(tb)
        for col in ca.column_names:
            x, y = ca.column(col), cb.column(col)
            if x.equals(y):
                continue
            if pa.types.is_floating(x.type):
                diff = pc.max(pc.abs(pc.subtract(x, y))).as_py()
                problems.append(f"{name}.{col}: floats differ, largest |difference| {diff}")
            else:
                bad = sum(1 for u, v in zip(x.to_pylist(), y.to_pylist(), strict=True) if u != v)
                problems.append(f"{name}.{col}: {bad} cells differ")
        print(f"{name}: {ta.num_rows} rows compared", file=sys.stderr)
    return problems


def main() -> None:
    """Run once (``--data``) or compare two dumps (``--compare A B``)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="dataset folder")
    ap.add_argument("--memory-limit", default="4GB")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dump", type=Path, help="write every output table and the findings here (Parquet)")
    ap.add_argument("--out", type=Path, help="append the JSON line here")
    ap.add_argument("--label", default="", help="a label kept in the JSON line (e.g. before / after)")
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"), help="compare two --dump folders")
    args = ap.parse_args()
    if args.compare:
        problems = compare_dirs(*args.compare)
        print("\n".join(problems) if problems else "identical")
        sys.exit(1 if problems else 0)
    rec = {"label": args.label, **run(args)}
    text = json.dumps(rec, default=str)
    print(text, flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "a", encoding="utf-8") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
