"""Line loss on complete days (issue 18): not-computable areas and run_loss time on one dataset.

    PYTHONPATH=src python bench/lineloss_days.py --data gridaudit-demo/dataset --runs 2 --threads 2

Prints one JSON line: seconds of each ``run_loss`` over the whole data span, the stage seconds of the last run,
and the band counts of the areas over the window and per month. Run it with PYTHONPATH pointing at the code
before and after a change, alternately in the same session, and compare the times as a ratio (the machine's
load moves absolute seconds). Works on code from before ``days_used`` existed (it then reports none).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from gridaudit.lineloss.run import run_loss


def main() -> None:
    """Time ``run_loss`` and count the areas' bands."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    seconds = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        r = run_loss(a.data, threads=a.threads)
        seconds.append(round(time.perf_counter() - t0, 2))
    window = [x for x in r.balance.window.to_pylist() if x["level"] == "area"]
    monthly = [x for x in r.balance.monthly.to_pylist() if x["level"] == "area"]
    out = {
        "seconds": seconds,
        "stages": r.seconds,
        "areas": len(window),
        "window_bands": dict(Counter(x["band"] for x in window)),
        "area_months": len(monthly),
        "monthly_bands": dict(Counter(x["band"] for x in monthly)),
        "area_days_left_out": sum(x.get("days_left_out") or 0 for x in window),
        "findings": dict(Counter(r.findings.column("rule_id").to_pylist())),
    }
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
