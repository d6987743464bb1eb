"""The audit status of findings, read from a case store's tasks (by finding_id), read-only."""

from __future__ import annotations

from pathlib import Path

from gridaudit.findings.query import TaskRef
from gridaudit.i18n import both


class StoreMissing(Exception):
    """A case store named on the command line that does not exist (nothing is created)."""


def check_store_exists(target: str) -> None:
    """Refuse a SQLite case store path that does not exist (a mistyped --store must not create an empty store)."""
    if "://" in str(target):
        return
    path = Path(target)
    db = path if path.suffix.lower() in (".db", ".sqlite", ".sqlite3") else path / "cases.db"
    if not db.is_file():
        raise StoreMissing(both(f"案件库不存在：{db}", f"case store not found: {db}"))


def tasks_by_finding(session: object, finding_ids: list[str] | None = None) -> dict[str, list[TaskRef]]:
    """finding_id → the tasks made from it (task id, plan, state, assignee), from an open store session."""
    from sqlalchemy import select

    from gridaudit.audit.models import Task

    q = select(Task.finding_id, Task.task_id, Task.plan_id, Task.state, Task.assignee_id)
    if finding_ids is not None and len(finding_ids) <= 1000:
        q = q.where(Task.finding_id.in_(finding_ids))
    out: dict[str, list[TaskRef]] = {}
    for fid, tid, pid, state, who in session.execute(q.order_by(Task.task_id)):
        out.setdefault(fid, []).append(TaskRef(int(tid), int(pid), state, who))
    return out


def read_tasks(target: str, finding_ids: list[str] | None = None) -> dict[str, list[TaskRef]]:
    """finding_id → tasks, from the case store at ``target`` (which must exist)."""
    from gridaudit.audit.store import open_store

    check_store_exists(target)
    store = open_store(target)
    try:
        with store.transaction() as s:
            return tasks_by_finding(s, finding_ids)
    finally:
        store.dispose()
