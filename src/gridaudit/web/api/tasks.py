"""``/api/v1/tasks``: the tasks a user sees, one task with what they may do, and doing an action — the same
functions and permissions as the task pages (``task_actions``)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel

from gridaudit.audit import actions
from gridaudit.audit.models import Task
from gridaudit.web import task_actions
from gridaudit.web.deps import CurrentUser, ReadSession, csrf_protect, get_settings, get_store
from gridaudit.web.pages.tasks import TaskFilters, filtered_tasks
from gridaudit.web.render import lang_of, pick

router = APIRouter(tags=["tasks"])

ActionName = Literal["assign", "result", "penalty", "rectify", "reply", "accept", "reject", "close", "cancel"]
StateName = Literal["new", "assigned", "checked", "rectifying", "replied", "verified", "closed", "cancelled"]


class TaskOut(BaseModel):
    """One task as the API shows it."""

    task_id: int
    plan_id: int
    finding_id: str
    rule_id: str
    family: str
    severity: str
    entity_type: str
    entity_id: str
    unit_id: str | None
    period: str | None
    state: str
    assignee_id: str | None
    assignee_unit: str | None
    kwh_at_stake: float | None
    yuan_at_stake: float | None
    priority: float
    responsible_staff_id: str | None
    allowed_actions: list[str]


class TaskList(BaseModel):
    """A list of tasks."""

    items: list[TaskOut]
    total: int


class EventOut(BaseModel):
    """One audit-trail event of a task."""

    seq: int
    at: str
    actor: str
    action: str
    payload: dict[str, Any]


class TaskDetail(TaskOut):
    """A task with its evidence, result, rectification and timeline."""

    evidence: dict[str, Any]
    result: dict[str, Any] | None
    rectification: dict[str, Any] | None
    events: list[EventOut]


class ActionDone(BaseModel):
    """What an action did."""

    message: str
    task: TaskOut


def _out(s: Any, user: Any, task: Task) -> dict[str, Any]:
    fields = {name: getattr(task, name) for name in TaskOut.model_fields if name != "allowed_actions"}
    return {**fields, "allowed_actions": task_actions.allowed_actions(s, user, task)}


def _row(obj: Any, names: tuple[str, ...]) -> dict[str, Any] | None:
    if obj is None:
        return None
    return {n: (v.isoformat() if hasattr(v, "isoformat") else v) for n in names if (v := getattr(obj, n)) is not None}


@router.get("/tasks", response_model=TaskList)
def list_tasks(
    s: ReadSession,
    user: CurrentUser,
    state: StateName | None = None,
    month: str | None = Query(None, description="plan month YYYY-MM", max_length=7),
    unit: str | None = Query(None, description="a unit and the units under it (within the user's scope)"),
    overdue: bool = Query(False, description="only rectifications past their deadline"),
    escalated: bool = Query(False, description="only tasks escalated at least once"),
    checked: bool = Query(False, description="only tasks with a result in force (the hit rate's denominator)"),
    mine: bool = Query(False, description="only tasks the user may act on now"),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """The tasks the user sees (unit scope), by priority, with the task page's filters (the dashboard's links:
    state, month, unit, overdue, escalated, checked); ``mine``: only those they may act on now."""
    me = actions.get_user(s, user.user_id)
    flags = ("1" if v else None for v in (overdue, escalated, checked))
    f = TaskFilters.parse(state, month, unit, *flags)
    rows = [_out(s, me, t) for t in filtered_tasks(s, me, f)]
    if mine:
        rows = [r for r in rows if r["allowed_actions"]]
    return {"items": rows[offset : offset + limit], "total": len(rows)}


@router.get("/tasks/{task_id}", response_model=TaskDetail)
def get_task(task_id: int, s: ReadSession, user: CurrentUser) -> dict[str, Any]:
    """One task the user sees, with what they may do now."""
    from gridaudit.audit import trail
    from gridaudit.web.pages.tasks import visible_task

    me = actions.get_user(s, user.user_id)
    task = visible_task(s, me, task_id)
    try:
        evidence = json.loads(task.evidence or "{}")
    except json.JSONDecodeError:
        evidence = {"evidence": task.evidence}
    result = _row(
        actions.latest_result(s, task),
        ("result_id", "check_kind", "outcome", "violation_type", "recovered_kwh", "recovered_yuan", "inspected_on",
         "note", "recorded_by"),
    )  # fmt: skip
    rect = _row(
        actions.rectification_of(s, task),
        ("responsible_id", "ordered_by", "ordered_on", "deadline", "workdays", "requirement", "reply", "status"),
    )
    events = [
        {"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "payload": json.loads(e.payload)}
        for e in trail.history(s, "task", task.task_id)
    ]
    return {
        **_out(s, me, task),
        "evidence": evidence if isinstance(evidence, dict) else {"evidence": evidence},
        "result": result,
        "rectification": rect,
        "events": events,
    }


@router.post("/tasks/{task_id}/{action}", response_model=ActionDone, dependencies=[Depends(csrf_protect)])
def task_action(
    request: Request,
    task_id: int,
    action: ActionName,
    user: CurrentUser,
    values: Annotated[
        dict[str, str | float | bool | None] | None,
        Body(examples=[{"to_user": "inspector1"}, {"outcome": "theft", "check_kind": "field", "recovered_kwh": 1200}]),
    ] = None,
) -> dict[str, Any]:
    """Do ``action`` on the task (fields as in the task page's form, e.g. ``to_user``; ``outcome``,
    ``check_kind``, ``recovered_kwh``; ``responsible_id``, ``workdays``; ``text``; ``reason``, ``period``)."""
    store = get_store(request)
    with store.transaction() as s:
        message = task_actions.perform(
            s, store, get_settings(request).dataset, user.user_id, task_id, action, values or {}, None
        )
    with store.transaction() as s:
        me = actions.get_user(s, user.user_id)
        out = _out(s, me, actions.get_task(s, task_id))
    return {"message": pick(lang_of(request), message), "task": out}
