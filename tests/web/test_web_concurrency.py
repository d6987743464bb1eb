"""Reads take no write lock (two readers and a writer on a real SQLite file, threads), and the app keeps one
dataset engine per version (a cursor per request, reopened when the version changes, closed at shutdown)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from types import SimpleNamespace

from .conftest import UNIT1, make_app, password

WAIT = 60  # seconds a thread may take before the test gives up (a bound, not a speed assertion)


def _client(app, uid: str):
    from fastapi.testclient import TestClient

    from .conftest import csrf_of

    c = TestClient(app, follow_redirects=False)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"username": uid, "password": password(uid), "csrf_token": token, "next": ""})
    assert r.status_code == 303, r.text
    return c


def test_readers_do_not_wait_for_an_open_write_transaction(app, tasks):
    """A writer holds SQLite's write lock (BEGIN IMMEDIATE, a change pending); two users' GET pages and API
    calls complete meanwhile; then the writer commits."""
    from gridaudit.audit import actions
    from gridaudit.audit.models import Task

    readers = [_client(app, "lead1"), _client(app, "admin")]
    tid = tasks[(UNIT1, "new")]
    writing, readers_done = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def writer() -> None:
        with app.state.store.transaction() as s:
            actions.assign(s, "lead1", tid, "inspector1")
            s.flush()  # the write lock is taken and a change is pending
            writing.set()
            seen["readers_finished_first"] = readers_done.wait(WAIT)

    def read(c, out: list) -> None:
        for path in ("/tasks?all=1", "/api/v1/tasks", "/plans", f"/tasks/{tid}", "/api/v1/findings?limit=5"):
            out.append((path, c.get(path).status_code))

    w = threading.Thread(target=writer)
    w.start()
    assert writing.wait(WAIT)
    results: list[list] = [[], []]
    threads = [threading.Thread(target=read, args=(c, out)) for c, out in zip(readers, results, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    readers_done.set()
    w.join(WAIT)
    assert all(code == 200 for out in results for _, code in out), results
    assert all(len(out) == 5 for out in results)
    assert seen["readers_finished_first"] is True
    with app.state.store.transaction() as s:
        assert s.get(Task, tid).state == "assigned"  # the writer committed
    for c in readers:
        c.close()


def test_a_writer_commits_while_read_sessions_are_open(app):
    """Two read-only sessions stay open (having read); a write transaction in another thread commits."""
    from sqlalchemy import select

    from gridaudit.audit import trail
    from gridaudit.audit.models import Task
    from gridaudit.web.deps import read_session

    request = SimpleNamespace(app=app)
    open_reads = [read_session(request) for _ in range(2)]  # type: ignore[arg-type]
    sessions = [next(g) for g in open_reads]
    for s in sessions:
        assert s.execute(select(Task.task_id).limit(1)).first() is not None
    done: dict[str, object] = {}

    def writer() -> None:
        try:
            with app.state.store.transaction() as s:
                trail.append(s, "admin", "note", "task", 1, {"text": "written while others read"})
            done["ok"] = True
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            done["error"] = exc

    w = threading.Thread(target=writer)
    w.start()
    w.join(WAIT)
    assert done.get("ok") is True, done
    for s in sessions:  # the readers are still usable, and see the committed row
        assert s.execute(select(Task.task_id).limit(1)).first() is not None
    for g in open_reads:
        g.close()


def test_read_sessions_refuse_writes(app):
    from gridaudit.audit.models import Plan
    from gridaudit.web.deps import read_session

    gen = read_session(SimpleNamespace(app=app))  # type: ignore[arg-type]
    s = next(gen)
    plan = s.get(Plan, 1)
    plan.title = "changed"
    import pytest
    from sqlalchemy.exc import OperationalError

    with pytest.raises(OperationalError, match="readonly"):
        s.flush()
    gen.close()


def _copy_dataset(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=False)
    return dst


def test_one_engine_per_dataset_version_and_a_cursor_per_request(web_dataset, web_store, tmp_path):
    from fastapi.testclient import TestClient

    from gridaudit.dataset import CURRENT, open_dataset

    data = _copy_dataset(web_dataset, tmp_path / "dataset")
    app = make_app(web_store, data)
    engines = app.state.engines
    try:
        with TestClient(app, follow_redirects=False):
            c = _client(app, "lead1")
            for _ in range(3):
                assert c.get("/dashboard").status_code == 200
            assert engines.opened == 1
            # a new version becomes current (as gridaudit ingest does): the next request opens an engine on it
            old = open_dataset(data).version
            shutil.copytree(data / "versions" / old, data / "versions" / "v9999")
            (data / CURRENT).write_text("v9999", "utf-8")
            assert c.get("/dashboard").status_code == 200
            assert engines.opened == 2 and set(engines._slots) == {"v9999"}  # the old one closed
            assert c.get("/api/v1/findings?limit=1").status_code == 200 and engines.opened == 2
            c.close()
        assert engines._slots == {}  # closed at shutdown
    finally:
        app.state.store.dispose()


def test_cursors_from_many_threads_share_one_engine(web_dataset):
    from gridaudit.web.engines import DatasetEngines

    engines = DatasetEngines(web_dataset)
    want = None
    with engines.cursor() as e:
        want = e.query("SELECT count(*) AS n FROM customers").column(0)[0].as_py()
    got: list[object] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(5):
            try:
                with engines.cursor() as e:
                    n = e.query("SELECT count(*) AS n FROM customers WHERE customer_id IS NOT NULL").column(0)[0]
                    e.register_table("scratch", e.query("SELECT 1 AS x"))  # a cursor's own, not the others'
                    value: object = n.as_py()
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                value = exc
            with lock:
                got.append(value)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert got == [want] * 40, got[:5]
    assert engines.opened == 1
    engines.close()
