"""Rules (规则库): the rule catalog with titles, descriptions, parameters, basis, SQL and hit-rate history."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from gridaudit.audit.rule_view import catalog, rule_detail
from gridaudit.findings.query import FAMILY_TEXT, SEVERITY_TEXT
from gridaudit.findings.shape import FAMILIES
from gridaudit.web.deps import CurrentUser, ReadSession
from gridaudit.web.errors import BadInput
from gridaudit.web.render import NavItem, render

router = APIRouter()
NAV = [NavItem("/rules", "规则库", "Rules", order=60)]


@router.get("/rules")
def rules_page(request: Request, user: CurrentUser, s: ReadSession, family: str | None = None) -> Response:
    """Every rule of the catalog (optionally one family) with its hit rate."""
    if family and family not in FAMILIES:
        raise BadInput(
            f"参数 family 的取值无效：{family}（可用：{', '.join(FAMILIES)}）",
            f"bad family value: {family} (known: {', '.join(FAMILIES)})",
        )
    entries = catalog(s, family or None)
    return render(
        request,
        "rules.html",
        entries=entries,
        family=family or "",
        families=FAMILIES,
        family_text=FAMILY_TEXT,
        severity_text=SEVERITY_TEXT,
    )


@router.get("/rules/{rule_id}")
def rule_page(request: Request, rule_id: str, user: CurrentUser, s: ReadSession) -> Response:
    """One rule: texts, parameters, tables, SQL (and its derived tables'), hit rate and its history."""
    entry = rule_detail(s, rule_id)
    return render(request, "rule.html", rule=entry, family_text=FAMILY_TEXT, severity_text=SEVERITY_TEXT)
