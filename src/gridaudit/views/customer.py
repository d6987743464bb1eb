"""The customer page (客户全景): profile, meters, daily use with meter events and the suspected theft window,
readings against AMI, bills, payments, inspections, findings and tasks, the theft-risk score explained.

Dataset tables are read through ``Engine.query`` with bound parameters; a table the dataset lacks
gives an empty list. The daily use is energy (register kWh × the meter's multiplier) summed over the
customer's meters per day. The suspected theft window is the span of the months of the customer's
theft-family findings (first day of the first month .. last day of the last). The risk score is the
customer's finding from the latest ``risk`` run, with the explanation in plain words it carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from gridaudit.audit.models import Task, User
from gridaudit.engines import Engine
from gridaudit.findings.query import period_span
from gridaudit.views.common import check_entity_scope, check_id, has_table, month_days, not_found, query_rows
from gridaudit.views.findings_read import finding_rows, scoped_findings

WHAT = ("用户", "customer")
RISK_RULE = "theft_risk"  # gridaudit.risk.pipeline.RULE_ID (not imported: it pulls in the model libraries)
DAYS = 120


@dataclass
class Risk:
    """The customer's theft-risk score from the latest risk run."""

    score: float
    rank: int | None
    severity: str
    as_of: str | None
    explanation_zh: str
    explanation_en: str
    reasons: list[dict[str, Any]]
    finding_id: str

    def explanation(self, lang: str) -> str:
        """The explanation in ``lang``."""
        return self.explanation_zh if lang == "zh" else self.explanation_en


@dataclass
class CustomerView:
    """Everything the customer page shows."""

    customer: dict[str, Any]
    meters: list[dict[str, Any]]
    days: tuple[date, date] | None  # the daily-use window shown
    usage: list[dict[str, Any]]  # day, kwh (energy)
    events: list[dict[str, Any]]  # meter_id, ts, event_type, ended_at, detail
    theft_window: tuple[date, date] | None
    readings: list[dict[str, Any]]  # meter_id, period, read_on, reading, read_type, reader_id, ami_register, diff
    bills: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    inspections: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    risk: Risk | None


def _profile(engine: Engine, customer_id: str) -> dict[str, Any] | None:
    join_area = "LEFT JOIN areas a ON a.area_id = c.area_id" if has_table(engine, "areas") else ""
    join_feeder = "LEFT JOIN feeders f ON f.feeder_id = c.feeder_id" if has_table(engine, "feeders") else ""
    join_unit = "LEFT JOIN units u ON u.unit_id = c.unit_id" if has_table(engine, "units") else ""
    join_staff = "LEFT JOIN staff s ON s.staff_id = c.reader_id" if has_table(engine, "staff") else ""
    cols = ", ".join(
        [
            "c.*",
            "a.name AS area_name" if join_area else "NULL AS area_name",
            "f.name AS feeder_name" if join_feeder else "NULL AS feeder_name",
            "u.name AS unit_name" if join_unit else "NULL AS unit_name",
            "s.name AS reader_name" if join_staff else "NULL AS reader_name",
        ]
    )
    sql = f"SELECT {cols} FROM customers c {join_area} {join_feeder} {join_unit} {join_staff} WHERE c.customer_id = $id"
    found = query_rows(engine, sql, {"id": customer_id})
    return found[0] if found else None


def _window(engine: Engine, meter_ids: list[str], month: str | None) -> tuple[date, date] | None:
    if not meter_ids or not has_table(engine, "daily_usage"):
        return None
    if month is not None:
        last = month_days(month)[1]
    else:
        got = query_rows(
            engine, "SELECT MAX(day) AS d FROM daily_usage WHERE meter_id IN (SELECT unnest($m))", {"m": meter_ids}
        )
        if not got or got[0]["d"] is None:
            return None
        last = got[0]["d"]
    return last - timedelta(days=DAYS - 1), last


def theft_window(findings: list[dict[str, Any]]) -> tuple[date, date] | None:
    """The first and last day of the months named by the theft-family findings (None without any)."""
    spans = [period_span(f.get("period")) for f in findings if f.get("family") == "theft"]
    months = [s for s in spans if s is not None]
    if not months:
        return None
    return month_days(min(s[0] for s in months))[0], month_days(max(s[1] for s in months))[1]


def _risk(findings: list[dict[str, Any]]) -> Risk | None:
    for f in findings:
        ev = f.get("evidence") or {}
        if f.get("rule_id") == RISK_RULE and "explanation_zh" in ev:
            return Risk(
                score=float(f.get("score") or ev.get("score") or 0.0),
                rank=ev.get("rank"),
                severity=f["severity"],
                as_of=ev.get("as_of"),
                explanation_zh=ev.get("explanation_zh", ""),
                explanation_en=ev.get("explanation_en", ""),
                reasons=ev.get("reasons") or [],
                finding_id=f["finding_id"],
            )
    return None


