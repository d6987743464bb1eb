"""Latency of the dashboard, findings, customer and area pages, 1 and 20 clients, and the server's memory.

    nice -n 10 python bench/web_bench.py --customers 20000 --months 3 --data /tmp/web-bench
    nice -n 10 python bench/web_bench.py --customers 1000000 --months 2 --data /work/bench-web-1m \
        --workers 1,2 --baseline-src /tmp/web-base/src

Builds (once, in ``--data``) a synth utility ingested into a dataset with one rules run, and a SQLite store
with a lead (password set) and a plan; serves the app with uvicorn in a child process on 127.0.0.1 and sends
a bounded number of requests per page from 1 and from 20 client threads (httpx, one logged-in client each).
The dataset also gets one ``gridaudit loss`` run over all its data (its tables kept in the findings store),
unless ``--no-loss-run``. Reported per page: the first request (cold: read models built and cached), then
p50 / p95 of the warm requests, each as a ratio to the login page's p50 in the same run (a page that reads
nothing), so the numbers compare across machines; and the peak RSS of the server's processes (all workers).

Pages: the dashboard of the last month; the findings list filtered to the family with the most findings,
page 1 and page 100 (or its last page when it has fewer); the customer page of the first customer with a
meter; the area page of that customer's area.

At 1 M customers build the dataset with the CLI first (see BENCHMARKS.md, Issue 15: ``gridaudit synth``,
``ingest``, ``rules run``, ``loss``); this script then only adds the store.

``--pg URL`` serves the current source once more off PostgreSQL (as ``gridaudit serve --engine postgres``;
the first data page loads the dataset into a schema, so its cold time includes the load). ``--workers 1,2``
serves once per worker count (``gridaudit serve --workers N``). ``--baseline-src DIR``
serves a second source tree first (e.g. ``git archive <commit> src`` unpacked) on the same data, for a
before/after table in one run. ``--engines per-request`` patches in a new ``DuckDBEngine`` per request (as
before issue 15's follow-up) instead of the app's shared ``DatasetEngines``.
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
            found = load_findings(dataset)
            with st.transaction() as s:  # the units of the findings' entities only (all of them at 1 M: minutes)
                create_plan(s, "lead", "2024-03", found, top=500, unit_map=entity_units(dataset, found))
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


def serve(
    dataset: Path, store: Path, engines: str = "shared", workers: int = 1, src: Path = SRC, pg: str | None = None
) -> tuple[subprocess.Popen, str]:
    """uvicorn in a child process on a free loopback port, with ``workers`` worker processes (the app of
    ``gridaudit serve --workers``) and the source tree ``src``; ``engines``: ``shared`` (the app's) or
    ``per-request`` (a new engine per request, the old way, patched in for comparison; one worker only).
    ``pg``: serve off PostgreSQL at that URL (``gridaudit serve --engine postgres --pg URL``)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    engine = f", engine=EngineSettings(kind='postgres', postgres_url={pg!r})" if pg else ""
    settings = f"WebSettings(store={str(store)!r}, dataset=pathlib.Path({str(dataset)!r}){engine})"
    if workers == 1:
        code = (PER_REQUEST if engines == "per-request" else "") + (
            "import uvicorn, pathlib; from gridaudit.web.app import WebSettings, create_app; "
            "from gridaudit.engines import EngineSettings; "
            f"app = create_app({settings}); "
            f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning')"
        )
    else:
        if engines == "per-request":
            raise SystemExit("--engines per-request runs one worker only")
        code = (
            "import os, uvicorn, pathlib; from gridaudit.web.app import WebSettings; "
            "from gridaudit.engines import EngineSettings; "
            "from gridaudit.web.settings import settings_to_json; from gridaudit.web.workers import SETTINGS_ENV; "
            f"os.environ[SETTINGS_ENV] = settings_to_json({settings}); "
            f"uvicorn.run('gridaudit.web.workers:app', factory=True, workers={workers}, host='127.0.0.1', "
            f"port={port}, log_level='warning')"
        )
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    url = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(600):
        try:
            httpx.get(f"{url}/login", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def tree_rss_mb(pid: int) -> float:
    """Resident memory (MB) of process ``pid`` and all its descendants (Linux ``/proc``)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            status = (d / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        ppid = int(fields.get("PPid", "0").strip() or 0)
        children.setdefault(ppid, []).append(int(d.name))
        rss[int(d.name)] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total / 1024


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


def findings_pages(dataset: Path) -> tuple[str, str]:
    """The findings list filtered to the family with the most findings: page 1 and page 100 (or the last)."""
    from gridaudit.findings import load_findings

    table = load_findings(dataset, columns=["family"])
    counts = table.group_by("family").aggregate([("family", "count")]).to_pylist()
    top = max(counts, key=lambda r: r["family_count"])
    pages = max(1, -(-top["family_count"] // 50))
    return f"/findings?family={top['family']}", f"/findings?family={top['family']}&offset={50 * (min(pages, 100) - 1)}"


def main() -> None:
    """Build, serve, measure, print a Markdown table per server."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=20000)
    ap.add_argument("--months", type=int, default=3)
    ap.add_argument("--data", type=Path, default=Path("/tmp/gridaudit-web-bench"))
    ap.add_argument("--requests", type=int, default=60, help="warm requests per page and client count")
    ap.add_argument("--clients", default="1,20", help="client counts, comma-separated")
    ap.add_argument("--no-loss-run", action="store_true", help="no stored loss run: pages compute line loss")
    ap.add_argument("--engines", choices=("both", "per-request", "shared"), default="shared")
    ap.add_argument("--workers", default="1", help="uvicorn worker counts to serve with, comma-separated")
    ap.add_argument("--baseline-src", type=Path, help="also serve this source tree (before), first")
    ap.add_argument("--baseline-only", action="store_true", help="serve only --baseline-src")
    ap.add_argument("--pg", help="also serve this source off PostgreSQL at this URL (--engine postgres), last")
    a = ap.parse_args()
    if a.customers > 20000 and not (a.data / "dataset").exists():
        raise SystemExit("above 20,000 customers, build the dataset with the CLI first (see the docstring)")
    a.data.mkdir(parents=True, exist_ok=True)
    dataset, store = build(a.data, a.customers, a.months)
    if not a.no_loss_run:
        secs = loss_run(dataset)
        if secs is not None:
            print(f"gridaudit loss over all the data (stored with its tables): {secs:.1f} s")
    cid, aid, month = ids(dataset)
    f1, f100 = findings_pages(dataset)
    pages = {
        "login (baseline)": "/login",
        "dashboard": f"/dashboard?month={month}",
        "findings p1": f1,
        "findings p100": f100,
        "customer": f"/customers/{cid}",
        "area": f"/areas/{aid}?period={month}",
    }
    clients = [int(n) for n in a.clients.split(",")]
    print(f"{a.customers:,} customers × {a.months} months; {a.requests} warm requests per cell; pages: {pages}\n")
    modes = ("per-request", "shared") if a.engines == "both" else (a.engines,)
    runs = [(m, 1, SRC, "") for m in modes if m == "per-request"]
    if a.baseline_src is not None:
        runs.insert(0, ("shared", 1, a.baseline_src, "before"))
    if not a.baseline_only:
        runs += [(m, int(w), SRC, "") for m in modes if m == "shared" for w in a.workers.split(",")]
    if a.pg:
        runs.append(("shared", 1, SRC, "postgres"))
    for mode, workers, src, tag in runs:
        pg = a.pg if tag == "postgres" else None
        measure(dataset, store, pages, mode, workers, src, tag, clients, a.requests, pg)


def measure(
    dataset: Path,
    store: Path,
    pages: dict[str, str],
    mode: str,
    workers: int,
    src: Path,
    tag: str,
    clients: list[int],
    requests: int,
    pg: str | None = None,
) -> None:
    """Serve with ``mode`` engines, ``workers`` processes and source ``src`` (off PostgreSQL at ``pg``); print its
    table."""
    proc, url = serve(dataset, store, mode, workers, src, pg)
    try:
        peak = tree_rss_mb(proc.pid)
        c = client(url)
        cold = {}
        for name, path in pages.items():
            cold[name] = timed(c, path) if name != "login (baseline)" else 0.0
        c.close()
        peak = max(peak, tree_rss_mb(proc.pid))
        print(f"source {src} {tag}; engines: {mode}; workers: {workers}\n")
        print("| page | cold s | clients | p50 ms | p95 ms | p50 / login p50 | p95 / login p50 |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for n in clients:
            base = statistics.median(run(url, "/login", n, requests))
            for name, path in pages.items():
                if workers > 1:  # every worker warms its caches before the timed requests
                    run(url, path, max(n, 4 * workers), max(n, 4 * workers))
                ts = run(url, path, n, requests)
                peak = max(peak, tree_rss_mb(proc.pid))
                p50, p95 = pct(ts, 0.5), pct(ts, 0.95)
                print(
                    f"| {name} | {cold[name]:.2f} | {n} | {p50 * 1000:.0f} | {p95 * 1000:.0f} | "
                    f"{p50 / base:.1f}× | {p95 / base:.1f}× |",
                    flush=True,
                )
        print(f"\nserver RSS (all processes), peak over the run: {peak:,.0f} MB\n", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
