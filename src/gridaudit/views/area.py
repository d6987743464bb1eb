"""The area (台区) and feeder pages: daily supply, sales and loss, band history, AMI coverage, the customers
behind the loss, mapping-error candidates and the technical-loss estimate.

Numbers come from one line-loss run over the ``TREND_MONTHS`` months up to the month shown
(:func:`gridaudit.views.loss.loss_outputs`): ``balance.daily`` / ``balance.monthly`` for the entity,
``suspects`` (lineloss/behind.py) and ``mapping`` (lineloss/mapping.py) of the month's window and
``technical_monthly`` (lineloss/technical.py). A feeder page lists the feeder's areas with their month.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridaudit.audit.models import User
from gridaudit.engines import Engine
from gridaudit.views.common import (
    check_entity_scope,
    check_id,
    check_month,
    has_table,
    not_found,
    query_rows,
    shift_month,
)
from gridaudit.views.loss import LossInputError, data_months, loss_outputs
from gridaudit.views.loss_index import LossIndex, loss_index

TREND_MONTHS = 6
AREA = ("台区", "area")
FEEDER = ("线路", "feeder")


@dataclass
class LossEntityView:
    """An area's or feeder's page."""

    level: str  # area / feeder
    entity: dict[str, Any]  # the areas/feeders row with unit (and feeder / manager) names
    month: str
    months: tuple[str, str]  # the window of the band history
    daily: list[dict[str, Any]]  # the month's days: day, supply_kwh, sales_kwh, loss_kwh, loss_rate_pct, coverage, band
    month_row: dict[str, Any] | None  # the month's balance
    history: list[dict[str, Any]]  # monthly balance rows of the window (period, loss_rate_pct, band, coverage…)
    behind: list[dict[str, Any]]  # customers behind the loss (area only)
    mapping: list[dict[str, Any]]  # mapping-error candidates recorded on, or likely fed from, this area
    technical: list[dict[str, Any]]  # technical-loss estimate per month (a feeder's: the sum over its areas)
    areas: list[dict[str, Any]]  # the feeder's areas in the month (feeder only)
    notes: list[str]

    @property
    def coverage(self) -> float | None:
        """The month's AMI coverage (meter-days reporting ÷ expected)."""
        return None if self.month_row is None else self.month_row.get("coverage")


def _entity(engine: Engine, level: str, entity_id: str) -> dict[str, Any] | None:
    table, key = ("areas", "area_id") if level == "area" else ("feeders", "feeder_id")
    if not has_table(engine, table):
        return None
    joins, cols = [], ["x.*"]
    if has_table(engine, "units"):
        joins.append("LEFT JOIN units u ON u.unit_id = x.unit_id")
        cols.append("u.name AS unit_name")
    if level == "area" and has_table(engine, "feeders"):
        joins.append("LEFT JOIN feeders f ON f.feeder_id = x.feeder_id")
        cols.append("f.name AS feeder_name")
    if level == "area" and has_table(engine, "staff"):
        joins.append("LEFT JOIN staff s ON s.staff_id = x.manager_id")
        cols.append("s.name AS manager_name")
    sql = f"SELECT {', '.join(cols)} FROM {table} x {' '.join(joins)} WHERE x.{key} = $id"
    found = query_rows(engine, sql, {"id": entity_id})
    return found[0] if found else None


def loss_entity(
    engine: Engine,
    session: Any,
    user: User | None,
    level: str,
    entity_id: str,
    month: str | None = None,
    *,
    settings_file: str | Path | None = None,
) -> LossEntityView:
    """The page of area or feeder ``entity_id`` for ``month`` (default: the dataset's last month)."""
    what = AREA if level == "area" else FEEDER
    entity_id = check_id(entity_id, what)
    row = _entity(engine, level, entity_id)
    if row is None:
        raise not_found(what, entity_id)
    check_entity_scope(session, user, row.get("unit_id"), level, entity_id, what)
    lo, hi = data_months(engine)
    month = hi if month is None else check_month(month, "期间 / period")
    if month < lo or month > hi:
        from gridaudit.audit.errors import AuditError

        raise AuditError(
            f"数据集中没有 {month} 的用电数据（有 {lo}..{hi}）", f"no usage data for {month} (data: {lo}..{hi})"
        )
    first = max(shift_month(month, -(TREND_MONTHS - 1)), lo)
    try:
        result = loss_outputs(engine, first, month, settings_file)
    except LossInputError as exc:
        from gridaudit.audit.errors import AuditError

        raise AuditError(str(exc), str(exc)) from exc
    index = loss_index(engine, first, month, settings_file)  # the entity's rows only, not the whole tables
    daily = [r for r in index.daily.rows(level, entity_id) if r["first_day"].strftime("%Y-%m") == month]
    history = index.monthly.rows(level, entity_id)
    month_row = next((r for r in history if r["period"] == month), None)
    behind: list[dict[str, Any]] = []
    mapping: list[dict[str, Any]] = []
    technical: list[dict[str, Any]] = []
    areas: list[dict[str, Any]] = []
    if level == "area":
        behind = sorted(index.suspects.rows(entity_id), key=lambda r: r["rank_in_area"])
        mapping = [r for r in index.mapping if entity_id in (r["recorded_area"], r["likely_area"])]
        technical = index.technical.rows(entity_id)
    else:
        areas = sorted(
            index.feeder_areas.rows(entity_id, month), key=lambda r: (-(r["loss_rate_pct"] or 0.0), r["entity_id"])
        )
        technical = feeder_technical(index, entity_id, history)
    return LossEntityView(
        level=level,
        entity=row,
        month=month,
        months=(first, month),
        daily=daily,
        month_row=month_row,
        history=history,
        behind=behind,
        mapping=mapping,
        technical=technical,
        areas=areas,
        notes=list(result.notes),
    )


