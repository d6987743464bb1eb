"""Monthly assessment (考核) per responsible staff member and per unit.

Scope: the tasks of the month's plans. For each staff member (the findings' ``responsible_staff_id``)
and each unit:

* tasks, and confirmed findings (latest result not ``normal``) by rule family;
* wrong reads per 1,000 reads: confirmed ``reading`` findings ÷ readings taken (by ``readings.reader_id``
  for staff, by the customers' unit for units) in the findings' periods × 1,000 — needs ``dataset``;
* on-time rectification rate: replies accepted by the deadline ÷ rectifications that are accepted or past
  their deadline on ``as_of`` (pending, not yet due ones are not counted);
* repeat findings: the same entity and rule had a task in a plan of the previous ``repeat_months`` months;
* kWh and ¥ recovered (results), back-billing and penalties booked, escalations.
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
    recovered_kwh: float = 0.0
    recovered_yuan: float = 0.0
    backbill_yuan: float = 0.0
    penalty_yuan: float = 0.0
    escalations: int = 0

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


def _month_shift(month: str, delta: int) -> str:
    y, m = map(int, month.split("-"))
    idx = y * 12 + (m - 1) + delta
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def read_counts(dataset_dir: str | Path, periods: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Readings per reader and per unit in ``periods`` from a dataset (empty when tables are missing)."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines.duckdb import DuckDBEngine

    ds = open_dataset(dataset_dir)
    if not ds.has("readings") or not periods:
        return {}, {}
    eng = DuckDBEngine(ds)
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

    from gridaudit.audit.access import visible_task_filter

    as_of = as_of or date.today()
    tasks = list(
        session.execute(
            select(Task)
            .join(Plan, Plan.plan_id == Task.plan_id)
            .where(Plan.month == month, visible_task_filter(session, user))
        ).scalars()
    )
    ids = [t.task_id for t in tasks]
    latest: dict[int, Result] = {}
    for r in session.execute(select(Result).where(Result.task_id.in_(ids)).order_by(Result.result_id)).scalars():
        latest[r.task_id] = r
    rects = {
        r.task_id: r for r in session.execute(select(Rectification).where(Rectification.task_id.in_(ids))).scalars()
    }
    money: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for p in session.execute(select(Penalty).where(Penalty.task_id.in_(ids))).scalars():
        money[p.task_id][0] += p.backbill_yuan
        money[p.task_id][1] += p.penalty_yuan
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
                money.get(t.task_id),
                escalated[t.task_id],
                (t.entity_type, t.entity_id, t.rule_id) in seen,
                as_of,
                settings,
            )
    if dataset_dir is not None:
        for (level, key), row in rows.items():
            row.reads = (reader_reads if level == "staff" else unit_reads).get(key, 0)
    return sorted(rows.values(), key=lambda r: (r.level != "staff", r.key))


def _add(
    row: AssessRow,
    t: Task,
    res: Result | None,
    rect: Rectification | None,
    money: list[float] | None,
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
        row.recovered_kwh += res.recovered_kwh
        row.recovered_yuan += res.recovered_yuan
    if rect is not None and (rect.status == "accepted" or rect.deadline < as_of):
        row.rect_counted += 1
        row.rect_on_time += 1 if rect.on_time else 0
    row.repeats += 1 if repeat else 0
    if money:
        row.backbill_yuan += money[0]
        row.penalty_yuan += money[1]
    row.escalations += escalations
