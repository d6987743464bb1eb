"""The dashboard and customer pages in real Chromium: every chart is drawn by our script with the runtime
the app serves, under the app's Content-Security-Policy (no console error, no CSP violation); screenshots
go to docs/web/ (dashboard.png, customer.png, area.png)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest
from tests.web.conftest import UNIT1, make_app, password

CHROMIUM = "/usr/bin/chromium"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "web"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _need_chromium() -> None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        reason = "playwright not installed"
    else:
        if shutil.which(CHROMIUM) or os.path.exists(CHROMIUM):
            return
        reason = f"{CHROMIUM} not found"
    if os.environ.get("GRIDAUDIT_REQUIRE_SERVERS") == "1":
        pytest.fail(f"required browser missing in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def live(web_store, web_dataset):
    """The app served by uvicorn on a free loopback port (stopped after the test)."""
    import uvicorn

    _need_chromium()
    app = make_app(web_store, web_dataset)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    app.state.store.dispose()


def _customer_with_usage(dataset: Path) -> str:
    from gridaudit.dataset import open_dataset
    from gridaudit.engines.duckdb import DuckDBEngine

    eng = DuckDBEngine(open_dataset(dataset))
    try:
        sql = (
            "SELECT c.customer_id FROM customers c JOIN meters m ON m.customer_id = c.customer_id "
            "JOIN units u ON u.unit_id = c.unit_id WHERE (u.unit_id = $u OR u.parent_id = $u) "
            "ORDER BY (SELECT COUNT(*) FROM meter_events e WHERE e.meter_id = m.meter_id) DESC, 1 LIMIT 1"
        )
        return str(eng.query(sql, {"u": UNIT1}).column(0)[0])
    finally:
        eng.close()


def _area_of(dataset: Path, customer_id: str) -> str:
    from gridaudit.dataset import open_dataset
    from gridaudit.engines.duckdb import DuckDBEngine

    eng = DuckDBEngine(open_dataset(dataset))
    try:
        sql = "SELECT area_id FROM customers WHERE customer_id = $c"
        return str(eng.query(sql, {"c": customer_id}).column(0)[0])
    finally:
        eng.close()


def _charts_drawn(page, url: str, shot: Path) -> None:
    page.goto(url)
    expected = page.locator('script[type="application/json"][data-chart]').count()
    assert expected > 0
    page.wait_for_function(f"document.querySelectorAll('[data-rendered=\"1\"]').length === {expected}", timeout=30_000)
    assert page.locator(".chart-area svg").count() == expected
    page.screenshot(path=str(shot), full_page=True)


def test_dashboard_then_customer_charts_render_under_the_csp(live, web_dataset):
    from playwright.sync_api import sync_playwright

    DOCS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(), executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": 1280, "height": 900},
        )  # fmt: skip
        try:
            page = ctx.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on(
                "response",
                lambda r: (
                    problems.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico")
                    else None
                ),
            )
            page.goto(f"{live}/login")
            page.fill("input[name=username]", "lead1")
            page.fill("input[name=password]", password("lead1"))
            page.click("button[type=submit]")
            page.wait_for_load_state()
            _charts_drawn(page, f"{live}/dashboard", DOCS / "dashboard.png")
            assert "稽查总览" in page.content()
            cid = _customer_with_usage(web_dataset)
            _charts_drawn(page, f"{live}/customers/{cid}", DOCS / "customer.png")
            assert "客户全景" in page.content()
            _charts_drawn(page, f"{live}/areas/{_area_of(web_dataset, cid)}", DOCS / "area.png")
            assert "可算日" in page.content() and "分档历史" in page.content()
        finally:
            ctx.close()
    errors = [m for m in problems if "Failed to load resource" not in m]  # each such load is listed by URL
    assert errors == [], problems
