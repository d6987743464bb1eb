"""Monthly report time, peak memory and file sizes, as ratios against reading its inputs.

  nice -n 10 env PYTHONPATH=src python bench/report_bench.py --demo DIR [--month YYYY-MM] [--write]

DIR is a ``gridaudit demo`` folder (dataset/ with its findings store and a stored loss run, audit/). Each
measurement is a fresh child process (wall and CPU seconds, peak RSS from getrusage):

* inputs: a plain read of what the report reads — the latest findings runs (pyarrow), the line-loss
  ``balance_monthly`` table of the newest stored loss run (else DIR/loss/), the names tables through DuckDB,
  every task of the month from the store;
* model: ``build_report`` (reads and computes every section);
* html / pdf / xlsx: the model built, then rendered to that format (the render time is the difference).

``--write`` puts the table into BENCHMARKS.md under ``## Issue 16 — monthly report``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
SECTION = "## Issue 16 — monthly report"

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
kind, demo, month, out = sys.argv[1], Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
t0, c0 = time.perf_counter(), time.process_time()
from gridaudit.audit.store import open_store
st = open_store(demo / "audit")
extra = {}
if kind == "inputs":
    import pyarrow.parquet as pq
    from sqlalchemy import select
    from gridaudit.audit.models import Plan, Task
    from gridaudit.dataset import open_dataset
    from gridaudit.engines.duckdb import DuckDBEngine
    from gridaudit.findings import latest_runs
    from gridaudit.findings.store import read_runs
    rows = read_runs(latest_runs(demo / "dataset")).num_rows
    from gridaudit.lineloss.stored import loss_runs
    stored = loss_runs(demo / "dataset")
    bm = stored[-1].path("balance_monthly") if stored else demo / "loss" / "balance_monthly.parquet"
    rows += pq.read_table(bm).num_rows
    eng = DuckDBEngine(open_dataset(demo / "dataset"))
    for t in ("units", "feeders", "areas", "customers", "staff"):
        rows += eng.query(f"select * from {t}").num_rows
    eng.close()
    with st.transaction() as s:
        rows += len(s.execute(select(Task).join(Plan).where(Plan.month == month)).scalars().all())
    extra["rows"] = rows
else:
    from gridaudit.reports.monthly.build import build_report
    with st.transaction() as s:
        rep = build_report(demo / "dataset", s, month)
    t1 = time.perf_counter()
    extra["model_s"] = t1 - t0
    if kind != "model":
        from gridaudit.reports.cli import write_report
        files = write_report(rep, out, "zh", [kind])
        extra["bytes"] = files[kind].stat().st_size
        extra["render_s"] = time.perf_counter() - t1
st.dispose()
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
                  "peak_mb": ru.ru_maxrss / 1024, **extra}))
"""


def child(kind: str, demo: Path, month: str, out: Path) -> dict:
    res = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(demo), month, str(out)], capture_output=True, text=True, check=True
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def plan_month(demo: Path) -> str:
    from sqlalchemy import select

    from gridaudit.audit.models import Plan
    from gridaudit.audit.store import open_store

    st = open_store(demo / "audit")
    try:
        with st.transaction() as s:
            return str(s.execute(select(Plan.month).order_by(Plan.month.desc())).scalars().first())
    finally:
        st.dispose()


def customers(demo: Path) -> int:
    from gridaudit.dataset import open_dataset

    return open_dataset(demo / "dataset").rows("customers")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--demo", type=Path, required=True)
    ap.add_argument("--month")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    month = args.month or plan_month(args.demo)
    out = args.demo / "report-bench"
    res = {k: child(k, args.demo, month, out) for k in ("inputs", "model", "html", "pdf", "xlsx")}
    base = res["inputs"]
    n = customers(args.demo)
    lines = [
        f"`nice -n 10 python bench/report_bench.py --demo DIR` — {n:,} customers, report month {month} "
        "(2-core machine shared with other jobs; each row a fresh process; ratio = wall / wall of reading "
        "the inputs; CPU time is the steadier number here).",
        "",
        "| step | wall s | CPU s | ratio wall (CPU) to reading inputs | peak MB | file |",
        "|---|---:|---:|---:|---:|---:|",
        f"| read the inputs ({base['rows']:,} rows) | {base['wall']:.1f} | {base['cpu']:.1f} | 1.0× (1.0×) | "
        f"{base['peak_mb']:.0f} | |",
    ]
    for k in ("model", "html", "pdf", "xlsx"):
        r = res[k]
        size = f"{r['bytes'] / 1024:,.0f} KB" if "bytes" in r else ""
        name = "build the model" if k == "model" else f"model + {k} (render {r['render_s']:.1f} s)"
        ratio = f"{r['wall'] / base['wall']:.1f}× ({r['cpu'] / base['cpu']:.1f}×)"
        lines.append(f"| {name} | {r['wall']:.1f} | {r['cpu']:.1f} | {ratio} | {r['peak_mb']:.0f} | {size} |")
    body = "\n".join(lines)
    print(body)
    if args.write:
        text = BENCH.read_text("utf-8")
        start, end = "<!-- report:start -->", "<!-- report:end -->"
        block = f"{start}\n{body}\n{end}"
        if start in text:
            head, rest = text.split(start, 1)
            text = head + block + rest.split(end, 1)[1]
        else:
            text = text.rstrip("\n") + f"\n\n{SECTION}\n\n{block}\n"
        BENCH.write_text(text, "utf-8")


if __name__ == "__main__":
    main()
