"""Plan creation from a findings store holding 1 M findings: seconds and peak RSS, as ratios against a plain read.

  nice -n 10 env PYTHONPATH=src python bench/findings_store.py [--rows 1000000] [--top 200] [--dir /tmp/fs-bench]

Builds a small dataset (customers with two tariff versions), appends one ``rules`` run of N findings to its
store (a third give only kWh, so the append prices them through DuckDB), then, each in a fresh process:

1. ``pyarrow.parquet.read_table`` of the run's file (the baseline);
2. ``load_findings(dataset)`` (list the runs, pick the latest per analyzer, read);
3. ``load_findings`` + ``create_plan`` (top N) into a new SQLite case store.

Prints the figures; ``--write`` puts them in the ``## Issue 12 — findings store`` block of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

BENCH = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
SECTION = "## Issue 12 — findings store"
CUSTOMERS = 100_000


def build(root: Path, rows: int) -> dict:
    """The dataset and one run of ``rows`` findings; returns the append's seconds."""
    from gridaudit.contract import load_contract
    from gridaudit.dataset import commit_version, stage_version
    from gridaudit.findings import FINDINGS_SCHEMA, RunProvenance, append_run

    def table(name: str, cols: dict) -> pa.Table:
        schema = load_contract().table(name).arrow_schema()
        n = len(next(iter(cols.values())))
        return pa.table({f.name: cols.get(f.name, pa.nulls(n, f.type)) for f in schema}, schema=schema)

    ids = [f"C{i:07d}" for i in range(CUSTOMERS)]
    st = stage_version(root)
    st.write_table(
        "customers",
        table(
            "customers",
            {
                "customer_id": ids,
                "unit_id": [f"U{i % 20:02d}" for i in range(CUSTOMERS)],
                "category": ["residential"] * CUSTOMERS,
                "tariff_code": ["RES" if i % 3 else "COM" for i in range(CUSTOMERS)],
                "voltage_kv": [0.4] * CUSTOMERS,
                "contract_kva": [8.0] * CUSTOMERS,
                "status": ["active"] * CUSTOMERS,
            },
        ),
    )
    st.write_table(
        "tariffs",
        table(
            "tariffs",
            {
                "tariff_code": ["RES", "RES", "COM"],
                "category": ["residential", "residential", "commercial"],
                "price_yuan_kwh": [0.5, 0.6, 0.8],
                "valid_from": [date(2020, 1, 1), date(2025, 4, 1), date(2020, 1, 1)],
                "valid_to": [date(2025, 3, 31), None, None],
            },
        ),
    )
    commit_version(st, {"sources": ["bench"]})
    rng = np.random.default_rng(7)

    def batches(size: int = 200_000):
        for start in range(0, rows, size):
            n = min(size, rows - start)
            i = np.arange(start, start + n)
            kwh = np.round(rng.gamma(2.0, 300.0, n), 1)
            yuan = np.where(i % 3 == 0, np.nan, np.round(kwh * 0.6, 2))
            yield pa.table(
                {
                    "finding_id": [f"f{k:019d}" for k in i],
                    "rule_id": [f"rule_{k % 40}" for k in i],
                    "family": [("billing", "reading", "metering", "theft")[k % 4] for k in i],
                    "severity": [("low", "medium", "high", "critical")[k % 4] for k in i],
                    "entity_type": ["customer"] * n,
                    "entity_id": [ids[k % CUSTOMERS] for k in i],
                    "period": [f"2025-{k % 12 + 1:02d}" for k in i],
                    "score": rng.random(n),
                    "kwh_at_stake": kwh,
                    "yuan_at_stake": pa.array(yuan, pa.float64(), mask=np.isnan(yuan)),
                    "responsible_staff_id": [f"S{k % 500:03d}" for k in i],
                    "evidence": [f'{{"n":{k % 97}}}' for k in i],
                    "run_id": [None] * n,
                },
                schema=FINDINGS_SCHEMA,
            )

    t0 = time.perf_counter()
    run = append_run(root, batches(), RunProvenance(analyzer="rules"))
    return {"append_s": round(time.perf_counter() - t0, 2), "run": str(run.findings_path), "rows": run.rows}


def phase(name: str, root: Path, run_file: str, top: int) -> dict:
    """One measured phase in this (fresh) process."""
    import pyarrow.parquet as pq

    from gridaudit.audit import plans, store, users  # noqa: F401 - imports are not what is measured
    from gridaudit.findings import load_findings  # noqa: F401

    t0 = time.perf_counter()
    if name == "read":
        n = pq.read_table(run_file).num_rows
    else:
        from gridaudit.findings import load_findings

        table = load_findings(root)
        n = table.num_rows
        if name == "plan":
            from gridaudit.audit.plans import create_plan
            from gridaudit.audit.store import open_store
            from gridaudit.audit.users import add_user

            db = root.parent / f"cases-{time.time_ns()}.db"
            store = open_store(db)
            with store.transaction() as s:
                add_user(s, None, "admin", "admin", "admin", None, None, None)
                add_user(s, "admin", "li", "li", "auditor", None, None, None)
            with store.transaction() as s:
                create_plan(s, "li", "2026-01", table, kind="comprehensive", top=top)
            store.dispose()
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"phase": name, "rows": n, "seconds": round(seconds, 2), "peak_rss_mb": round(peak)}


def main() -> None:
    """Build the store, run each phase in its own process, print (and optionally write) the figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--top", type=int, default=200)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/gridaudit-findings-bench"))
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--phase")
    ap.add_argument("--run-file")
    args = ap.parse_args()
    root = args.dir / "ds"
    if args.phase:
        print(json.dumps(phase(args.phase, root, args.run_file, args.top)))
        return
    import shutil

    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)
    built = build(root, args.rows)
    results = {}
    for name in ("read", "load", "plan"):
        cmd = [sys.executable, __file__, "--phase", name, "--dir", str(args.dir), "--run-file", built["run"]]
        out = subprocess.run([*cmd, "--top", str(args.top)], check=True, capture_output=True, text=True)
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    base = results["read"]
    lines = [
        SECTION,
        "",
        f"`bench/findings_store.py --rows {args.rows}`: one `rules` run of {built['rows']:,} findings in a dataset's "
        f"store (a third kWh-only, priced on append), {CUSTOMERS:,} customers; each phase in a fresh process.",
        "",
        "| step | seconds | peak RSS MB | vs. plain `read_table` (time / memory) |",
        "|---|---|---|---|",
        f"| append the run (price, write, fsync, rename) | {built['append_s']} | – | – |",
    ]
    for name, label in (
        ("read", "plain `pyarrow.parquet.read_table` of the run file"),
        ("load", "`load_findings(dataset)` (latest run per analyzer)"),
        ("plan", f"`load_findings` + `create_plan` (top {args.top}) into SQLite"),
    ):
        r = results[name]
        ratio = f"{r['seconds'] / max(base['seconds'], 1e-3):.1f}× / {r['peak_rss_mb'] / base['peak_rss_mb']:.1f}×"
        lines.append(f"| {label} | {r['seconds']} | {r['peak_rss_mb']} | {ratio} |")
    block = "\n".join(lines) + "\n"
    print(block)
    if args.write:
        text = BENCH.read_text("utf-8")
        if SECTION in text:
            head, _, rest = text.partition(SECTION)
            tail = rest[rest.find("\n## ") :] if "\n## " in rest else ""
            text = head + block + tail
        else:
            text = text.rstrip("\n") + "\n\n" + block
        BENCH.write_text(text, "utf-8")


if __name__ == "__main__":
    main()
