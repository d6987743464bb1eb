"""Findings (问题清单): filters as query parameters (bookmarkable), ranked by the plans' priority, paged, in the
user's unit scope; a planner (audit lead, auditor) selects findings and makes a plan of them."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from gridaudit.audit.errors import Forbidden
from gridaudit.audit.findings_view import finding_detail, list_findings, may_plan, plan_from_selection, query_params
from gridaudit.audit.plans import PLAN_KINDS, PLANNERS
from gridaudit.findings.query import AUDIT_STATUSES, FAMILY_TEXT, SEVERITY_TEXT, STATUS_TEXT
from gridaudit.findings.shape import ENTITY_TYPES, FAMILIES, SEVERITIES
from gridaudit.web.deps import CurrentUser, ReadSession, StoreSession, csrf_protect
from gridaudit.web.errors import BadInput
from gridaudit.web.reads import dataset_dir, findings_query
from gridaudit.web.render import NavItem, render

router = APIRouter()
NAV = [NavItem("/findings", "问题清单", "Findings", order=30)]
MAX_SELECTED = 1000


def _url(pairs: list[tuple[str, str]]) -> str:
    return "/findings" + (f"?{urlencode(pairs)}" if pairs else "")


@router.get("/findings")
def findings_page(request: Request, user: CurrentUser, s: ReadSession) -> Response:
    """One page of findings for the filters in the query string."""
    query = findings_query(request)
    page = list_findings(s, s.get(type(user), user.user_id), dataset_dir(request), query)
    prev_url = next_url = None
    if query.offset > 0:
        prev_url = _url(query_params(query, offset=max(0, query.offset - query.limit)))
    if query.offset + query.limit < page.total:
        next_url = _url(query_params(query, offset=query.offset + query.limit))
    return render(
        request,
        "findings.html",
        query=query,
        flt=query.filter,
        page=page,
        prev_url=prev_url,
        next_url=next_url,
        this_url=_url(query_params(query)),
        can_plan=may_plan(user),
        families=FAMILIES,
        severities=SEVERITIES,
        statuses=AUDIT_STATUSES,
        entity_types=ENTITY_TYPES,
        family_text=FAMILY_TEXT,
        severity_text=SEVERITY_TEXT,
        status_text=STATUS_TEXT,
        plan_kinds=PLAN_KINDS,
        month=date.today().strftime("%Y-%m"),
    )


@router.get("/findings/{finding_id}")
def finding_page(request: Request, finding_id: str, user: CurrentUser, s: ReadSession) -> Response:
    """One finding: what the list shows, and its evidence in full."""
    item = finding_detail(s, s.get(type(user), user.user_id), dataset_dir(request), finding_id)
    return render(
        request,
        "finding.html",
        item=item,
        family_text=FAMILY_TEXT,
        severity_text=SEVERITY_TEXT,
        status_text=STATUS_TEXT,
    )


@router.post("/findings/plan", dependencies=[Depends(csrf_protect)])
def plan_from_findings(
    request: Request,
    user: CurrentUser,
    s: StoreSession,
    finding_id: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults per request
    month: Annotated[str, Form(max_length=7)] = "",
    kind: Annotated[str, Form(max_length=32)] = "special",
    title: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """Make a plan of the selected findings (``finding_id`` checkboxes; ``month``, ``kind``, ``title``)."""
    if not may_plan(user):
        raise Forbidden(
            f"只有稽查组长和稽查员可以由问题制定计划（{user.user_id} 是 {user.role}）",
            f"only {' and '.join(PLANNERS)} may make a plan from findings ({user.user_id} is {user.role})",
        )
    if not finding_id:
        raise BadInput("请先勾选问题", "select findings first")
    if len(finding_id) > MAX_SELECTED:
        raise BadInput(f"一次最多选择 {MAX_SELECTED} 条问题", f"select at most {MAX_SELECTED} findings at a time")
    out = plan_from_selection(
        s, user.user_id, dataset_dir(request), finding_id, month.strip(), kind=kind, title=title.strip() or None
    )
    return RedirectResponse(f"/plans/{out.plan.plan_id}", status_code=303)
