"""Tasks: "my tasks" (those this user may act on now), every task the user sees by state, and the task page:
finding, evidence, result, rectification, timeline (the audit trail) and only the action forms this user may
use in this state (``task_actions.allowed_actions``). POSTs go through ``task_actions.perform``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import UploadFile
from starlette.responses import Response

from gridaudit.audit import actions, trail, workflow
from gridaudit.audit.models import Task, User
from gridaudit.audit.trail_labels import event_label
from gridaudit.web import task_actions
from gridaudit.web.deps import CurrentUser, ReadSession, csrf_protect, get_settings, get_store
from gridaudit.web.errors import BadInput
from gridaudit.web.render import NavItem, render

router = APIRouter()
NAV = [NavItem("/tasks", "我的任务", "My tasks", order=20)]


def _me(s: Any, user: User) -> User:
    return actions.get_user(s, user.user_id)


@dataclass(frozen=True)
class TaskFilters:
    """The filters of a task list (``/tasks`` and ``GET /api/v1/tasks``), as the dashboard's links carry them:
    state, plan month, unit (and those under it), overdue rectifications, escalated tasks, tasks with a result
    in force."""

    state: str | None = None
    month: str | None = None
    unit: str | None = None
    overdue: bool = False
    escalated: bool = False
    checked: bool = False

    @classmethod
    def parse(
        cls,
        state: str | None,
        month: str | None,
        unit: str | None,
        overdue: str | None,
        escalated: str | None,
        checked: str | None = None,
    ) -> TaskFilters:
        """The filters from query parameters (empty means unset; ``overdue``/``escalated``: ``1`` or ``0``);
        a bad state, month or flag is ``BadInput`` naming it."""
        from gridaudit.views.common import check_id, check_month

        if state and state not in workflow.STATES:
            raise BadInput(
                f"未知状态 {state}，可选: {', '.join(workflow.STATES)}",
                f"unknown state {state}; states: {', '.join(workflow.STATES)}",
            )
        return cls(
            state=state or None,
            month=check_month(month, "月份 / month") if month else None,
            unit=check_id(unit, ("单位", "unit")) if unit else None,
            overdue=_flag(overdue, "overdue"),
            escalated=_flag(escalated, "escalated"),
            checked=_flag(checked, "checked"),
        )

    def params(self) -> dict[str, str | None]:
        """The query parameters giving these filters back (for the list's form and links)."""
        return {
            "state": self.state,
            "month": self.month,
            "unit": self.unit,
            "overdue": "1" if self.overdue else None,
            "escalated": "1" if self.escalated else None,
            "checked": "1" if self.checked else None,
        }


def _flag(value: str | None, name: str) -> bool:
    if value in (None, "", "0", "false"):
        return False
    if value in ("1", "true"):
        return True
    raise BadInput(f"参数 {name} 应为 1 或 0：{value!r}", f"the parameter {name} must be 1 or 0: {value!r}")


def filtered_tasks(s: Any, user: User, f: TaskFilters, today: date | None = None) -> list[Task]:
    """The tasks ``user`` sees matching ``f`` (``actions.list_tasks``: the same function the dashboard counts
    with); ``today`` decides what is overdue (default: today)."""
    return actions.list_tasks(
        s,
        state=f.state,
        month=f.month,
        user=user,
        unit=f.unit,
        overdue_on=(today or date.today()) if f.overdue else None,
        escalated=f.escalated,
        checked=f.checked,
    )


def my_tasks(s: Any, user: User, f: TaskFilters, mine: bool) -> list[tuple[Task, list[str]]]:
    """The tasks ``user`` sees matching ``f`` (unit scope: ``actions.list_tasks``), each with the actions they
    may take now; ``mine``: only those with at least one."""
    rows = [(t, task_actions.allowed_actions(s, user, t)) for t in filtered_tasks(s, user, f)]
    return [r for r in rows if r[1]] if mine else rows


@router.get("/tasks")
def task_list(
    request: Request,
    user: CurrentUser,
    s: ReadSession,
    state: str | None = None,
    all: str | None = None,  # noqa: A002 - the query parameter
    month: str | None = None,
    unit: str | None = None,
    overdue: str | None = None,
    escalated: str | None = None,
    checked: str | None = None,
) -> Response:
    """My tasks (default) or all tasks I see (``?all=1``), optionally of one state, plan month and unit,
    only overdue rectifications (``overdue=1``), escalated tasks (``escalated=1``) or tasks with a result in
    force (``checked=1``)."""
    f = TaskFilters.parse(state, month, unit, overdue, escalated, checked)
    mine = not all
    rows = my_tasks(s, _me(s, user), f, mine)
    return render(
        request,
        "tasks.html",
        rows=rows,
        state=f.state or "",
        filters=f,
        mine=mine,
        states=workflow.STATES,
        action_text=task_actions.ACTION_TEXT,
    )


def _evidence(task: Task) -> dict:
    try:
        value = json.loads(task.evidence or "{}")
    except json.JSONDecodeError:
        return {"evidence": task.evidence}
    return value if isinstance(value, dict) else {"evidence": value}


def task_context(s: Any, user: User, task: Task) -> dict[str, Any]:
    """Everything the task page shows (shared with the API's task detail)."""
    from sqlalchemy import select

    from gridaudit.audit.corrections import effective_penalties
    from gridaudit.audit.models import Attachment, Reply
    from gridaudit.audit.users import list_users

    rect = actions.rectification_of(s, task)
    replies = []
    if rect is not None:
        replies = list(s.execute(select(Reply).where(Reply.rect_id == rect.rect_id).order_by(Reply.round)).scalars())
    people = [u for u in list_users(s) if u.active]
    return {
        "task": task,
        "evidence": _evidence(task),
        "result": actions.latest_result(s, task),
        "rect": rect,
        "replies": replies,
        "penalties": effective_penalties(s, [task.task_id]).get(task.task_id, []),
        "attachments": list(s.execute(select(Attachment).where(Attachment.task_id == task.task_id)).scalars()),
        "events": [(e, json.loads(e.payload)) for e in trail.history(s, "task", task.task_id)],
        "allowed": task_actions.allowed_actions(s, user, task),
        "assignees": [u for u in people if u.role in ("inspector", "responsible", "auditor", "audit_lead")],
        "rectifiers": [u for u in people if u.role == "responsible"],
    }


def visible_task(s: Any, user: User, task_id: int) -> Task:
    """Task ``task_id`` when ``user`` may see it (``access.can(..., "show")``), else NotFound/Forbidden."""
    from gridaudit.audit import access

    task = actions.get_task(s, task_id)
    access.can(s, user, "show", task)
    return task


@router.get("/tasks/{task_id}")
def task_page(request: Request, task_id: int, user: CurrentUser, s: ReadSession, done: str | None = None) -> Response:
    """One task with its finding, evidence, timeline and the forms this user may use now."""
    me = _me(s, user)
    task = visible_task(s, me, task_id)
    from gridaudit.audit.penalties import KINDS
    from gridaudit.contract import load_contract

    return render(
        request,
        "task.html",
        **task_context(s, me, task),
        states=workflow.STATES,
        action_text=task_actions.ACTION_TEXT,
        event_label=event_label,
        outcomes=actions.OUTCOMES,
        check_kinds=actions.CHECK_KINDS,
        violation_types=load_contract().domains["violation_type"].values,
        penalty_kinds=KINDS,
        done=done,
    )


@router.get("/tasks/{task_id}/attachments/{attachment_id}")
def attachment(task_id: int, attachment_id: int, user: CurrentUser, s: ReadSession, request: Request) -> Response:
    """Download an attachment of a task the user sees (stored by sha256; sent under its original name)."""
    from fastapi.responses import FileResponse

    from gridaudit.audit.actions import fits_db_integer
    from gridaudit.audit.errors import NotFound
    from gridaudit.audit.models import Attachment

    visible_task(s, _me(s, user), task_id)
    row = s.get(Attachment, attachment_id) if fits_db_integer(attachment_id) else None
    path = get_store(request).attachments / row.sha256[:2] / row.sha256 if row is not None else None
    if row is None or row.task_id != task_id or path is None or not path.is_file():
        raise NotFound(f"任务 {task_id} 没有附件 {attachment_id}", f"task {task_id} has no attachment {attachment_id}")
    return FileResponse(path, filename=row.filename, content_disposition_type="attachment")


@router.post("/tasks/{task_id}/{action}", dependencies=[Depends(csrf_protect)])
async def task_action(request: Request, task_id: int, action: str, user: CurrentUser) -> Response:
    """Do one action from the task page's form, then show the task again (303)."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    uploads = [
        task_actions.Upload(f.filename or "", await f.read())
        for f in form.getlist("attachments")
        if isinstance(f, UploadFile) and f.filename
    ]
    from starlette.concurrency import run_in_threadpool

    def go() -> Any:
        with get_store(request).transaction() as s:
            return task_actions.perform(
                s, get_store(request), get_settings(request).dataset, user.user_id, task_id, action, values, uploads
            )

    await run_in_threadpool(go)
    return RedirectResponse(f"/tasks/{task_id}?done={action}", status_code=303)
