"""Tasks: "my tasks" (what this user may act on now) and every task the user sees, by state."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from gridaudit.audit import actions, workflow
from gridaudit.web.deps import CurrentUser, StoreSession
from gridaudit.web.errors import BadInput
from gridaudit.web.render import NavItem, render

router = APIRouter()
NAV = [NavItem("/tasks", "我的任务", "My tasks", order=20)]


@router.get("/tasks")
def task_list(request: Request, user: CurrentUser, s: StoreSession, state: str | None = None) -> Response:
    """The tasks the user sees (unit scope by ``actions.list_tasks``), optionally of one state."""
    if state and state not in workflow.STATES:
        raise BadInput(
            f"未知状态 {state}，可选: {', '.join(workflow.STATES)}",
            f"unknown state {state}; states: {', '.join(workflow.STATES)}",
        )
    rows = actions.list_tasks(s, state=state or None, user=s.get(type(user), user.user_id))
    return render(request, "tasks.html", tasks=rows, state=state or "", states=workflow.STATES)
