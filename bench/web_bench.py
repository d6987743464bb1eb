"""Latency of the dashboard, customer and area pages on a small synthetic utility, 1 and 20 clients.

    nice -n 10 python bench/web_bench.py --customers 20000 --months 3 --data /tmp/web-bench

Builds (once, in ``--data``) a synth utility ingested into a dataset with one rules run, and a SQLite store
with a lead (password set) and a plan; serves the app with uvicorn in a child process on 127.0.0.1 and sends
a bounded number of requests per page from 1 and from 20 client threads (httpx, one logged-in client each).
The dataset also gets one ``gridaudit loss`` run over all its data (its tables kept in the findings store),
unless ``--no-loss-run``. Reported per page: the first request (cold: the line-loss tables of the window are
read from that run, or computed without one, and cached), then p50 / p95 of the warm requests, and each as a
ratio to the login page's p50 in the same run (a page that reads nothing), so the numbers compare across machines.

``--engines both`` (default) serves twice in the same run: ``per-request`` (a new ``DuckDBEngine`` opened for
each request, as before issue 15's follow-up) and ``shared`` (``gridaudit.web.engines.DatasetEngines``: one
engine per dataset version, a cursor per request), each with its own table.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PASSWORD = "bench-secret-pw"


def build(data: Path, customers: int, months: int) -> tuple[Path, Path]:
    """The dataset and store (made when missing)."""
    dataset, store = data / "dataset", data / "cases.db"
    if not dataset.exists():
        from gridaudit.ingest import ingest
        from gridaudit.rules import demo as rules_demo
        from gridaudit.synth.config import SynthConfig
        from gridaudit.synth.generate import generate, source_files

        generate(SynthConfig(customers=customers, months=months, start="2024-01", seed=11), data / "source")
        result = ingest(source_files(data / "source"), dataset)
        assert result.dataset is not None, result.errors
        rules_demo.run_demo(result.dataset, data / "rules-out")
    if not store.exists():
        from gridaudit.audit.credentials import set_password
        from gridaudit.audit.plans import create_plan, entity_units
        from gridaudit.audit.store import open_store
        from gridaudit.audit.units import read_dataset_units, sync_units
        from gridaudit.audit.users import add_user, get_user
        from gridaudit.findings import load_findings

        st = open_store(store, create=True)
        try:
            with st.transaction() as s:
                add_user(s, None, "admin", "Admin", "admin")
            with st.transaction() as s:
                sync_units(s, get_user(s, "admin"), read_dataset_units(dataset), "bench")
                add_user(s, "admin", "lead", "Lead", "audit_lead")
                set_password(s, "admin", "lead", PASSWORD)
            with st.transaction() as s:
                create_plan(s, "lead", "2024-03", load_findings(dataset), top=500, unit_map=entity_units(dataset))
        finally:
            st.dispose()
    return dataset, store


def loss_run(dataset: Path) -> float | None:
    """Run line loss over all the data into the findings store unless a loss run is there; its seconds."""
    from gridaudit.findings.store import now_utc
    from gridaudit.lineloss.run import append_to_store, run_loss
    from gridaudit.lineloss.settings import LossSettings
    from gridaudit.lineloss.stored import loss_runs

    if loss_runs(dataset):
        return None
    t = time.perf_counter()
    started, settings = now_utc(), LossSettings()
    append_to_store(run_loss(dataset, settings=settings), settings, started)
    return time.perf_counter() - t


def ids(dataset: Path) -> tuple[str, str, str]:
    """A customer with usage, its area and the last month."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines.duckdb import DuckDBEngine

    eng = DuckDBEngine(open_dataset(dataset))
    try:
        row = eng.query(
            "SELECT c.customer_id, c.area_id FROM customers c JOIN meters m ON m.customer_id = c.customer_id "
            "WHERE c.area_id IS NOT NULL ORDER BY c.customer_id LIMIT 1"
        ).to_pylist()[0]
        month = str(eng.query("SELECT strftime(MAX(day), '%Y-%m') FROM daily_usage").column(0)[0])
        return row["customer_id"], row["area_id"], month
    finally:
        eng.close()


PER_REQUEST = (
    "import contextlib; from gridaudit.web import engines as E; from gridaudit.engines.duckdb import DuckDBEngine; "
    "from gridaudit.dataset import open_dataset\n"
    "@contextlib.contextmanager\n"
    "def per_request(self):\n"
    "    e = DuckDBEngine(open_dataset(self.folder))\n"
    "    try:\n        yield e\n    finally:\n        e.close()\n"
    "E.DatasetEngines.cursor = per_request\n"
)


