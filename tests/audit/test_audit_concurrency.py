"""Two people act on the same task at the same moment (PostgreSQL, real threads): one wins, the other
gets a clear conflict and nothing of theirs is written."""

import threading

import pytest
from sqlalchemy import func, select

from gridaudit.audit import actions, trail
from gridaudit.audit.errors import Conflict
from gridaudit.audit.models import Event, Result, Task
from gridaudit.audit.plans import create_plan
from gridaudit.audit.store import open_store

from .conftest import add_people, make_findings

pytestmark = pytest.mark.postgres


def _race(store, fns):
    """Run each fn(session) in its own thread; all read the task before any writes."""
    barrier = threading.Barrier(len(fns))
    outcomes: list = [None] * len(fns)

    def worker(i, fn):
        try:
            with store.transaction() as s:
                s.get(Task, fn.task_id)  # both load version N
                barrier.wait(timeout=20)
                fn(s)
            outcomes[i] = "ok"
        except Conflict as exc:
            outcomes[i] = exc
        except Exception as exc:  # noqa: BLE001
            outcomes[i] = exc

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


class Act:
    def __init__(self, task_id, call):
        self.task_id, self.call = task_id, call

    def __call__(self, s):
        self.call(s)


def test_concurrent_results_one_wins(pg_store_url, tmp_path):
    store = open_store(pg_store_url, tmp_path / "att", create=True)
    try:
        add_people(store)
        with store.transaction() as s:
            tid = create_plan(s, "lead", "2025-07", make_findings(2)).tasks[0].task_id
        with store.transaction() as s:
            actions.assign(s, "li", tid, "zhang")
            events_before = s.execute(select(func.count(Event.seq)).where(Event.action != "seal")).scalar()
        outcomes = _race(
            store,
            [
                Act(tid, lambda s: actions.record_result(s, "zhang", tid, "theft", recovered_kwh=100)),
                Act(tid, lambda s: actions.record_result(s, "li", tid, "normal")),
            ],
        )
        assert sorted(type(o).__name__ if o != "ok" else "ok" for o in outcomes) == ["Conflict", "ok"]
        loser = next(o for o in outcomes if isinstance(o, Conflict))
        assert "changed by someone else" in loser.en and "他人" in loser.zh
        with store.transaction() as s:
            results = list(s.execute(select(Result).where(Result.task_id == tid)).scalars())
            assert len(results) == 1  # the loser's result row was rolled back
            task = s.get(Task, tid)
            assert task.state == "checked" and task.version == 3
            assert s.execute(select(func.count(Event.seq)).where(Event.action != "seal")).scalar() == events_before + 1
            assert trail.verify_log(s)[1] == []
    finally:
        store.dispose()


def test_concurrent_actions_on_different_tasks_both_land(pg_store_url, tmp_path):
    store = open_store(pg_store_url, tmp_path / "att", create=True)
    try:
        add_people(store)
        with store.transaction() as s:
            a, b = [t.task_id for t in create_plan(s, "lead", "2025-07", make_findings(4)).tasks[:2]]
        outcomes = _race(
            store,
            [
                Act(a, lambda s: actions.assign(s, "li", a, "zhang")),
                Act(b, lambda s: actions.assign(s, "lead", b, "sun")),
            ],
        )
        assert outcomes == ["ok", "ok"]
        with store.transaction() as s:
            assert {s.get(Task, a).state, s.get(Task, b).state} == {"assigned"}
            assert trail.verify_log(s)[1] == []  # the log head serialised both appends: no fork
    finally:
        store.dispose()
