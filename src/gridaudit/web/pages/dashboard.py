"""The dashboard (总览) of a month and unit: ``/dashboard?month=YYYY-MM&unit=U``.

The handler parses, calls :func:`gridaudit.views.dashboard.dashboard` (unit scope applied there) and
renders; every number links to the list behind it (findings, tasks, loss entities)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from gridaudit.audit.access import SEE_ALL_ROLES
from gridaudit.audit.models import User
from gridaudit.views.chartspecs import dashboard_charts
from gridaudit.views.dashboard import dashboard
from gridaudit.views.loss import data_months
from gridaudit.web.deps import CurrentUser, Engine, ReadSession
from gridaudit.web.pages.views_common import page_context
from gridaudit.web.render import NavItem, lang_of, render

router = APIRouter()
# in the menu (and the start page) of the roles that plan and oversee; the page itself is open to every user,
# within their unit scope
NAV = [NavItem("/dashboard", "总览", "Dashboard", order=10, roles=SEE_ALL_ROLES)]


@router.get("/dashboard")
def dashboard_page(
    request: Request,
    user: CurrentUser,
    s: ReadSession,
    engine: Engine,
    month: str | None = None,
    unit: str | None = None,
) -> Response:
    """The month's dashboard (default: the last month of data) for ``unit`` (default: all the user sees)."""
    month = month or data_months(engine)[1]
    d = dashboard(engine, s, s.get(User, user.user_id), month, unit or None)
    ctx = page_context(request, dashboard_charts(d, lang_of(request)))
    return render(request, "dashboard.html", d=d, **ctx)