def feeder_technical(index: LossIndex, feeder_id: str, history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The technical-loss estimate of a feeder per month of ``history`` (its monthly balance rows): the sum over
    the feeder's areas of their estimates (``lineloss.technical``: each area's transformer and low-voltage
    line; the feeder's own 10 kV line is not estimated), against the feeder's supply and loss. ``areas`` /
    ``estimated``: the feeder's areas that month and those with an estimate; ``complete``: every one has a
    complete estimate."""
    out = []
    for month_row in history:
        period = month_row["period"]
        areas = [a["entity_id"] for a in index.feeder_areas.rows(feeder_id, period)]
        est = [t for a in areas for t in index.technical.rows(a) if t["period"] == period]
        kwh = [t["technical_kwh"] for t in est if t["technical_kwh"] is not None]
        if not kwh:
            continue
        tech = sum(kwh)
        supply, loss = month_row.get("supply_kwh"), month_row.get("loss_kwh")
        rate = None if not supply else 100.0 * tech / supply
        non_tech = None if loss is None else loss - tech
        out.append(
            {
                "period": period,
                "areas": len(areas),
                "estimated": len(kwh),
                "technical_kwh": tech,
                "technical_rate_pct": rate,
                "non_technical_kwh": non_tech,
                "non_technical_rate_pct": None if not supply or non_tech is None else 100.0 * non_tech / supply,
                "complete": len(kwh) == len(areas) and all(t["complete"] for t in est),
            }
        )
    return out


def area(engine: Engine, session: Any, user: User | None, area_id: str, month: str | None = None) -> LossEntityView:
    """The area page (:func:`loss_entity` with level area)."""
    return loss_entity(engine, session, user, "area", area_id, month)


def feeder(engine: Engine, session: Any, user: User | None, feeder_id: str, month: str | None = None) -> LossEntityView:
    """The feeder page (:func:`loss_entity` with level feeder)."""
    return loss_entity(engine, session, user, "feeder", feeder_id, month)


@dataclass
class LossList:
    """The entities of one level (and band) in a month: the list behind a dashboard band count."""

    level: str
    band: str | None
    month: str
    unit: str | None
    rows: list[dict[str, Any]]  # balance_monthly rows, worst first


def loss_list(
    engine: Engine,
    session: Any,
    user: User | None,
    level: str,
    month: str,
    band: str | None = None,
    unit: str | None = None,
    *,
    settings_file: str | Path | None = None,
) -> LossList:
    """The month's ``level`` entities (area, feeder, voltage, unit) in ``band`` (None: all) within ``unit``
    and the user's scope, highest loss rate first."""
    from gridaudit.audit.errors import AuditError
    from gridaudit.lineloss.settings import BANDS, LEVELS
    from gridaudit.views.common import check_unit_scope

    if level not in LEVELS:
        raise AuditError(
            f"层级应为 {', '.join(LEVELS)}：{level!r}", f"level must be one of {', '.join(LEVELS)}: {level!r}"
        )
    if band is not None and band not in BANDS:
        raise AuditError(
            f"线损分档应为 {', '.join(BANDS)}：{band!r}", f"band must be one of {', '.join(BANDS)}: {band!r}"
        )
    month = check_month(month, "期间 / period")
    units = check_unit_scope(session, user, unit)
    lo, hi = data_months(engine)
    if month < lo or month > hi:
        raise AuditError(
            f"数据集中没有 {month} 的用电数据（有 {lo}..{hi}）", f"no usage data for {month} (data: {lo}..{hi})"
        )
    first = max(shift_month(month, -(TREND_MONTHS - 1)), lo)  # the window the dashboard and pages use: one run
    result = loss_outputs(engine, first, month, settings_file)
    rows = [
        r
        for r in result.balance.monthly.to_pylist()
        if r["level"] == level
        and r["period"] == month
        and (band is None or r["band"] == band)
        and (units is None or r["unit_id"] in units)
    ]
    rows.sort(key=lambda r: (r["loss_rate_pct"] is None, -(r["loss_rate_pct"] or 0.0), r["entity_id"]))
    return LossList(level, band, month, unit, rows)
