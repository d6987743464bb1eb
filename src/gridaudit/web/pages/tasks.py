"""Tasks: "my tasks" (those this user may act on now), every task the user sees by state, and the task page:
finding, evidence, result, rectification, timeline (the audit trail) and only the action forms this user may
use in this state (``task_actions.allowed_actions``). POSTs go through ``task_actions.perform``."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import UploadFile
from starlette.responses import Response

from gridaudit.audit import actions, trail, workflow
from gridaudit.audit.models import Task, User
from gridaudit.audit.trail_labels import event_label
from gridaudit.web import task_actions
from gridaudit.web.deps import CurrentUser, StoreSession, csrf_protect, get_settings, get_store
from gridaudit.web.errors import BadInput
from gridaudit.web.render import NavItem, render

router = APIRouter()
NAV = [NavItem("/tasks", "我的任务", "My tasks", order=20)]


def _me(s: Any, user: User) -> User:
    return actions.get_user(s, user.user_id)


def my_tasks(s: Any, user: User, state: str | None, mine: bool) -> list[tuple[Task, list[str]]]:
    """The tasks ``user`` sees (unit scope: ``actions.list_tasks``), each with the actions they may take now;
    ``mine``: only those with at least one."""
    rows = [(t, task_actions.allowed_actions(s, user, t)) for t in actions.list_tasks(s, state=state, user=user)]
    return [r for r in rows if r[1]] if mine else rows


@router.get("/tasks")
def task_list(
    request: Request, user: CurrentUser, s: StoreSession, state: str | None = None, all: str | None = None
) -> Response:  # noqa: A002 - the query parameter
    """My tasks (default) or all tasks I see (``?all=1``), optionally of one state."""
    if state and state not in workflow.STATES:
        raise BadInput(
            f"未知状态 {state}，可选: {', '.join(workflow.STATES)}",
            f"unknown state {state}; states: {', '.join(workflow.STATES)}",
        )
    mine = not all
    rows = my_tasks(s, _me(s, user), state or None, mine)
    return render(
        request,
        "tasks.html",
        rows=rows,
        state=state or "",
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
def task_page(request: Request, task_id: int, user: CurrentUser, s: StoreSession, done: str | None = None) -> Response:
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
def attachment(task_id: int, attachment_id: int, user: CurrentUser, s: StoreSession, request: Request) -> Response:
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