def serve(dataset: Path, store: Path, engines: str = "shared") -> tuple[subprocess.Popen, str]:
    """uvicorn in a child process on a free loopback port; ``engines``: ``shared`` (the app's) or
    ``per-request`` (a new engine per request, the old way, patched in for comparison)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    code = (PER_REQUEST if engines == "per-request" else "") + (
        "import uvicorn, pathlib; from gridaudit.web.app import WebSettings, create_app; "
        f"app = create_app(WebSettings(store={str(store)!r}, dataset=pathlib.Path({str(dataset)!r}))); "
        f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning')"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    url = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(300):
        try:
            httpx.get(f"{url}/login", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def client(url: str, login: bool = True):  # noqa: ANN201 - an httpx.Client
    """A client, logged in unless ``login`` is False."""
    import httpx

    c = httpx.Client(base_url=url, timeout=60, follow_redirects=False)
    if not login:
        return c
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)  # type: ignore[union-attr]
    r = c.post("/login", data={"username": "lead", "password": PASSWORD, "csrf_token": token, "next": ""})
    assert r.status_code == 303, r.text
    return c


def timed(c, path: str) -> float:  # noqa: ANN001
    """Seconds for one GET (which must succeed)."""
    t = time.perf_counter()
    r = c.get(path)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return time.perf_counter() - t


def run(url: str, path: str, clients: int, requests: int) -> list[float]:
    """``requests`` GETs of ``path`` spread over ``clients`` threads (bounded); the login page anonymously."""
    cs = [client(url, login=path != "/login") for _ in range(clients)]
    per = max(requests // clients, 1)
    with ThreadPoolExecutor(clients) as pool:
        out = pool.map(lambda c: [timed(c, path) for _ in range(per)], cs)
        times = [t for ts in out for t in ts]
    for c in cs:
        c.close()
    return times


def pct(xs: list[float], q: float) -> float:
    """The q-quantile (0..1) of ``xs``."""
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> None:
    """Build, serve, measure, print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=20000)
    ap.add_argument("--months", type=int, default=3)
    ap.add_argument("--data", type=Path, default=Path("/tmp/gridaudit-web-bench"))
    ap.add_argument("--requests", type=int, default=60, help="warm requests per page and client count")
    ap.add_argument("--no-loss-run", action="store_true", help="no stored loss run: pages compute line loss")
    ap.add_argument("--engines", choices=("both", "per-request", "shared"), default="both")
    a = ap.parse_args()
    if a.customers > 20000:
        raise SystemExit("at most 20,000 customers here (a small synth)")
    a.data.mkdir(parents=True, exist_ok=True)
    dataset, store = build(a.data, a.customers, a.months)
    if not a.no_loss_run:
        secs = loss_run(dataset)
        if secs is not None:
            print(f"gridaudit loss over all the data (stored with its tables): {secs:.1f} s")
    cid, aid, month = ids(dataset)
    print(f"{a.customers:,} customers × {a.months} months; {a.requests} warm requests per cell\n")
    for mode in ("per-request", "shared") if a.engines == "both" else (a.engines,):
        measure(dataset, store, mode, cid, aid, month, a.requests)


def measure(dataset: Path, store: Path, mode: str, cid: str, aid: str, month: str, requests: int) -> None:
    """Serve with ``mode`` engines and print its table."""
    proc, url = serve(dataset, store, mode)
    try:
        pages = {
            "login (baseline)": "/login",
            "dashboard": f"/dashboard?month={month}",
            "customer": f"/customers/{cid}",
            "area": f"/areas/{aid}?period={month}",
        }
        c = client(url)
        cold = {name: timed(c, path) if name != "login (baseline)" else 0.0 for name, path in pages.items()}
        c.close()
        print(f"engines: {mode}\n")
        print("| page | cold s | clients | p50 ms | p95 ms | p50 / login p50 | p95 / login p50 |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for n in (1, 20):
            base = statistics.median(run(url, "/login", n, requests))
            for name, path in pages.items():
                ts = run(url, path, n, requests)
                p50, p95 = pct(ts, 0.5), pct(ts, 0.95)
                print(
                    f"| {name} | {cold[name]:.2f} | {n} | {p50 * 1000:.0f} | {p95 * 1000:.0f} | "
                    f"{p50 / base:.1f}× | {p95 / base:.1f}× |",
                    flush=True,
                )
        print()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