def _tasks(session: Any, user: User | None, entity_ids: list[tuple[str, str]]) -> list[dict[str, Any]]:
    from sqlalchemy import and_, or_, select

    from gridaudit.audit.access import visible_task_filter

    if not entity_ids:
        return []
    match = or_(*[and_(Task.entity_type == t, Task.entity_id == i) for t, i in entity_ids])
    q = select(Task).where(match, visible_task_filter(session, user)).order_by(Task.task_id)
    return [
        {
            "task_id": t.task_id,
            "plan_id": t.plan_id,
            "finding_id": t.finding_id,
            "rule_id": t.rule_id,
            "family": t.family,
            "severity": t.severity,
            "state": t.state,
            "assignee_id": t.assignee_id,
            "period": t.period,
            "yuan_at_stake": t.yuan_at_stake,
        }
        for t in session.execute(q).scalars()
    ]


def customer(
    engine: Engine, session: Any, user: User | None, customer_id: str, month: str | None = None
) -> CustomerView:
    """The customer page of ``customer_id`` (daily use of the ``DAYS`` days up to the end of ``month``, or
    up to the customer's last day of data). Unknown: ``NotFound``; outside the user's scope: ``Forbidden``."""
    from gridaudit.findings.status import tasks_by_finding
    from gridaudit.views.common import check_month

    customer_id = check_id(customer_id, WHAT)
    if month is not None:
        month = check_month(month, "月份 / month")
    if not has_table(engine, "customers"):
        raise not_found(WHAT, customer_id)
    profile = _profile(engine, customer_id)
    if profile is None:
        raise not_found(WHAT, customer_id)
    check_entity_scope(session, user, profile.get("unit_id"), "customer", customer_id, WHAT)
    p = {"id": customer_id}
    meters = (
        query_rows(engine, "SELECT * FROM meters WHERE customer_id = $id ORDER BY meter_id", p)
        if has_table(engine, "meters")
        else []
    )
    meter_ids = [m["meter_id"] for m in meters]
    window = _window(engine, meter_ids, month)
    usage: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    if window is not None:
        wp = {"m": meter_ids, "lo": window[0], "hi": window[1]}
        # the multipliers of the meters read above, bound: joining the whole meters table cost ~80 ms at 1 M
        usage = query_rows(
            engine,
            "SELECT d.day, SUM(d.kwh * mm.multiplier) AS kwh FROM daily_usage d "
            "JOIN (SELECT unnest($m) AS meter_id, unnest($k) AS multiplier) mm ON mm.meter_id = d.meter_id "
            "WHERE d.meter_id IN (SELECT unnest($m)) AND d.day BETWEEN $lo AND $hi GROUP BY d.day ORDER BY d.day",
            {**wp, "k": [m.get("multiplier") for m in meters]},
        )
        if has_table(engine, "meter_events"):
            events = query_rows(
                engine,
                "SELECT meter_id, ts, event_type, ended_at, detail FROM meter_events "
                "WHERE meter_id IN (SELECT unnest($m)) AND CAST(ts AS DATE) BETWEEN $lo AND $hi ORDER BY ts",
                wp,
            )
    readings: list[dict[str, Any]] = []
    if meter_ids and has_table(engine, "readings"):
        ami = (
            "LEFT JOIN daily_usage d ON d.meter_id = r.meter_id AND d.day = r.read_on"
            if has_table(engine, "daily_usage")
            else ""
        )
        reg = "d.register" if ami else "NULL"
        readings = query_rows(
            engine,
            f"SELECT r.meter_id, r.period, r.read_on, r.reading, r.read_type, r.reader_id, {reg} AS ami_register, "
            f"r.reading - {reg} AS diff FROM readings r {ami} WHERE r.meter_id IN (SELECT unnest($m)) "
            "ORDER BY r.read_on DESC, r.meter_id",
            {"m": meter_ids},
        )
    bills = (
        query_rows(engine, "SELECT * FROM bills WHERE customer_id = $id ORDER BY period DESC, bill_id", p)
        if has_table(engine, "bills")
        else []
    )
    payments = (
        query_rows(engine, "SELECT * FROM payments WHERE customer_id = $id ORDER BY paid_at DESC, payment_id", p)
        if has_table(engine, "payments")
        else []
    )
    inspections = (
        query_rows(
            engine, "SELECT * FROM inspections WHERE customer_id = $id ORDER BY inspected_on DESC, inspection_id", p
        )
        if has_table(engine, "inspections")
        else []
    )
    entities = [("customer", customer_id), *(("meter", m) for m in meter_ids), *(("bill", b["bill_id"]) for b in bills)]
    found = scoped_findings(engine, None, entity_ids=[i for _, i in entities])
    keep = {(t, i) for t, i in entities}
    table_rows = [
        r
        for r in finding_rows(found, tasks_by_finding(session, found.column("finding_id").to_pylist()))
        if (r["entity_type"], r["entity_id"]) in keep
    ]
    return CustomerView(
        customer=profile,
        meters=meters,
        days=window,
        usage=usage,
        events=events,
        theft_window=theft_window(table_rows),
        readings=readings,
        bills=bills,
        payments=payments,
        inspections=inspections,
        findings=table_rows,
        tasks=_tasks(session, user, entities),
        risk=_risk(table_rows),
    )
