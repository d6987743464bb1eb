"""Monthly assessment (考核) per responsible staff member and per unit.

Scope: the tasks of the month's plans. For each staff member (the findings' ``responsible_staff_id``)
and each unit:

* tasks, and confirmed findings (latest result not ``normal``) by rule family;
* wrong reads per 1,000 reads: confirmed ``reading`` findings ÷ readings taken (by ``readings.reader_id``
  for staff, by the customers' unit for units) in the findings' periods × 1,000 — needs ``dataset``;
* on-time rectification rate: replies accepted by the deadline ÷ rectifications that are accepted or past
  their deadline on ``as_of`` (pending, not yet due ones are not counted);
* repeat findings: the same entity and rule had a task in a plan of the previous ``repeat_months`` months;
* money, each yuan counted once per task (``task_money``): back-billing (追补电费) is the sum of the task's
  penalty bookings in force when it has any, else the back-billing its result in force established;
  the penalty charge (违约使用电费) is the sum of its penalty bookings in force; recovered = both;
* escalations;
* tip rewards (举报奖励): the approved rewards of the tasks made from tip-offs (``gridaudit.tips.rewards``).

A task counts once in its unit's row and once in its responsible staff member's row; the month's totals
(``month_totals``) count each task once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from gridaudit.audit.models import Escalation, Penalty, Plan, Rectification, Result, Task


@dataclass(frozen=True)
class AssessSettings:
    """Assessment parameters (DOMAIN: thresholds are settings)."""

    repeat_months: int = 3
    reads_per: int = 1000
    error_families: tuple[str, ...] = ("reading",)


@dataclass
class AssessRow:
    """The assessment of one staff member or unit for a month."""

    level: str  # staff / unit
    key: str
    tasks: int = 0
    confirmed: int = 0
    by_family: dict[str, int] = field(default_factory=dict)
    reads: int | None = None
    wrong_reads: int = 0
    rect_counted: int = 0
    rect_on_time: int = 0
    repeats: int = 0
    backbill_kwh: float = 0.0
    backbill_yuan: float = 0.0
    penalty_yuan: float = 0.0
    escalations: int = 0
    rewards_yuan: float = 0.0

    @property
    def recovered_yuan(self) -> float:
        """Back-billing plus penalty charge (追补电费 + 违约使用电费), each yuan once."""
        return round(self.backbill_yuan + self.penalty_yuan, 2)

    @property
    def error_rate(self) -> float | None:
        """Wrong reads per 1,000 reads (None without reading counts)."""
        if not self.reads:
            return None
        return round(self.wrong_reads * 1000 / self.reads, 3)

    @property
    def on_time_rate(self) -> float | None:
        """Share of due rectifications accepted on time (None when none is due)."""
        return round(self.rect_on_time / self.rect_counted, 4) if self.rect_counted else None


@dataclass(frozen=True)
class TaskMoney:
    """The money of one task, each yuan once (see the module docstring)."""

    backbill_kwh: float
    backbill_yuan: float
    penalty_yuan: float
    source: str  # penalties / result / none

    @property
    def recovered_yuan(self) -> float:
        """Back-billing plus penalty charge."""
        return round(self.backbill_yuan + self.penalty_yuan, 2)


def task_money(result: Result | None, penalties: list[Penalty]) -> TaskMoney:
    """Back-billing and penalty charge of a task from its result and penalty bookings in force."""
    if penalties:
        return TaskMoney(
            round(sum(p.backbill_kwh for p in penalties), 3),
            round(sum(p.backbill_yuan for p in penalties), 2),
            round(sum(p.penalty_yuan for p in penalties), 2),
            "penalties",
        )
    if result is not None and result.outcome != "normal":
        return TaskMoney(result.recovered_kwh or 0.0, result.recovered_yuan or 0.0, 0.0, "result")
    return TaskMoney(0.0, 0.0, 0.0, "none")


def month_tasks(session: Any, month: str, user: Any = None) -> list[Task]:
    """The tasks of the month's plans (with ``user``: those that user sees, ``access.visible_task_filter``)."""
    from sqlalchemy import select

    from gridaudit.audit.access import visible_task_filter

    q = (
        select(Task)
        .join(Plan, Plan.plan_id == Task.plan_id)
        .where(Plan.month == month, visible_task_filter(session, user))
    )
    return list(session.execute(q.order_by(Task.task_id)).scalars())


