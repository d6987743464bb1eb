"""The request path's engine cost: ``DatasetEngines.cursor()`` (the shared engine, a fork per request) and one
small query, before/after, in child processes run alternately.

    nice -n 5 python bench/web_fork_bench.py --dataset /tmp/web-bench/dataset --baseline-src /tmp/web-base/src

Each child opens the app's ``DatasetEngines`` on the dataset, warms it, then times ``--n`` requests' worth of
``with engines.cursor() as e: e.query(...)`` (a customer's meters by id, bound). Printed: CPU seconds of the child
(``process_time``, all its threads: waiting for a core on a loaded machine does not count) per source per
round and the after ÷ before ratio of the medians. With ``--postgres URL`` the app's engine is PostgreSQL (each
child loads the dataset into a schema of its own first: use a small one); wall seconds are printed beside CPU,
since there the cost of a request's connection is mostly the server's.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

CHILD = """
import time
from gridaudit.engines import EngineSettings
from gridaudit.web.engines import DatasetEngines
url = {postgres!r}
settings = EngineSettings(kind="postgres", postgres_url=url, memory_limit=None) if url else None
engines = DatasetEngines({dataset!r}, settings)
sql = "SELECT meter_id FROM meters WHERE customer_id = $c"
with engines.cursor() as e:
    cid = e.query("SELECT min(customer_id) AS c FROM customers").column(0)[0].as_py()
t, w = time.process_time(), time.perf_counter()
for _ in range({n}):
    with engines.cursor() as e:
        e.query(sql, {{"c": cid}})
print(time.process_time() - t, time.perf_counter() - w)
engines.close()
"""


def once(src: Path, dataset: Path, n: int, postgres: str | None = None) -> tuple[float, float]:
    """CPU and wall seconds for ``n`` request-sized engine uses with source tree ``src``."""
    code = CHILD.format(dataset=str(dataset), n=n, postgres=postgres)
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(src)}, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    cpu, wall = out.stdout.strip().splitlines()[-1].split()
    return float(cpu), float(wall)


def main() -> None:
    """Alternate before/after, print the rounds and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", type=Path, required=True)
    ap.add_argument("--baseline-src", type=Path, required=True)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--postgres", help="PostgreSQL URL: the app's engine is PostgreSQL instead of DuckDB")
    a = ap.parse_args()
    before, after = [], []
    for r in range(a.rounds):
        before.append(once(a.baseline_src, a.dataset, a.n, a.postgres))
        after.append(once(SRC, a.dataset, a.n, a.postgres))
        print(
            f"round {r + 1}: before {before[-1][0]:.2f} CPU-s / {before[-1][1]:.2f} s wall, "
            f"after {after[-1][0]:.2f} CPU-s / {after[-1][1]:.2f} s wall",
            flush=True,
        )
    for i, what in enumerate(("CPU", "wall")):
        b, f = statistics.median(x[i] for x in before), statistics.median(x[i] for x in after)
        print(
            f"{a.n} requests, {what}: before {b:.2f} s ({b / a.n * 1e3:.2f} ms each), after {f:.2f} s "
            f"({f / a.n * 1e3:.2f} ms each); after ÷ before {f / b:.2f}"
        )


if __name__ == "__main__":
    main()
