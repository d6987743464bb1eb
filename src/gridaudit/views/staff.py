"""The staff page: findings where the person is responsible, error rates per reading volume and the
rectification record.

Error rates are the monthly assessment's (:func:`gridaudit.audit.assess.assess`: confirmed ``reading``
findings ÷ readings taken by the person × 1,000, on-time rectification rate), one row per month of plans in
the ``months`` up to the month shown. The rectification record lists the rectifications of tasks whose
finding names the person as responsible, and those ordered from the person's own user account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gridaudit.audit.models import Plan, Rectification, Task, User
from gridaudit.engines import Engine
from gridaudit.views.common import (
    check_entity_scope,
    check_id,
    check_month,
    dataset_of,
    has_table,
    not_found,
    query_rows,
    shift_month,
)
from gridaudit.views.findings_read import finding_rows, scoped_findings

WHAT = ("人员", "staff member")
MONTHS = 6


@dataclass
class StaffView:
    """Everything the staff page shows."""

    staff: dict[str, Any]
    findings: list[dict[str, Any]]
    assessment: list[dict[str, Any]]  # month, tasks, confirmed, reads, wrong_reads, error_rate, on_time_rate…
    rectifications: list[dict[str, Any]]
    users: list[str]  # the case-store users linked to this staff member


def _months(session: Any, month: str | None, months: int) -> list[str]:
    from sqlalchemy import func, select

    last = month or session.execute(select(func.max(Plan.month))).scalar()
    if last is None:
        return []
    return [shift_month(last, -k) for k in range(months - 1, -1, -1)]


def staff(
    engine: Engine, session: Any, user: User | None, staff_id: str, month: str | None = None, months: int = MONTHS
) -> StaffView:
    """The page of staff member ``staff_id`` (assessment of the ``months`` months up to ``month``, default the
    newest plan month)."""
    from sqlalchemy import or_, select

    from gridaudit.audit.access import visible_task_filter
    from gridaudit.audit.assess import assess, assessment_record
    from gridaudit.findings.status import tasks_by_finding

    staff_id = check_id(staff_id, WHAT)
    if month is not None:
        month = check_month(month, "月份 / month")
    if not has_table(engine, "staff"):
        raise not_found(WHAT, staff_id)
    join = "LEFT JOIN units u ON u.unit_id = s.unit_id" if has_table(engine, "units") else ""
    name = "u.name AS unit_name" if join else "NULL AS unit_name"
    found = query_rows(engine, f"SELECT s.*, {name} FROM staff s {join} WHERE s.staff_id = $id", {"id": staff_id})
    if not found:
        raise not_found(WHAT, staff_id)
    row = found[0]
    check_entity_scope(session, user, row.get("unit_id"), "staff", staff_id, WHAT)
    table = scoped_findings(engine, None, staff=[staff_id])
    findings = finding_rows(table, tasks_by_finding(session, table.column("finding_id").to_pylist()))

    assessment = []
    for m in _months(session, month, months):
        for r in assess(session, m, dataset_of(engine).root, user=user):
            if r.level == "staff" and r.key == staff_id:
                assessment.append({"month": m, **assessment_record(r)})
    users = list(
        session.execute(select(User.user_id).where(User.staff_id == staff_id).order_by(User.user_id)).scalars()
    )
    q = (
        select(Task, Rectification)
        .join(Rectification, Rectification.task_id == Task.task_id)
        .where(
            or_(Task.responsible_staff_id == staff_id, Rectification.responsible_id.in_(users)),
            visible_task_filter(session, user),
        )
        .order_by(Rectification.deadline.desc(), Task.task_id)
    )
    rects = [
        {
            "task_id": t.task_id,
            "entity_type": t.entity_type,
            "entity_id": t.entity_id,
            "rule_id": t.rule_id,
            "state": t.state,
            "responsible_id": r.responsible_id,
            "ordered_on": r.ordered_on,
            "deadline": r.deadline,
            "status": r.status,
            "rounds": r.rounds,
            "replied_on": r.replied_on,
            "accepted_on": r.accepted_on,
            "on_time": r.on_time,
            "escalated_on": r.escalated_on,
        }
        for t, r in session.execute(q)
    ]
    return StaffView(staff=row, findings=findings, assessment=assessment, rectifications=rects, users=users)
