"""The customer and area read models as JSON: ``GET /api/v1/customers/{id}`` and
``GET /api/v1/areas/{id}/loss?period=YYYY-MM`` (the same functions and unit scope as the pages)."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder

from gridaudit.audit.models import User
from gridaudit.views.area import area
from gridaudit.views.customer import customer
from gridaudit.web.deps import CurrentUser, Engine, ReadSession

router = APIRouter(tags=["views"])


@router.get("/customers/{customer_id}", summary="One customer (客户全景)")
def customer_api(
    customer_id: str,
    user: CurrentUser,
    s: ReadSession,
    engine: Engine,
    month: str | None = Query(None, description="daily use up to the end of this month (YYYY-MM)"),
) -> dict[str, Any]:
    """Profile, meters, daily use, meter events, suspected theft window, readings against AMI, bills,
    payments, inspections, findings, tasks and the theft-risk score with its explanation."""
    view = customer(engine, s, s.get(User, user.user_id), customer_id, month or None)
    return jsonable_encoder(dataclasses.asdict(view))


@router.get("/areas/{area_id}/loss", summary="One area's line loss")
def area_loss_api(
    area_id: str,
    user: CurrentUser,
    s: ReadSession,
    engine: Engine,
    period: str | None = Query(None, description="the month YYYY-MM (default: the last month of data)"),
) -> dict[str, Any]:
    """Daily supply, sales and loss of the month, band history, AMI coverage, customers behind the loss,
    mapping-error candidates and the technical-loss estimate."""
    view = area(engine, s, s.get(User, user.user_id), area_id, period or None)
    return jsonable_encoder({**dataclasses.asdict(view), "coverage": view.coverage})
