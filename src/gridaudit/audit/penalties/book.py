"""Book a penalty calculation against a task (who, when, what goes to the audit trail)."""

from __future__ import annotations

from datetime import date
from typing import Any

from gridaudit.audit import access, trail, workflow
from gridaudit.audit.actions import get_task, latest_result
from gridaudit.audit.errors import AuditError
from gridaudit.audit.models import Penalty
from gridaudit.audit.penalties import PenaltyResult
from gridaudit.audit.users import get_user


def same_booking(p: Penalty, result: PenaltyResult, violation_date: date) -> bool:
    """Whether a booked penalty is the same booking again: same kind, violation date and quantities."""
    return p.kind == result.kind and p.violation_date == violation_date and p.inputs == trail.canonical(result.inputs)


def check_penalty_state(session: Any, task: Any, corrects: int | None = None) -> None:
    """Refuse booking on a task without a result in force, or closed/cancelled (unless correcting a booking)."""
    if (task.state in ("closed", "cancelled") and corrects is None) or latest_result(session, task) is None:
        raise AuditError(
            f"任务 {task.task_id}（{workflow.state_label(task.state)}）不能登记违约金：需有核查结果且未关闭",
            f"task {task.task_id} ({task.state}) cannot take a penalty: it needs a result and must be open",
        )


def book_penalty(
    session: Any,
    actor_id: str,
    task_id: int,
    result: PenaltyResult,
    violation_date: date,
    *,
    duplicate_reason: str | None = None,
    corrects: int | None = None,
    reason: str | None = None,
) -> Penalty:
    """Record ``result`` for a task that has a result and is still open.

    The same booking twice (same task, kind, violation date and quantities) is refused unless
    ``duplicate_reason`` says why it is intended. ``corrects`` names a penalty this one replaces: that
    one is voided (with ``reason``, by a user other than its booker) in the same transaction."""
    from gridaudit.audit.corrections import effective_penalties, void_penalty

    actor, task = get_user(session, actor_id), get_task(session, task_id)
    access.can(session, actor, "penalty", task)  # role, unit scope, viewer, segregation of duties
    if corrects is not None:
        old = session.get(Penalty, corrects)
        if old is None or old.task_id != task_id:
            raise AuditError(
                f"任务 {task_id} 没有违约金登记 {corrects}", f"task {task_id} has no penalty booking {corrects}"
            )
        void_penalty(session, actor.user_id, corrects, reason or "")
    same = [
        p for p in effective_penalties(session, [task_id]).get(task_id, []) if same_booking(p, result, violation_date)
    ]
    if same and not (duplicate_reason and duplicate_reason.strip()):
        raise AuditError(
            f"任务 {task_id} 已登记过相同的违约金（编号 {same[0].penalty_id}：{result.kind}，{violation_date}，"
            "相同数量）；如确属另一次，请用 --duplicate-reason 说明理由",
            f"task {task_id} already has this penalty booked (id {same[0].penalty_id}: {result.kind}, "
            f"{violation_date}, same quantities); if it is intended, say why with --duplicate-reason",
        )
    check_penalty_state(session, task, corrects)
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
        corrects_id=corrects,
        duplicate_reason=duplicate_reason.strip() if same and duplicate_reason else None,
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
            "corrects": corrects,
            "duplicate_reason": p.duplicate_reason,
        },
    )
    return p
