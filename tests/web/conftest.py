"""Web-app fixtures: a small synthetic dataset with a findings run (built once per session), a SQLite case
store with one user per role in each of two units (passwords set) and tasks in every state in both units
(built once, copied per test), the app, a TestClient and ``login``.

Units: ``UNIT1`` (U01) and ``UNIT2`` (U02), two counties of the synthetic utility, each with one station.
Users (password: ``password(uid)``): ``admin`` (unbound) and, per unit n ∈ {1, 2}: ``lead<n>`` (audit_lead),
``auditor<n>``, ``inspector<n>``, ``resp<n>`` (responsible), ``manager<n>``, ``viewer<n>``.
``tasks`` maps (unit, state) to a task id for every state of ``workflow.STATES`` in both units."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

UNIT1, UNIT2 = "U01", "U02"
UNITS = (UNIT1, UNIT2)
UNIT_ROLES = (
    ("lead", "audit_lead"),
    ("auditor", "auditor"),
    ("inspector", "inspector"),
    ("resp", "responsible"),
    ("manager", "manager"),
    ("viewer", "viewer"),
)
USERS: dict[str, tuple[str, str | None]] = {"admin": ("admin", None)} | {
    f"{prefix}{n}": (role, unit) for n, unit in enumerate(UNITS, start=1) for prefix, role in UNIT_ROLES
}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def password(uid: str) -> str:
    """The test password of ``uid``."""
    return f"{uid}-secret-pw"


def n_of(unit: str) -> int:
    """1 for UNIT1, 2 for UNIT2 (the suffix of that unit's user ids)."""
    return UNITS.index(unit) + 1


@pytest.fixture(scope="session")
def web_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic utility (300 customers, 3 months, two counties) ingested, with one rules run stored."""
    from gridaudit.ingest import ingest
    from gridaudit.rules import demo as rules_demo
    from gridaudit.synth.config import Model, SynthConfig
    from gridaudit.synth.generate import generate, source_files

    root = tmp_path_factory.mktemp("web-data")
    cfg = SynthConfig(customers=300, months=3, start="2024-01", seed=7, model=Model(customers_per_station=150))
    generate(cfg, root / "source")
    result = ingest(source_files(root / "source"), root / "dataset")
    assert result.dataset is not None, result.errors
    rules_demo.run_demo(result.dataset, root / "out")
    return root / "dataset"


def _act(store: Any, fn: Any) -> Any:
    with store.transaction() as s:
        return fn(s)


def _advance(store: Any, tid: int, state: str, n: int) -> None:
    """Take task ``tid`` of unit n from new to ``state`` through the audit actions."""
    from gridaudit.audit import actions

    steps = {
        "assigned": ["assign"],
        "checked": ["assign", "result"],
        "rectifying": ["assign", "result", "rectify"],
        "replied": ["assign", "result", "rectify", "reply"],
        "verified": ["assign", "result", "rectify", "reply", "accept"],
        "closed": ["assign", "result", "close"],
        "cancelled": ["cancel"],
    }.get(state, [])
    do = {
        "assign": lambda s: actions.assign(s, f"lead{n}", tid, f"inspector{n}"),
        "result": lambda s: actions.record_result(s, f"inspector{n}", tid, "irregular", "desk", note="核实有误"),
        "rectify": lambda s: actions.rectify(s, f"lead{n}", tid, f"resp{n}", 10, "更正并回复"),
        "reply": lambda s: actions.reply(s, f"resp{n}", tid, "已更正"),
        "accept": lambda s: actions.verify(s, f"auditor{n}", tid, True),
        "close": lambda s: actions.close(s, f"lead{n}", tid),
        "cancel": lambda s: actions.cancel(s, f"lead{n}", tid, "重复"),
    }
    for step in steps:
        _act(store, do[step])


@pytest.fixture(scope="session")
def web_store_template(web_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The case store every web test copies: users, passwords, the unit tree, a plan, tasks in every state."""
    from gridaudit.audit import workflow
    from gridaudit.audit.credentials import set_password
    from gridaudit.audit.plans import create_plan, entity_units
    from gridaudit.audit.store import open_store
    from gridaudit.audit.units import read_dataset_units, sync_units
    from gridaudit.audit.users import add_user, get_user
    from gridaudit.findings import latest_runs
    from gridaudit.findings.store import read_runs

    path = tmp_path_factory.mktemp("web-store") / "cases.db"
    store = open_store(path, create=True)
    try:
        _act(store, lambda s: add_user(s, None, "admin", "管理员", "admin"))
        _act(store, lambda s: sync_units(s, get_user(s, "admin"), read_dataset_units(web_dataset), "web tests"))
        for uid, (role, unit) in USERS.items():
            if uid != "admin":
                _act(store, lambda s, u=uid, r=role, un=unit: add_user(s, "admin", u, u.title(), r, un))
        for uid in USERS:
            _act(store, lambda s, u=uid: set_password(s, "admin", u, password(u)))
        findings = read_runs(latest_runs(web_dataset))
        units = entity_units(web_dataset)
        by_unit: dict[str, list[int]] = {}
        for n, unit in enumerate(UNITS, start=1):  # a lead bound to a unit plans only that unit's findings
            outcome = _act(
                store, lambda s, lead=f"lead{n}": create_plan(s, lead, "2024-04", findings, top=10, unit_map=units)
            )
            by_unit[unit] = [t.task_id for t in outcome.tasks]
        tasks: dict[tuple[str, str], int] = {}
        for unit, ids in by_unit.items():
            assert len(ids) >= len(workflow.STATES), f"too few tasks in {unit}: {len(ids)}"
            for state, tid in zip(workflow.STATES, ids, strict=False):
                _advance(store, tid, state, n_of(unit))
                tasks[(unit, state)] = tid
    finally:
        store.dispose()
    return path, tasks


@pytest.fixture
def tasks(web_store_template: tuple[Path, dict]) -> dict[tuple[str, str], int]:
    """(unit, state) → task id in the test's store."""
    return web_store_template[1]


@pytest.fixture
def web_store(web_store_template: tuple[Path, dict], tmp_path: Path) -> Path:
    """A fresh copy of the template store for one test."""
    target = tmp_path / "cases.db"
    shutil.copyfile(web_store_template[0], target)
    return target


def make_app(store: Path, dataset: Path | None, **settings: Any) -> Any:
    """An app on ``store`` and ``dataset`` (extra WebSettings fields as keywords)."""
    from gridaudit.web.app import WebSettings, create_app

    return create_app(WebSettings(store=str(store), dataset=dataset, **settings))


@pytest.fixture
def app(web_store: Path, web_dataset: Path) -> Iterator[Any]:
    """The web app on the test's store and the session's dataset."""
    application = make_app(web_store, web_dataset)
    yield application
    application.state.store.dispose()


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    """An in-process client (no network)."""
    from fastapi.testclient import TestClient

    with TestClient(app, follow_redirects=False) as c:
        yield c


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    found = CSRF.search(html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


def login(client: Any, uid: str, pw: str | None = None) -> Any:
    """Log ``uid`` in through the login form; returns the POST's response (303 on success)."""
    page = client.get("/login")
    token = csrf_of(page.text)
    return client.post(
        "/login", data={"username": uid, "password": pw or password(uid), "csrf_token": token, "next": ""}
    )


@pytest.fixture
def logged_in(client: Any) -> Any:
    """``logged_in(uid)`` logs the client in as ``uid`` (asserting success) and returns the client."""

    def go(uid: str) -> Any:
        response = login(client, uid)
        assert response.status_code == 303, response.text
        return client

    return go


CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    """The app on uvicorn in a thread, on a free loopback port; yields its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[Any]:
    """A page of Debian's Chromium through Playwright (skipped without /usr/bin/chromium, unless
    GRIDAUDIT_REQUIRE_SERVERS=1)."""
    import os

    if not CHROMIUM.is_file():
        if os.environ.get("GRIDAUDIT_REQUIRE_SERVERS") == "1":
            pytest.fail(f"required browser missing in CI: {CHROMIUM}")
        pytest.skip(f"{CHROMIUM} not found")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=BROWSER_ARGS,
            viewport={"width": 1280, "height": 860},
        )
        try:
            yield ctx.pages[0] if ctx.pages else ctx.new_page()
        finally:
            ctx.close()
