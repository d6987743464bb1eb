"""Feeder complete days (issue 18): the old and the new day rule on one dataset, alternately in one process.

    PYTHONPATH=src python bench/lineloss_feeder_days.py --data gridaudit-demo/dataset --before 49e35ba --runs 2

"before" is ``run_loss`` with the balance and technical-loss modules of commit ``--before`` (read with ``git show``
and loaded beside the current code; every other step is the current code), "after" is the current code. Runs
alternate before, after, before, … so the machine's load moves both alike; compare the seconds as a ratio.
Prints one JSON line: seconds of each run, the after ÷ before ratio of the summed seconds, and per level the
entities and entity-months not computable, the entity-days left out of the window's rates and the band counts,
plus the findings per rule.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import types
from collections import Counter
from pathlib import Path
from typing import Any

import gridaudit.lineloss.run as run_module
from gridaudit.lineloss.run import LossResult, run_loss

LEVELS = ("area", "feeder", "voltage", "unit")


def old_module(commit: str, path: str, name: str) -> types.ModuleType:
    """Module ``path`` of the repository at ``commit``, loaded as ``name`` (its imports resolve to current code)."""
    root = Path(__file__).resolve().parent.parent
    source = subprocess.run(["git", "-C", str(root), "show", f"{commit}:{path}"], check=True, capture_output=True)
    mod = types.ModuleType(name)
    mod.__file__ = f"{commit}:{path}"
    sys.modules[name] = mod
    exec(compile(source.stdout.decode("utf-8"), mod.__file__, "exec"), mod.__dict__)
    return mod


def summarise(result: LossResult) -> dict[str, Any]:
    """Per level: not computable over the window and per month, days left out, bands; findings per rule."""
    window, monthly = result.balance.window.to_pylist(), result.balance.monthly.to_pylist()
    out: dict[str, Any] = {}
    for level in LEVELS:
        w = [x for x in window if x["level"] == level]
        m = [x for x in monthly if x["level"] == level]
        out[level] = {
            "entities": len(w),
            "not_computable": sum(x["band"] == "not_computable" for x in w),
            "months": len(m),
            "months_not_computable": sum(x["band"] == "not_computable" for x in m),
            "days_left_out": sum(x.get("days_left_out") or 0 for x in w),
            "window_bands": dict(Counter(x["band"] for x in w)),
        }
    out["findings"] = dict(Counter(result.findings.column("rule_id").to_pylist()))
    return out


def main() -> None:
    """Time ``run_loss`` with the old and the new day rule, alternately, and compare what is computable."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--before", required=True, help="commit whose lineloss/balance.py and technical.py are 'before'")
    ap.add_argument("--runs", type=int, default=2, help="runs of each")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    old_balance = old_module(a.before, "src/gridaudit/lineloss/balance.py", "bench_old_balance")
    old_technical = old_module(a.before, "src/gridaudit/lineloss/technical.py", "bench_old_technical")
    new = (run_module.run_balance, run_module.technical_loss)
    old = (old_balance.run_balance, old_technical.technical_loss)
    seconds: dict[str, list[float]] = {"before": [], "after": []}
    balance_s: dict[str, list[float]] = {"before": [], "after": []}
    last: dict[str, LossResult] = {}
    for _ in range(a.runs):
        for label, (balance, technical) in (("before", old), ("after", new)):
            run_module.run_balance, run_module.technical_loss = balance, technical  # type: ignore[assignment]
            t0 = time.perf_counter()
            last[label] = run_loss(a.data, threads=a.threads)
            seconds[label].append(round(time.perf_counter() - t0, 2))
            balance_s[label].append(round(last[label].seconds.get("balance", float("nan")), 2))
    run_module.run_balance, run_module.technical_loss = new
    out = {
        "before_commit": a.before,
        "seconds": seconds,
        "balance_seconds": balance_s,
        "ratio_after_before": round(sum(seconds["after"]) / sum(seconds["before"]), 3),
        "balance_ratio_after_before": round(sum(balance_s["after"]) / sum(balance_s["before"]), 3),
        "before": summarise(last["before"]),
        "after": summarise(last["after"]),
        "stages_after": last["after"].seconds,
    }
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
