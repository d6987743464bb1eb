"""``GET /api/v1/findings``: the findings list (the page's filters, ``limit``, ``offset``) → ``items`` and ``total``;
``GET /api/v1/rules`` and ``/api/v1/rules/{rule_id}``: the rule catalog."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from gridaudit.audit.findings_view import finding_detail, list_findings
from gridaudit.audit.rule_view import catalog, rule_detail
from gridaudit.web.deps import CurrentUser, ReadSession
from gridaudit.web.reads import dataset_dir, findings_query, jsonable

router = APIRouter(tags=["findings"])

ListParam = Annotated[list[str] | None, Query(description="one value, repeated or comma-separated (a,b)")]
StatusParam = Annotated[list[str] | None, Query(description="new, under_audit, closed (repeated or a,b)")]
PeriodParam = Annotated[str | None, Query(description="YYYY-MM or YYYY-MM..YYYY-MM")]
LimitParam = Annotated[str | None, Query(description="rows per page, 1–500 (default 50)")]
OffsetParam = Annotated[str | None, Query(description="rows to skip (default 0)")]


@router.get("/findings")
def api_findings(
    request: Request,
    user: CurrentUser,
    s: ReadSession,
    family: ListParam = None,
    rule: ListParam = None,
    severity: ListParam = None,
    unit: ListParam = None,
    area: ListParam = None,
    staff: ListParam = None,
    status: StatusParam = None,
    entity_type: ListParam = None,
    entity: ListParam = None,
    period: PeriodParam = None,
    limit: LimitParam = None,
    offset: OffsetParam = None,
) -> dict[str, Any]:
    """Findings in the caller's unit scope, highest priority first (the plans' priority), one page of them.

    The parameters are read from the query string by the same parser as the page (the names above document
    them); an unknown parameter or value is a 400 naming it."""
    query = findings_query(request)
    page = list_findings(s, s.get(type(user), user.user_id), dataset_dir(request), query)
    return {
        "items": jsonable(page.items),
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "runs": page.runs,
    }


@router.get("/findings/{finding_id}")
def api_finding(request: Request, finding_id: str, user: CurrentUser, s: ReadSession) -> dict[str, Any]:
    """One finding (as in the list, with its evidence); 404 when unknown or outside the caller's units."""
    return jsonable(finding_detail(s, s.get(type(user), user.user_id), dataset_dir(request), finding_id))


@router.get("/rules")
def api_rules(user: CurrentUser, s: ReadSession, family: str | None = None) -> list[dict[str, Any]]:
    """Every rule of the catalog (optionally one family) with texts, parameters, SQL and its hit rate."""
    return [jsonable(e.as_dict()) for e in catalog(s, family or None)]


@router.get("/rules/{rule_id}")
def api_rule(rule_id: str, user: CurrentUser, s: ReadSession) -> dict[str, Any]:
    """One rule with its hit-rate history by plan month."""
    return jsonable(rule_detail(s, rule_id).as_dict())
