"""The dashboard of a month and unit: loss along the four axes, findings, tasks, money and hit rate.

Every number is a :class:`~gridaudit.views.common.Figure` carrying the link to the list behind it:
findings ``/findings?family=&severity=&unit=&period=``, tasks ``/tasks?state=&month=&unit=&all=1`` (and
``overdue=1``, ``escalated=1``, and ``checked=1`` behind the hit rate: counted by ``actions.list_tasks`` with
the same filters), loss entities ``/loss?level=&band=&period=&unit=``. Unit scope: the unit asked for (and
those under it) within what the user sees (:func:`gridaudit.views.common.check_unit_scope`); tasks through
``access.visible_task_filter``; money through ``assess.money_by_task`` (results and penalties in force).
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from gridaudit.audit.models import User
from gridaudit.engines import Engine
from gridaudit.findings import FAMILIES, SEVERITIES
from gridaudit.lineloss.run import LossResult
from gridaudit.lineloss.settings import BANDS, LEVELS
from gridaudit.views.common import Figure, check_month, check_unit_scope
from gridaudit.views.findings_read import findings_key, scoped_findings
from gridaudit.views.loss import loss_derived, window_months
from gridaudit.views.standings import Standings, month_standings

TREND_MONTHS = 6


@dataclass
class LossBlock:
    """Loss for the month: band counts per level, the band history and the unit loss-rate trend."""

    bands: dict[str, dict[str, Figure]]  # level → band → entities in that band
    history: list[dict[str, Any]]  # rows level, period, band, count (band counts per month)
    trend: list[dict[str, Any]]  # rows period, name (unit), loss_rate_pct, supply_kwh, loss_kwh
    worst: list[dict[str, Any]]  # the month's worst areas (highest computable loss rate)
    notes: list[str] = field(default_factory=list)


@dataclass
class Dashboard:
    """Everything the dashboard shows for ``month`` and ``unit`` (None: all the user sees)."""

    month: str
    unit: str | None
    units: list[str] | None  # the units covered (None: all)
    loss: LossBlock | None  # None when the dataset has no usage in the window
    findings: list[dict[str, Any]]  # rows family, severity, count (Figure), yuan (Figure)
    findings_total: Figure
    yuan_total: Figure
    tasks_by_state: dict[str, Figure]
    overdue: list[dict[str, Any]]  # task_id, entity_id, deadline, workdays_overdue, responsible_id
    overdue_count: Figure
    escalations: Figure
    money: dict[str, Figure]  # backbill_kwh, backbill_yuan, penalty_yuan, recovered_yuan
    hit_rate: Figure  # confirmed ÷ tasks with a result in force (None: no result yet)
    checked: int
    confirmed: int
    standings: Standings | None = None  # the month's booked indicator standings (views.standings)


def loss_block(
    engine: Engine, month: str, units: set[str] | None, unit: str | None, settings_file: str | Path | None
) -> LossBlock | None:
    """Band counts, band history and trend of the loss run over the ``TREND_MONTHS`` up to ``month``."""
    from gridaudit.lineloss.inputs import LossInputError

    try:
        first, last = window_months(engine, month, TREND_MONTHS)
        if first > last:
            return None
        name = ("dashboard", month, None if units is None else frozenset(units), unit)
        block: LossBlock = loss_derived(
            engine, first, last, settings_file, name, lambda result: _loss_block(result, month, units, unit)
        )
        return block
    except LossInputError:
        return None


def _loss_block(result: LossResult, month: str, units: set[str] | None, unit: str | None) -> LossBlock:
    monthly = [r for r in result.balance.monthly.to_pylist() if units is None or r["unit_id"] in units]
    bands: dict[str, dict[str, Figure]] = {}
    for level in LEVELS:
        counts = Counter(r["band"] for r in monthly if r["level"] == level and r["period"] == month)
        bands[level] = {
            b: Figure(counts.get(b, 0), "/loss", {"level": level, "band": b, "period": month, "unit": unit})
            for b in BANDS
        }
    history = [
        {"level": lv, "period": p, "band": b, "count": n}
        for (lv, p, b), n in sorted(Counter((r["level"], r["period"], r["band"]) for r in monthly).items())
    ]
    trend = [
        {
            "period": r["period"],
            "name": r["entity_id"],
            "loss_rate_pct": r["loss_rate_pct"],
            "supply_kwh": r["supply_kwh"],
            "loss_kwh": r["loss_kwh"],
        }
        for r in sorted(monthly, key=lambda r: (r["entity_id"], r["period"]))
        if r["level"] == "unit"
    ]
    worst = sorted(
        (
            r
            for r in monthly
            if r["level"] == "area" and r["period"] == month and r["band"] not in ("not_computable", "negative")
        ),
        key=lambda r: (-(r["loss_rate_pct"] or 0.0), r["entity_id"]),
    )[:10]
    return LossBlock(bands, history, trend, worst, list(result.notes))


_CELLS: OrderedDict[Any, tuple[int, dict[tuple[str, str], list[float]]]] = OrderedDict()
_CELLS_LOCK = threading.Lock()


def findings_cells(
    engine: Engine, units: set[str] | None, month: str
) -> tuple[int, dict[tuple[str, str], list[float]]]:
    """The month's findings in ``units``: how many, and (family, severity) → [count, ¥ at stake]; cached per
    findings runs, dataset version, month and units (a few dozen kept)."""
    key = (findings_key(engine), month, None if units is None else frozenset(units))
    with _CELLS_LOCK:
        hit = _CELLS.get(key)
        if hit is not None:
            _CELLS.move_to_end(key)
            return hit
    found = scoped_findings(engine, units, period=month)
    cells: dict[tuple[str, str], list[float]] = {}
    for f, s, y in zip(
        found.column("family").to_pylist(),
        found.column("severity").to_pylist(),
        found.column("yuan_at_stake").to_pylist(),
        strict=True,
    ):
        c = cells.setdefault((f, s), [0, 0.0])
        c[0] += 1
        c[1] += y or 0.0
    with _CELLS_LOCK:
        _CELLS[key] = (found.num_rows, cells)
        while len(_CELLS) > 64:
            _CELLS.popitem(last=False)
    return found.num_rows, cells


def dashboard(
    engine: Engine,
    session: Any,
    user: User | None,
    month: str,
    unit: str | None = None,
    *,
    today: date | None = None,
    loss_settings_file: str | Path | None = None,
) -> Dashboard:
    """The dashboard of ``month`` for ``unit`` (None: everything ``user`` sees)."""
    from gridaudit.audit import actions, workflow
    from gridaudit.audit.assess import money_by_task
    from gridaudit.audit.corrections import effective_results

    month = check_month(month, "月份 / month")
    units = check_unit_scope(session, user, unit)
    today = today or date.today()

    total, cells = findings_cells(engine, units, month)
    order = {f: i for i, f in enumerate(FAMILIES)} | {s: i for i, s in enumerate(SEVERITIES)}
    findings = []
    for (fam, sev), (n, yuan) in sorted(
        cells.items(), key=lambda kv: (order.get(kv[0][0], 99), order.get(kv[0][1], 99))
    ):
        params = {"family": fam, "severity": sev, "unit": unit, "period": month}
        findings.append(
            {
                "family": fam,
                "severity": sev,
                "count": Figure(int(n), "/findings", params),
                "yuan": Figure(round(yuan, 2), "/findings", params),
            }
        )
    all_params = {"unit": unit, "period": month}
    findings_total = Figure(total, "/findings", all_params)
    yuan_total = Figure(round(sum(c[1] for c in cells.values()), 2), "/findings", all_params)

    # every task count goes through actions.list_tasks with the filters of the link it carries
    tasks = actions.list_tasks(session, month=month, user=user, unit=unit)
    states = Counter(t.state for t in tasks)
    tasks_by_state = {
        s: Figure(states.get(s, 0), "/tasks", {"state": s, "month": month, "unit": unit, "all": "1"})
        for s in workflow.STATES
    }
    ids = {t.task_id for t in tasks}
    late_ids = {t.task_id for t in actions.list_tasks(session, user=user, unit=unit, overdue_on=today)}
    late = [(t, r, d) for t, r, d in actions.overdue(session, today, user) if t.task_id in late_ids]
    overdue = [
        {
            "task_id": t.task_id,
            "entity_type": t.entity_type,
            "entity_id": t.entity_id,
            "deadline": r.deadline,
            "workdays_overdue": d,
            "responsible_id": r.responsible_id,
            "escalated_on": r.escalated_on,
        }
        for t, r, d in late
    ]
    esc_count = len(actions.list_tasks(session, month=month, user=user, unit=unit, escalated=True))
    results = effective_results(session, sorted(ids))
    money = money_by_task(session, tasks, results).values()
    task_link = {"month": month, "unit": unit, "all": "1"}
    money_figs = {
        "backbill_kwh": Figure(round(sum(m.backbill_kwh for m in money), 3), "/tasks", task_link),
        "backbill_yuan": Figure(round(sum(m.backbill_yuan for m in money), 2), "/tasks", task_link),
        "penalty_yuan": Figure(round(sum(m.penalty_yuan for m in money), 2), "/tasks", task_link),
        "recovered_yuan": Figure(round(sum(m.recovered_yuan for m in money), 2), "/tasks", task_link),
    }
    checked = len(results)
    confirmed = sum(1 for r in results.values() if r.outcome != "normal")
    hit = Figure(round(confirmed / checked, 4) if checked else None, "/tasks", {**task_link, "checked": "1"})
    return Dashboard(
        month=month,
        unit=unit,
        units=None if units is None else sorted(units),
        loss=loss_block(engine, month, units, unit, loss_settings_file),
        findings=findings,
        findings_total=findings_total,
        yuan_total=yuan_total,
        tasks_by_state=tasks_by_state,
        overdue=overdue,
        overdue_count=Figure(len(overdue), "/tasks", {"state": "rectifying", "overdue": "1", "unit": unit, "all": "1"}),
        escalations=Figure(esc_count, "/tasks", {"month": month, "unit": unit, "escalated": "1", "all": "1"}),
        money=money_figs,
        hit_rate=hit,
        checked=checked,
        confirmed=confirmed,
        standings=month_standings(engine, session, month, units),
    )