def money_by_task(session: Any, tasks: list[Task], results: dict[int, Result] | None = None) -> dict[int, TaskMoney]:
    """task_id → its money, from the results and penalties in force (``results``: the tasks' results in
    force when the caller has read them already, ``corrections.effective_results``)."""
    from gridaudit.audit.corrections import effective_penalties, effective_results

    ids = [t.task_id for t in tasks]
    results = effective_results(session, ids) if results is None else results
    penalties = effective_penalties(session, ids)
    return {i: task_money(results.get(i), penalties.get(i, [])) for i in ids}


def month_totals(session: Any, month: str) -> dict[str, float]:
    """The month's money and counts, each task once: what the assessment rows must add up to per unit."""
    from gridaudit.tips.models import approved_rewards_by_task

    tasks = month_tasks(session, month)
    money = money_by_task(session, tasks).values()
    rewards = approved_rewards_by_task(session, [t.task_id for t in tasks])
    return {
        "tasks": len(tasks),
        "backbill_kwh": round(sum(m.backbill_kwh for m in money), 3),
        "backbill_yuan": round(sum(m.backbill_yuan for m in money), 2),
        "penalty_yuan": round(sum(m.penalty_yuan for m in money), 2),
        "recovered_yuan": round(sum(m.recovered_yuan for m in money), 2),
        "rewards_yuan": round(sum(rewards.values()), 2),
    }


