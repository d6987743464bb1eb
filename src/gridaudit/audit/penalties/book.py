"""Book a penalty calculation against a task (who, when, what goes to the audit trail)."""

from __future__ import annotations

from datetime import date
from typing import Any

from gridaudit.audit import access, trail, workflow
from gridaudit.audit.actions import get_task, latest_result
from gridaudit.audit.errors import AuditError, Forbidden
from gridaudit.audit.models import Penalty
from gridaudit.audit.penalties import PenaltyResult
from gridaudit.audit.users import get_user

BOOKERS = ("inspector", "auditor", "audit_lead")


def book_penalty(session: Any, actor_id: str, task_id: int, result: PenaltyResult, violation_date: date) -> Penalty:
    """Record ``result`` for a task that has a result and is still open."""
    actor, task = get_user(session, actor_id), get_task(session, task_id)
    if actor.role not in BOOKERS:
        raise Forbidden(
            f"{actor.user_id}（{actor.role}）无权登记违约金", f"{actor.user_id} ({actor.role}) may not book penalties"
        )
    access.can(session, actor, "penalty", task)  # unit scope, viewer, segregation of duties
    if task.state in ("closed", "cancelled") or latest_result(session, task) is None:
        raise AuditError(
            f"任务 {task_id}（{workflow.state_label(task.state)}）不能登记违约金：需有核查结果且未关闭",
            f"task {task_id} ({task.state}) cannot take a penalty: it needs a result and must be open",
        )
    now = trail.now_utc()
    p = Penalty(
        task_id=task.task_id,
        kind=result.kind,
        schedule=result.schedule,
        violation_date=violation_date,
        inputs=trail.canonical(result.inputs),
        backbill_kwh=result.backbill_kwh,
        backbill_yuan=result.backbill_yuan,
        penalty_yuan=result.penalty_yuan,
        formula=f"{result.formula_zh}\n{result.formula_en}",
        booked_by=actor.user_id,
        booked_at=now,
    )
    session.add(p)
    task.updated_at = now  # versioned: a concurrent change to the task conflicts
    session.flush()
    trail.append(
        session,
        actor.user_id,
        "penalty",
        "task",
        task.task_id,
        {
            "kind": result.kind,
            "schedule": result.schedule,
            "violation_date": violation_date.isoformat(),
            "backbill_kwh": result.backbill_kwh,
            "backbill_yuan": result.backbill_yuan,
            "penalty_yuan": result.penalty_yuan,
            "inputs": result.inputs,
        },
    )
    return p
