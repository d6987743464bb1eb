"""Corrections are new rows, never edits: void or correct a result or a penalty.

A void (作废) adds an ``audit_voids`` row naming the voided result or penalty and the reason; the
voided row stays in the store, in the trail and in exports, and no longer counts. A correction voids
the original and adds the corrected row with ``corrects_id`` pointing at it, in one transaction.
Both are done by a user other than the one who recorded or booked the original (four eyes), and
never by the staff member responsible for the finding.

``effective_results`` / ``effective_penalties`` are the one place that decides what counts.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, overload

from gridaudit.audit import trail, workflow
from gridaudit.audit.errors import AuditError, Forbidden, NotFound
from gridaudit.audit.models import Penalty, Result, Task, Void
from gridaudit.audit.users import get_user

TARGETS = {"result": ("核查结果", "result"), "penalty": ("违约金登记", "penalty")}


def voided_ids(session: Any, target: str, task_ids: list[int] | None = None) -> set[int]:
    """Ids of the voided results or penalties (of the given tasks, or all)."""
    from sqlalchemy import select

    q = select(Void.target_id).where(Void.target == target)
    if task_ids is not None:
        q = q.where(Void.task_id.in_(task_ids))
    return set(session.execute(q).scalars())


def _in_force(session: Any, target: str, model: Any, task_ids: list[int]) -> dict[int, list[Any]]:
    """task_id → its rows of ``model`` (results or penalties) that are not voided, oldest first."""
    from sqlalchemy import select

    void = voided_ids(session, target, task_ids)
    key = model.__mapper__.primary_key[0]
    out: dict[int, list[Any]] = {}
    for row in session.execute(select(model).where(model.task_id.in_(task_ids)).order_by(key)).scalars():
        if getattr(row, key.name) not in void:
            out.setdefault(row.task_id, []).append(row)
    return out


def results_in_force(session: Any, task_ids: list[int]) -> dict[int, list[Result]]:
    """task_id → its results that are not voided, oldest first."""
    return _in_force(session, "result", Result, task_ids)


def effective_results(session: Any, task_ids: list[int]) -> dict[int, Result]:
    """task_id → its newest result that is not voided (the one that counts)."""
    return {t: rs[-1] for t, rs in results_in_force(session, task_ids).items()}


def effective_penalties(session: Any, task_ids: list[int]) -> dict[int, list[Penalty]]:
    """task_id → its penalties that are not voided, oldest first."""
    return _in_force(session, "penalty", Penalty, task_ids)


@overload
def _row(session: Any, target: Literal["result"], row_id: int) -> Result: ...
@overload
def _row(session: Any, target: Literal["penalty"], row_id: int) -> Penalty: ...
def _row(session: Any, target: str, row_id: int) -> Result | Penalty:
    model = Result if target == "result" else Penalty
    row = session.get(model, row_id)
    if row is None:
        zh, en = TARGETS[target]
        raise NotFound(f"未知{zh} {row_id}", f"unknown {en} {row_id}")
    if row_id in voided_ids(session, target, [row.task_id]):
        zh, en = TARGETS[target]
        raise AuditError(f"{zh} {row_id} 已作废", f"{en} {row_id} is already void")
    return row


def _check_four_eyes(actor: Any, task: Task, target: str, original_by: str, roles: tuple[str, ...]) -> None:
    zh, en = TARGETS[target]
    if actor.role not in roles:
        raise Forbidden(
            f"{actor.user_id}（{actor.role}）无权作废或更正{zh}（允许: {', '.join(roles)}）",
            f"{actor.user_id} ({actor.role}) may not void or correct a {en} (allowed: {', '.join(roles)})",
        )
    if actor.user_id == original_by:
        raise Forbidden(
            f"{zh}由 {original_by} 录入，作废或更正须由另一人办理（职责分离）",
            f"the {en} was recorded by {original_by}; another user must void or correct it (segregation of duties)",
        )
    workflow.check_segregation("result", actor, task, None)


def _void(session: Any, actor_id: str, target: str, row: Result | Penalty, reason: str) -> Void:
    if not reason or not reason.strip():
        raise AuditError("作废或更正必须说明理由（--reason）", "a void or correction needs a reason (--reason)")
    v = Void(
        target=target,
        target_id=row.result_id if isinstance(row, Result) else row.penalty_id,
        task_id=row.task_id,
        reason=reason.strip(),
        voided_by=actor_id,
        voided_at=trail.now_utc(),
    )
    session.add(v)
    session.flush()
    return v


VOIDERS = ("auditor", "audit_lead")


def void_result(session: Any, actor_id: str, result_id: int, reason: str) -> Void:
    """Void a result. The task goes back to ``assigned`` when it was ``checked`` and no result is left;
    a task further on (rectification ordered) needs a correction instead."""
    from gridaudit.audit.actions import get_task

    actor = get_user(session, actor_id)
    res = _row(session, "result", result_id)
    task = get_task(session, res.task_id)
    _check_four_eyes(actor, task, "result", res.recorded_by, VOIDERS)
    left = [r for r in results_in_force(session, [task.task_id]).get(task.task_id, []) if r.result_id != result_id]
    if not left and task.state != "checked":
        raise AuditError(
            f"任务 {task.task_id}（{workflow.state_label(task.state)}）只有这一条核查结果，不能作废；请更正",
            f"task {task.task_id} ({task.state}) has no other result; correct this one instead of voiding it",
        )
    v = _void(session, actor.user_id, "result", res, reason)
    payload = {"result_id": result_id, "reason": v.reason, "outcome": res.outcome}
    if not left:
        before = workflow.apply(task, "void_result", actor.role)
        task.updated_at = trail.now_utc()
        session.flush()
        payload.update({"from": before, "to": task.state})
    trail.append(session, actor.user_id, "result_void", "task", task.task_id, payload)
    return v


def correct_result(
    session: Any,
    actor_id: str,
    result_id: int,
    reason: str,
    *,
    outcome: str | None = None,
    check_kind: str | None = None,
    recovered_kwh: float | None = None,
    recovered_yuan: float | None = None,
    violation_type: str | None = None,
    inspected_on: date | None = None,
    note: str | None = None,
) -> Result:
    """Replace a result by a corrected one (fields not given are carried over); the original is voided."""
    from gridaudit.audit.actions import check_result_values, get_task

    actor = get_user(session, actor_id)
    old = _row(session, "result", result_id)
    task = get_task(session, old.task_id)
    _check_four_eyes(actor, task, "result", old.recorded_by, ("inspector", *VOIDERS))
    values = check_result_values(
        outcome or old.outcome,
        check_kind or old.check_kind,
        old.recovered_kwh if recovered_kwh is None else recovered_kwh,
        old.recovered_yuan if recovered_yuan is None else recovered_yuan,
        old.violation_type if violation_type is None else violation_type,
        old.inspected_on if inspected_on is None else inspected_on,
    )
    v = _void(session, actor.user_id, "result", old, reason)
    now = trail.now_utc()
    new = Result(task_id=task.task_id, **values, note=note or old.note, recorded_by=actor.user_id, recorded_at=now)
    new.corrects_id = old.result_id
    session.add(new)
    task.updated_at = now  # versioned: a concurrent change to the task conflicts
    session.flush()
    trail.append(
        session,
        actor.user_id,
        "result_correct",
        "task",
        task.task_id,
        {"result_id": new.result_id, "corrects": old.result_id, "reason": v.reason, **_jsonable(values)},
    )
    return new


def void_penalty(session: Any, actor_id: str, penalty_id: int, reason: str) -> Void:
    """Void a booked penalty (a wrong booking); it stays visible and no longer counts."""
    from gridaudit.audit.access import ACTION_ROLES
    from gridaudit.audit.actions import get_task

    actor = get_user(session, actor_id)
    pen = _row(session, "penalty", penalty_id)
    task = get_task(session, pen.task_id)
    _check_four_eyes(actor, task, "penalty", pen.booked_by, ACTION_ROLES["penalty"])
    v = _void(session, actor.user_id, "penalty", pen, reason)
    task.updated_at = trail.now_utc()
    session.flush()
    trail.append(
        session,
        actor.user_id,
        "penalty_void",
        "task",
        task.task_id,
        {
            "penalty_id": penalty_id,
            "reason": v.reason,
            "backbill_yuan": pen.backbill_yuan,
            "penalty_yuan": pen.penalty_yuan,
        },
    )
    return v


def _jsonable(values: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}
