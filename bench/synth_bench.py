"""Synth benchmark: time and peak memory of ``generate`` at growing sizes (12 months each), run in
child processes so each size has its own peak RSS; ratios against the smallest size of the same run.

    python bench/synth_bench.py                       # 20k, 100k, 1M customers
    python bench/synth_bench.py --sizes 20000 100000  # quicker
    python bench/synth_bench.py --keep /work/bench-data/synth-1m --ingest   # keep and ingest the largest
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(size: int, months: int, out: Path, ingest_to: Path | None) -> None:
    """Generate (and optionally ingest) one size; print a JSON line with seconds and peak RSS."""
    from gridaudit.synth import SynthConfig, generate, source_files

    t0 = time.perf_counter()
    res = generate(SynthConfig(customers=size, months=months, start="2024-01", seed=1), out)
    synth_s = time.perf_counter() - t0
    synth_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rec = {"customers": size, "months": months, "synth_s": round(synth_s, 1), "synth_peak_mb": round(synth_rss),
           "daily_rows": res.rows["daily_usage"], "rows_total": sum(res.rows.values()),
           "bytes": sum(p.stat().st_size for p in out.iterdir())}  # fmt: skip
    if ingest_to is not None:
        from gridaudit.ingest import IngestSettings, ingest

        t1 = time.perf_counter()
        r = ingest(source_files(out), ingest_to, settings=IngestSettings(memory_limit="4GB"))
        rec["ingest_s"] = round(time.perf_counter() - t1, 1)
        rec["ingest_exit"] = r.exit_code
        rec["rejected"] = sum(r.rejected.values())
        rec["peak_mb_with_ingest"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(rec), flush=True)


def main() -> None:
    """Run every size in a child process and print a table with ratios to the first size."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[20000, 100000, 1000000])
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--keep", type=Path, help="keep the largest size's output here (source/ and dataset/)")
    ap.add_argument("--ingest", action="store_true", help="also ingest the kept output")
    ap.add_argument("--child", type=int)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--ingest-to", type=Path)
    a = ap.parse_args()
    if a.child:
        child(a.child, a.months, a.out, a.ingest_to)
        return
    results = []
    for i, size in enumerate(a.sizes):
        last = i == len(a.sizes) - 1
        tmp = Path(tempfile.mkdtemp(prefix="synthbench-"))
        out = (a.keep / "source") if (last and a.keep) else tmp / "out"
        if last and a.keep and a.keep.exists():
            shutil.rmtree(a.keep)
        cmd = [sys.executable, __file__, "--child", str(size), "--months", str(a.months), "--out", str(out)]
        if last and a.keep and a.ingest:
            cmd += ["--ingest-to", str(a.keep / "dataset")]
        line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        rec = json.loads(line)
        results.append(rec)
        print(json.dumps(rec), flush=True)
        shutil.rmtree(tmp, ignore_errors=True)
    base = results[0]
    print(f"{'customers':>10} {'daily rows':>12} {'synth s':>8} {'µs/daily row':>12} {'peak MB':>8} "
          f"{'time ×':>7} {'rows ×':>7} {'mem ×':>6}")  # fmt: skip
    for r in results:
        print(f"{r['customers']:>10,} {r['daily_rows']:>12,} {r['synth_s']:>8} "
              f"{1e6 * r['synth_s'] / r['daily_rows']:>12.2f} {r['synth_peak_mb']:>8} "
              f"{r['synth_s'] / base['synth_s']:>7.1f} {r['daily_rows'] / base['daily_rows']:>7.1f} "
              f"{r['synth_peak_mb'] / base['synth_peak_mb']:>6.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
