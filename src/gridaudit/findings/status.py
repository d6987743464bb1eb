"""The audit status of findings, read from a case store's tasks (by finding_id), read-only."""

from __future__ import annotations

from typing import Any

from gridaudit.findings.query import TaskRef


def tasks_by_finding(session: Any, finding_ids: list[str] | None = None) -> dict[str, list[TaskRef]]:
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
    """finding_id → tasks, from the case store at ``target`` (which must exist: ``StoreMissing`` otherwise)."""
    from gridaudit.audit.store import open_store

    store = open_store(target)
    try:
        with store.transaction() as s:
            return tasks_by_finding(s, finding_ids)
    finally:
        store.dispose()
