"""The derived inputs indicators may read besides the dataset's tables, each built once per run.

* ``lineloss_monthly``: the line-loss balance of the month (``gridaudit.lineloss.balance.run_balance``,
  all levels, the monthly rows) — the analyzer's output, not a second computation of it;
* ``audit_tasks_month``: the case store's tasks whose finding is of the month (the last month of the task's
  period), one row each, with the result, rectification and money in force (``audit.assess`` and
  ``audit.corrections`` decide what is in force, as for every other report);
* ``work_order_step_days``: the working days each time-limited connection step took — the rule catalog's own
  derived table (``rules/catalog/_derived/work_order_step_days.sql``, official calendar with 调休), built by
  the rules runner's ``materialise_derived``, so the indicator and the step-overdue rules count days one way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from gridaudit.audit.assess import AssessSettings, money_by_task
from gridaudit.dataset import Dataset
from gridaudit.i18n import Text

TASK_COLUMNS = (
    "task_id", "unit_id", "staff_id", "family", "rule_id", "entity_type", "entity_id", "has_result", "confirmed",
    "rect_counted", "rect_on_time", "recurrence", "backbill_yuan", "penalty_yuan", "recovered_yuan", "escalations",
)  # fmt: skip
TASK_TYPES = {
    "task_id": pa.int64(),
    "backbill_yuan": pa.float64(),
    "penalty_yuan": pa.float64(),
    "recovered_yuan": pa.float64(),
    **{c: pa.int64() for c in ("has_result", "confirmed", "rect_counted", "rect_on_time", "recurrence", "escalations")},
}


@dataclass(frozen=True)
class Unavailable:
    """Why an input could not be built (every indicator reading it is then not computable)."""

    reason: Text


def work_order_step_days(engine: Any, dataset: Dataset) -> Unavailable | None:
    """Build the catalog's ``work_order_step_days`` on ``engine`` (None), or say why it cannot be built."""
    from gridaudit.rules.loader import builtin_catalog, derived_tables
    from gridaudit.rules.runner import materialise_derived

    derived = derived_tables([builtin_catalog()])["work_order_step_days"]
    missing = [t for t in derived.header.tables if not dataset.has(t)]
    if missing:
        names = ", ".join(missing)
        return Unavailable(Text(f"数据集缺少表 {names}", f"the dataset lacks table(s) {names}"))
    error = materialise_derived(engine, [derived])[derived.id]
    return Unavailable(Text(error, error)) if error else None


def month_bounds(month: str) -> tuple[date, date]:
    """First day of ``month`` and first day of the month after."""
    first = date(int(month[:4]), int(month[5:7]), 1)
    return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_shift(month: str, delta: int) -> str:
    """``month`` moved by ``delta`` months."""
    y, m = map(int, month.split("-"))
    idx = y * 12 + (m - 1) + delta
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def lineloss_monthly(dataset: Dataset, month: str) -> pa.Table | Unavailable:
    """The monthly line-loss balance rows of ``month`` (every level), or why there are none."""
    from gridaudit.lineloss.balance import Window, run_balance
    from gridaudit.lineloss.inputs import LossInputError, open_inputs
    from gridaudit.lineloss.settings import LossSettings

    try:
        inputs = open_inputs(dataset)
    except LossInputError as exc:
        return Unavailable(Text(f"线损输入不全：{exc}", f"line-loss inputs incomplete: {exc}"))
    try:
        start, nxt = month_bounds(month)
        table = run_balance(inputs.engine, Window(start, nxt - timedelta(days=1)), LossSettings()).monthly
    finally:
        inputs.close()
    return table.filter(pc.equal(table.column("period"), month))


def _finding_month_filter(month: str) -> Any:
    from sqlalchemy import or_

    from gridaudit.audit.models import Task

    return or_(Task.period == month, Task.period.like(f"%..{month}"))


DEFAULT_SETTINGS = AssessSettings()


def audit_tasks_month(session: Any, month: str, as_of: date, settings: AssessSettings = DEFAULT_SETTINGS) -> pa.Table:
    """One row per case-store task whose finding is of ``month`` (``TASK_COLUMNS``)."""
    from sqlalchemy import or_, select

    from gridaudit.audit.corrections import effective_results
    from gridaudit.audit.models import Escalation, Rectification, Task
    from gridaudit.audit.plans import last_month

    tasks = list(session.execute(select(Task).where(_finding_month_filter(month)).order_by(Task.task_id)).scalars())
    ids = [t.task_id for t in tasks]
    results = effective_results(session, ids)
    money = money_by_task(session, tasks, results)
    rects = {
        r.task_id: r for r in session.execute(select(Rectification).where(Rectification.task_id.in_(ids))).scalars()
    }
    escalated: dict[int, int] = {}
    for e in session.execute(select(Escalation.task_id).where(Escalation.task_id.in_(ids))).scalars():
        escalated[e] = escalated.get(e, 0) + 1
    earlier = {month_shift(month, -k) for k in range(1, settings.repeat_months + 1)}
    rectified: set[tuple[str, str, str]] = set()
    q = (
        select(Task.entity_type, Task.entity_id, Task.rule_id, Task.period)
        .join(Rectification, Rectification.task_id == Task.task_id)
        .where(or_(*[_finding_month_filter(m) for m in sorted(earlier)]))
    )
    for etype, eid, rule, period in session.execute(q):
        if last_month(period) in earlier:
            rectified.add((etype, eid, rule))
    rows: dict[str, list] = {c: [] for c in TASK_COLUMNS}
    for t in tasks:
        res, rect, m = results.get(t.task_id), rects.get(t.task_id), money[t.task_id]
        counted = rect is not None and (rect.status == "accepted" or rect.deadline < as_of)
        values = (
            t.task_id, t.unit_id, t.responsible_staff_id, t.family, t.rule_id, t.entity_type, t.entity_id,
            int(res is not None), int(res is not None and res.outcome != "normal"), int(counted),
            int(counted and rect is not None and bool(rect.on_time)),
            int((t.entity_type, t.entity_id, t.rule_id) in rectified),
            m.backbill_yuan, m.penalty_yuan, m.recovered_yuan, escalated.get(t.task_id, 0),
        )  # fmt: skip
        for c, v in zip(TASK_COLUMNS, values, strict=True):
            rows[c].append(v)
    return pa.table({c: pa.array(rows[c], TASK_TYPES.get(c, pa.string())) for c in TASK_COLUMNS})
