"""Plans: the list, one plan's progress against its targets (``audit.plan_view``), and creating a plan from the
dataset's findings store with a topic and quotas (``audit.plans.create_plan``, ``audit.quotas.parse_quota``)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from gridaudit.audit import actions, workflow
from gridaudit.audit.plans import PLANNERS
from gridaudit.web.deps import CurrentUser, ReadSession, StoreSession, csrf_protect, get_settings, require_roles
from gridaudit.web.errors import BadInput
from gridaudit.web.render import NavItem, render

router = APIRouter()
PLAN_READERS = ("audit_lead", "auditor", "manager", "admin", "viewer")
NAV = [NavItem("/plans", "稽查计划", "Plans", order=30, roles=PLAN_READERS)]

Reader = Depends(require_roles(*PLAN_READERS))
Planner = Depends(require_roles(*PLANNERS))


@router.get("/plans", dependencies=[Reader])
def plan_list(request: Request, user: CurrentUser, s: ReadSession) -> Response:
    """The plans this user sees (``plan_view.list_plans``: unit scope) with their task counts, newest first."""
    from gridaudit.audit.plan_view import list_plans

    rows = list_plans(s, actions.get_user(s, user.user_id))
    return render(request, "plans.html", plans=rows, may_plan=user.role in PLANNERS)


@router.get("/plans/new", dependencies=[Planner])
def plan_form(request: Request) -> Response:
    """The form creating a plan from the findings store."""
    return render(request, "plan_new.html", values={})


def _lines(text: str) -> list[str]:
    return [x.strip() for x in re.split(r"[\n,，]", text or "") if x.strip()]


@router.post("/plans", dependencies=[Planner, Depends(csrf_protect)])
def plan_create(
    request: Request,
    user: CurrentUser,
    s: StoreSession,
    month: str = Form(..., max_length=7),
    title: str = Form("", max_length=400),
    kind: str = Form("special", max_length=16),
    top: str = Form("", max_length=6),
    families: str = Form("", max_length=1000),
    quotas: str = Form("", max_length=4000),
) -> Response:
    """Create the plan and its tasks from the latest run of each analyzer in the dataset's findings store."""
    from gridaudit.audit.plans import create_plan, entity_units, require_tasks
    from gridaudit.audit.quotas import parse_quota
    from gridaudit.findings import latest_runs
    from gridaudit.findings.store import read_runs

    dataset = get_settings(request).dataset
    if dataset is None:
        raise BadInput("未配置数据集，无法读取问题库", "no dataset configured: the findings store cannot be read")
    if top and not top.isdigit():
        raise BadInput(
            f"目标数（top）应为正整数：{top!r}", f"the target (top) must be a positive whole number: {top!r}"
        )
    parsed = [parse_quota(q) for q in _lines(quotas)]
    runs = latest_runs(dataset)
    if not runs:
        raise BadInput(
            "问题库中没有运行记录，请先运行稽查规则", "the findings store holds no runs: run the rules first"
        )
    out = create_plan(
        s,
        user.user_id,
        month.strip(),
        read_runs(runs),
        kind=kind,
        top=int(top) if top else None,
        families=_lines(families) or None,
        quotas=parsed,
        title=title.strip() or None,
        source={"runs": [r.source() for r in runs]},
        unit_map=entity_units(dataset),
    )
    require_tasks(out)  # raised inside the transaction: the empty plan is rolled back
    return RedirectResponse(f"/plans/{out.plan.plan_id}", status_code=303)


@router.get("/plans/{plan_id}", dependencies=[Reader])
def plan_page(request: Request, plan_id: int, user: CurrentUser, s: ReadSession) -> Response:
    """One plan this user sees (``access.check_plan``, else 403/404): targets (quotas asked, filled at
    creation, filled now) and tasks by state and family over the whole plan; its tasks that this user sees."""
    from gridaudit.audit.plan_view import visible_plan_summary

    me = actions.get_user(s, user.user_id)
    summary = visible_plan_summary(s, me, plan_id)
    tasks: list[Any] = actions.list_tasks(s, plan_id=plan_id, user=me)
    done = sum(n for st, n in summary.by_state.items() if st in ("closed", "cancelled"))
    return render(request, "plan.html", plan=summary, tasks=tasks, states=workflow.STATES, done=done)
