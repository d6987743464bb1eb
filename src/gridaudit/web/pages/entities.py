"""The customer (客户全景), area (台区), feeder and staff pages, and the loss list behind band counts.

``/customers/{id}?month=``, ``/areas/{id}?period=``, ``/feeders/{id}?period=``, ``/staff/{id}?month=``,
``/loss?level=&band=&period=&unit=``. Handlers parse, call the read models in :mod:`gridaudit.views`
(unit scope and id checks live there: another unit's entity is 403, an unknown id 404, a bad month 400,
each in the user's language) and render."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from gridaudit.audit.models import User
from gridaudit.views.area import area, feeder, loss_list
from gridaudit.views.chartspecs import customer_charts, loss_entity_charts
from gridaudit.views.customer import customer
from gridaudit.views.loss import data_months
from gridaudit.views.staff import staff
from gridaudit.web.deps import CurrentUser, Engine, ReadSession
from gridaudit.web.pages.views_common import page_context
from gridaudit.web.render import lang_of, render

router = APIRouter()


@router.get("/customers/{customer_id}")
def customer_page(
    request: Request, customer_id: str, user: CurrentUser, s: ReadSession, engine: Engine, month: str | None = None
) -> Response:
    """客户全景: the customer's profile, meters, daily use, readings, bills, findings, tasks and risk."""
    c = customer(engine, s, s.get(User, user.user_id), customer_id, month or None)
    return render(request, "customer.html", c=c, **page_context(request, customer_charts(c, lang_of(request))))


@router.get("/areas/{area_id}")
def area_page(
    request: Request, area_id: str, user: CurrentUser, s: ReadSession, engine: Engine, period: str | None = None
) -> Response:
    """台区: daily supply, sales and loss; band history; coverage; customers behind the loss; mapping; technical."""
    v = area(engine, s, s.get(User, user.user_id), area_id, period or None)
    return render(request, "loss_entity.html", v=v, **page_context(request, loss_entity_charts(v, lang_of(request))))


@router.get("/feeders/{feeder_id}")
def feeder_page(
    request: Request, feeder_id: str, user: CurrentUser, s: ReadSession, engine: Engine, period: str | None = None
) -> Response:
    """线路: the feeder's daily balance, band history and its areas."""
    v = feeder(engine, s, s.get(User, user.user_id), feeder_id, period or None)
    return render(request, "loss_entity.html", v=v, **page_context(request, loss_entity_charts(v, lang_of(request))))


@router.get("/staff/{staff_id}")
def staff_page(
    request: Request, staff_id: str, user: CurrentUser, s: ReadSession, engine: Engine, month: str | None = None
) -> Response:
    """人员: findings where responsible, error rates per reading volume, rectification record."""
    v = staff(engine, s, s.get(User, user.user_id), staff_id, month or None)
    return render(request, "staff.html", v=v, **page_context(request))


@router.get("/loss")
def loss_page(
    request: Request,
    user: CurrentUser,
    s: ReadSession,
    engine: Engine,
    level: str = "area",
    period: str | None = None,
    band: str | None = None,
    unit: str | None = None,
) -> Response:
    """The month's entities of one level and band (the list behind a dashboard band count)."""
    v = loss_list(
        engine, s, s.get(User, user.user_id), level, period or data_months(engine)[1], band or None, unit or None
    )
    return render(request, "loss_list.html", v=v, **page_context(request))