def _month_shift(month: str, delta: int) -> str:
    y, m = map(int, month.split("-"))
    idx = y * 12 + (m - 1) + delta
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def read_counts(dataset_dir: str | Path, periods: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Readings per reader and per unit in ``periods`` from a dataset (empty when tables are missing)."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines import open_engine

    ds = open_dataset(dataset_dir)
    if not ds.has("readings") or not periods:
        return {}, {}
    eng = open_engine(ds)
    try:
        params = {"p": periods}
        by_reader = eng.query(
            "select cast(reader_id as varchar) k, count(*) n from readings "
            "where period in (select unnest($p)) and reader_id is not null group by 1",
            params,
        )
        by_unit = {}
        if ds.has("meters") and ds.has("customers"):
            by_unit = _kv(
                eng.query(
                    "select cast(c.unit_id as varchar) k, count(*) n from readings r "
                    "join meters m on m.meter_id = r.meter_id "
                    "join customers c on c.customer_id = m.customer_id "
                    "where r.period in (select unnest($p)) group by 1",
                    params,
                )
            )
        return _kv(by_reader), by_unit
    finally:
        eng.close()


def _kv(table: Any) -> dict[str, int]:
    return dict(zip(table.column("k").to_pylist(), table.column("n").to_pylist(), strict=True))


def assess(
    session: Any,
    month: str,
    dataset_dir: str | Path | None = None,
    as_of: date | None = None,
    settings: AssessSettings = AssessSettings(),
    user: Any = None,
) -> list[AssessRow]:
    """Assessment rows for ``month``: staff first, then units, each sorted by key; with ``user``, over the
    tasks that user sees only (``access.visible_task_filter``)."""
    from sqlalchemy import select

    from gridaudit.audit.corrections import effective_results

    as_of = as_of or date.today()
    tasks = month_tasks(session, month, user)
    ids = [t.task_id for t in tasks]
    latest = effective_results(session, ids)
    rects = {
        r.task_id: r for r in session.execute(select(Rectification).where(Rectification.task_id.in_(ids))).scalars()
    }
    money = money_by_task(session, tasks, latest)
    from gridaudit.tips.models import approved_rewards_by_task

    rewards = approved_rewards_by_task(session, ids)
    escalated: dict[int, int] = defaultdict(int)
    for e in session.execute(select(Escalation.task_id).where(Escalation.task_id.in_(ids))).scalars():
        escalated[e] += 1
    earlier = {_month_shift(month, -k) for k in range(1, settings.repeat_months + 1)}
    seen = {
        (e, i, r)
        for e, i, r in session.execute(
            select(Task.entity_type, Task.entity_id, Task.rule_id)
            .join(Plan, Plan.plan_id == Task.plan_id)
            .where(Plan.month.in_(earlier))
        )
    }
    reader_reads: dict[str, int] = {}
    unit_reads: dict[str, int] = {}
    if dataset_dir is not None:
        from gridaudit.audit.plans import months_in

        periods = sorted({m for t in tasks if t.family in settings.error_families for m in months_in(t.period)})
        reader_reads, unit_reads = read_counts(dataset_dir, periods)
    rows: dict[tuple[str, str], AssessRow] = {}
    for t in tasks:
        keys = [("staff", t.responsible_staff_id)] if t.responsible_staff_id else []
        keys.append(("unit", t.unit_id or "-"))
        for level, key in keys:
            row = rows.setdefault((level, key), AssessRow(level, key))
            _add(
                row,
                t,
                latest.get(t.task_id),
                rects.get(t.task_id),
                money[t.task_id],
                escalated[t.task_id],
                (t.entity_type, t.entity_id, t.rule_id) in seen,
                as_of,
                settings,
            )
            row.rewards_yuan = round(row.rewards_yuan + rewards.get(t.task_id, 0.0), 2)
    if dataset_dir is not None:
        for (level, key), row in rows.items():
            row.reads = (reader_reads if level == "staff" else unit_reads).get(key, 0)
    return sorted(rows.values(), key=lambda r: (r.level != "staff", r.key))


def _add(
    row: AssessRow,
    t: Task,
    res: Result | None,
    rect: Rectification | None,
    money: TaskMoney,
    escalations: int,
    repeat: bool,
    as_of: date,
    settings: AssessSettings,
) -> None:
    row.tasks += 1
    if res is not None and res.outcome != "normal":
        row.confirmed += 1
        row.by_family[t.family] = row.by_family.get(t.family, 0) + 1
        if t.family in settings.error_families:
            row.wrong_reads += 1
    if rect is not None and (rect.status == "accepted" or rect.deadline < as_of):
        row.rect_counted += 1
        row.rect_on_time += 1 if rect.on_time else 0
    row.repeats += 1 if repeat else 0
    row.backbill_kwh = round(row.backbill_kwh + money.backbill_kwh, 3)
    row.backbill_yuan = round(row.backbill_yuan + money.backbill_yuan, 2)
    row.penalty_yuan = round(row.penalty_yuan + money.penalty_yuan, 2)
    row.escalations += escalations


BOOKERS = ("audit_lead", "manager")


def book_assessment(
    session: Any, actor_id: str, month: str, dataset_dir: str | Path | None = None, as_of: date | None = None
) -> Any:
    """Book (publish) the month's assessment: its rows and totals frozen in ``audit_assessments``.

    A later booking of the same month supersedes the earlier one, which stays in the store and the trail."""
    from sqlalchemy import select

    from gridaudit.audit import trail
    from gridaudit.audit.errors import AuditError, Forbidden
    from gridaudit.audit.models import AssessmentBooking
    from gridaudit.audit.users import get_user

    actor = get_user(session, actor_id)
    if actor.role not in BOOKERS:
        raise Forbidden(
            f"只有稽查组长或主管领导可以发布考核结果（{actor.user_id} 是 {actor.role}）",
            f"only an audit lead or a manager may book an assessment ({actor.user_id} is {actor.role})",
        )
    as_of = as_of or date.today()
    rows = assess(session, month, dataset_dir, as_of)
    if not rows:
        raise AuditError(f"{month} 没有稽查任务，无可发布的考核", f"{month} has no audit tasks: nothing to book")
    previous = session.execute(
        select(AssessmentBooking.booking_id)
        .where(AssessmentBooking.month == month)
        .order_by(AssessmentBooking.booking_id.desc())
        .limit(1)
    ).scalar_one_or_none()
    totals = month_totals(session, month)
    booking = AssessmentBooking(
        month=month,
        as_of=as_of,
        rows=trail.canonical([assessment_record(r) for r in rows]),
        totals=trail.canonical(totals),
        booked_by=actor.user_id,
        booked_at=trail.now_utc(),
        supersedes_id=previous,
    )
    session.add(booking)
    session.flush()
    trail.append(
        session,
        actor.user_id,
        "assess_book",
        "assessment",
        booking.booking_id,
        {"month": month, "as_of": as_of.isoformat(), "rows": len(rows), "totals": totals, "supersedes": previous},
    )
    return booking


def assessment_record(row: AssessRow) -> dict:
    """One assessment row as plain data (JSON output, booked assessments)."""
    return {
        **row.__dict__,
        "error_rate": row.error_rate,
        "on_time_rate": row.on_time_rate,
        "recovered_yuan": row.recovered_yuan,
    }
