"""Feeder complete days (issue 18): the old and the new day rule on one dataset, alternately in one process.

    PYTHONPATH=src python bench/lineloss_feeder_days.py --data gridaudit-demo/dataset --before 49e35ba --runs 2
    PYTHONPATH=src python bench/lineloss_feeder_days.py --data gridaudit-demo/dataset --before 49e35ba --runs 4 \
        --balance-only

"before" is ``run_loss`` with the balance and technical-loss modules of commit ``--before`` (read with ``git show``
and loaded beside the current code; every other step is the current code), "after" is the current code. Runs
alternate before, after, before, … so the machine's load moves both alike; compare the seconds as a ratio.
Prints one JSON line: seconds of each run, the after ÷ before ratio of the summed seconds, and per level the
entities and entity-months not computable, the entity-days left out of the window's rates and the band counts,
plus the findings per rule. ``--balance-only`` times ``run_balance`` alone on one warm engine (the only stage
the day rule changes; the rest of ``run_loss`` is the same code both ways and only adds noise).
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


def summarise(balance: Any, findings: Any = None) -> dict[str, Any]:
    """Per level: not computable over the window and per month, days left out, bands, the feeders' and voltage
    levels' window rates; findings per rule (when given)."""
    window, monthly = balance.window.to_pylist(), balance.monthly.to_pylist()
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
        if level in ("feeder", "voltage"):
            out[level]["rates"] = {x["entity_id"]: _round(x["loss_rate_pct"]) for x in w}
    if findings is not None:
        out["findings"] = dict(Counter(findings.column("rule_id").to_pylist()))
    return out


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def balance_only(a: argparse.Namespace, old: Any, new: Any) -> dict[str, Any]:
    """Only the balance (the stage the day rule lives in), old and new alternately on one warm engine."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines import EngineSettings, open_engine
    from gridaudit.lineloss.balance import Window
    from gridaudit.lineloss.inputs import data_span, open_inputs
    from gridaudit.lineloss.settings import LossSettings

    ds = open_dataset(a.data)
    engine = open_engine(ds, EngineSettings(threads=a.threads))
    try:
        start, end = data_span(open_inputs(ds, engine=engine))
        window, settings = Window(start, end), LossSettings()
        seconds: dict[str, list[float]] = {"before": [], "after": []}
        last: dict[str, Any] = {}
        new(engine, window, settings)  # warm the file cache and the engine once, untimed
        for _ in range(a.runs):
            for label, fn in (("before", old), ("after", new)):
                t0 = time.perf_counter()
                last[label] = fn(engine, window, settings)
                seconds[label].append(round(time.perf_counter() - t0, 2))
    finally:
        engine.close()
    return {
        "balance_only": True,
        "seconds": seconds,
        "ratio_after_before": round(sum(seconds["after"]) / sum(seconds["before"]), 3),
        "before": summarise(last["before"]),
        "after": summarise(last["after"]),
    }


def main() -> None:
    """Time ``run_loss`` with the old and the new day rule, alternately, and compare what is computable."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--before", required=True, help="commit whose lineloss/balance.py and technical.py are 'before'")
    ap.add_argument("--runs", type=int, default=2, help="runs of each")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--balance-only", action="store_true", help="time run_balance alone (one warm engine)")
    a = ap.parse_args()
    old_balance = old_module(a.before, "src/gridaudit/lineloss/balance.py", "bench_old_balance")
    old_technical = old_module(a.before, "src/gridaudit/lineloss/technical.py", "bench_old_technical")
    if a.balance_only:
        print(json.dumps(balance_only(a, old_balance.run_balance, run_module.run_balance), sort_keys=True))
        return
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
        "before": summarise(last["before"].balance, last["before"].findings),
        "after": summarise(last["after"].balance, last["after"].findings),
        "stages_after": last["after"].seconds,
    }
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
