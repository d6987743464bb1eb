"""Issue 18: the theft-risk feature query through the engine protocol, before and after, in one process.

"Before" is ``gridaudit/risk/features.py`` as of a git revision (``--before``, default the merge base with
main: stages cut with regular expressions and run on DuckDB's connection); "after" is the working tree's
(stages cut with sqlglot's tree, run through ``Engine.materialise``). Both compute the scoring features of
every customer of one small synthetic utility on DuckDB with the same limits, alternately, ``--reps`` times
each; the line printed is the median seconds of each and their ratio, and every feature is checked equal.

    PYTHONPATH=src nice -n 10 python bench/risk_engine_bench.py [--customers 2000] [--months 12] [--reps 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def before_module(rev: str, work: Path) -> ModuleType:
    """``gridaudit.risk.features`` as of ``rev``, imported under another name (it reads the same features.sql)."""
    text = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:src/gridaudit/risk/features.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = work / "features_before.py"
    path.write_text(text, "utf-8")
    spec = importlib.util.spec_from_file_location("features_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_dataset(work: Path, customers: int, months: int) -> Path:
    """A synthetic utility (``gridaudit synth``) ingested into a dataset folder."""
    src, ds = work / "src", work / "ds"
    cmd = [sys.executable, "-m", "gridaudit"]
    subprocess.run([*cmd, "synth", "--out-dir", str(src), "-n", str(customers), "--months", str(months),
                    "--seed", "42"], check=True, capture_output=True)  # fmt: skip
    subprocess.run([*cmd, "ingest", *map(str, sorted(src.glob("*.parquet"))), "--dataset", str(ds), "-q"],
                   check=False, capture_output=True)  # fmt: skip
    return ds


def differences(a: object, b: object, features: tuple[str, ...]) -> tuple[float, str]:
    """The largest relative difference between two feature frames, and where (feature, rows that differ)."""
    import pandas as pd

    assert isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame)
    assert list(a["customer_id"]) == list(b["customer_id"])
    worst, where = 0.0, "-"
    for col in features:
        x, y = a[col].to_numpy(dtype="float64"), b[col].to_numpy(dtype="float64")
        if not np.array_equal(np.isnan(x), np.isnan(y)):
            return float("inf"), f"{col}: NULL in one, not the other"
        ok = ~np.isnan(x)
        diff = np.abs(x[ok] - y[ok]) / np.maximum(np.abs(x[ok]), 1.0)
        if diff.size and float(diff.max()) > worst:
            worst, where = float(diff.max()), f"{col}, {int((diff > 1e-9).sum())} rows > 1e-9"
    return worst, where


def main() -> None:
    """Time both versions alternately; print one line (and check the features are equal to 1e-9)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--before", default="c0f59db")
    args = ap.parse_args()

    from gridaudit.dataset import open_dataset
    from gridaudit.engines import EngineSettings, open_engine
    from gridaudit.engines.duckdb import DuckDBEngine
    from gridaudit.risk import features as after
    from gridaudit.risk.settings import RiskSettings

    with tempfile.TemporaryDirectory(prefix="risk_engine_") as tmp:
        work = Path(tmp)
        before = before_module(args.before, work)
        ds = open_dataset(make_dataset(work, args.customers, args.months))
        settings = RiskSettings(threads=2)

        def run_before() -> tuple[float, object]:
            t0 = time.perf_counter()
            eng = DuckDBEngine(ds, threads=2, memory_limit=settings.memory_limit)
            try:
                snaps = before.scoring_snapshots(eng, before.data_end(eng))
                df = before.compute_features(ds, snaps, settings, engine=eng)
            finally:
                eng.close()
            return time.perf_counter() - t0, df

        def run_after() -> tuple[float, object]:
            t0 = time.perf_counter()
            eng = open_engine(ds, EngineSettings(threads=2, memory_limit=settings.memory_limit))
            try:
                snaps = after.scoring_snapshots(eng, after.data_end(eng))
                df = after.compute_features(ds, snaps, settings, engine=eng)
            finally:
                eng.close()
            return time.perf_counter() - t0, df

        run_before(), run_after()  # warm the file cache and imports
        times: dict[str, list[float]] = {"before": [], "after": []}
        frames = {}
        for _ in range(args.reps):
            for name, fn in (("before", run_before), ("after", run_after)):
                secs, frames[name] = fn()
                times[name].append(secs)
        worst, where = differences(frames["before"], frames["after"], after.FEATURES)
        again, where_again = differences(frames["before"], run_before()[1], after.FEATURES)  # noise floor
        print(f"before vs after: {worst:.1e} ({where}); before vs before: {again:.1e} ({where_again})")
        mb, ma = statistics.median(times["before"]), statistics.median(times["after"])
        rows = len(frames["after"])  # type: ignore[arg-type]
        print(
            f"risk features, {args.customers} customers × {args.months} months, {rows} snapshots, DuckDB 2 threads, "
            f"median of {args.reps}: before {mb:.2f} s, after {ma:.2f} s, after/before {ma / mb:.2f}× "
            f"(largest relative feature difference {worst:.1e}; before vs before {again:.1e})"
        )


if __name__ == "__main__":
    main()
