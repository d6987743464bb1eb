"""What people do to a task: assign, record a result, order rectification, reply, verify, close, escalate.

Each action runs inside the caller's transaction (``Store.transaction()``), moves the task through
``workflow.apply`` (the one state machine), checks segregation of duties and appends one audit event
naming who did what and when. Nothing here commits.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from gridaudit.audit import access, trail, workflow
from gridaudit.audit.errors import AuditError, Forbidden, NotFound
from gridaudit.audit.models import Attachment, Escalation, Rectification, Reply, Result, Task, User, Verification
from gridaudit.audit.recheck import RecheckResult
from gridaudit.audit.users import escalation_manager, get_user
from gridaudit.workdays import add_workdays, provisional_between, workdays_between

OUTCOMES = {"theft": "窃电", "violation": "违约用电", "irregular": "异常（内部差错）", "normal": "正常"}
CHECK_KINDS = {"desk": "案头核查", "field": "现场核查"}


def fits_db_integer(n: int) -> bool:
    """Whether ``n`` fits a database BIGINT (a larger id from a URL is simply unknown, not a driver crash)."""
    return -(2**63) <= n < 2**63


def get_task(session: Any, task_id: int) -> Task:
    """A task by id, or a clear error (an id no database integer can hold is unknown too, not a crash)."""
    task = session.get(Task, task_id) if fits_db_integer(task_id) else None
    if task is None:
        raise NotFound(f"未知任务 {task_id}", f"unknown task {task_id}")
    return task


def rectification_of(session: Any, task: Task) -> Rectification | None:
    """The task's rectification order, if any."""
    from sqlalchemy import select

    q = select(Rectification).where(Rectification.task_id == task.task_id)
    return session.execute(q).scalar_one_or_none()


def _ordered(rect: Rectification | None, task_id: int) -> Rectification:
    """``rect`` after the workflow let a reply or verdict through (both need a rectification order)."""
    if rect is None:
        raise AuditError(f"任务 {task_id} 没有整改单", f"task {task_id} has no rectification order")
    return rect


def _move(session: Any, actor: User, task: Task, action: str, payload: dict) -> None:
    access.can(session, actor, action, task)  # role, unit scope, segregation of duties
    before = workflow.apply(task, action, actor.role)
    task.updated_at = trail.now_utc()
    session.flush()  # the versioned UPDATE: a concurrent change raises StaleDataError here
    trail.append(session, actor.user_id, action, "task", task.task_id, {"from": before, "to": task.state, **payload})


def assign(session: Any, actor_id: str, task_id: int, to_user: str | None = None, to_unit: str | None = None) -> Task:
    """Assign a task to an inspector or a responsible person, and/or a responsible unit."""
    actor, task = get_user(session, actor_id), get_task(session, task_id)
    if not to_user and not to_unit:
        raise AuditError("请用 --to 指定人员或 --unit 指定单位", "give a person with --to or a unit with --unit")
    access.can(session, actor, "assign", task)  # before the task changes: scope is judged on the task as it is
    assignee = get_user(session, to_user) if to_user else None
    if assignee is not None:
        if assignee.role not in ("inspector", "responsible", "auditor", "audit_lead"):
            raise Forbidden(
                f"任务只能派给检查员、责任人或稽查员，{to_user} 是 {assignee.role}",
                f"tasks go to an inspector, responsible person or auditor; {to_user} is {assignee.role}",
            )
    access.check_assignment(session, task, assignee, to_unit)
    task.assignee_id = to_user or task.assignee_id
    task.assignee_unit = to_unit or task.assignee_unit
    _move(session, actor, task, "assign", {"to_user": to_user, "to_unit": to_unit})
    return task


def store_attachment(folder: Path, file: Path) -> tuple[str, int]:
    """Copy ``file`` into ``folder`` under its sha256 (content-addressed); returns (sha256, size)."""
    if not file.is_file():
        raise NotFound(f"附件不存在: {file}", f"attachment not found: {file}")
    digest = hashlib.sha256()
    with file.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    sha = digest.hexdigest()
    target = folder / sha[:2] / sha
    if not target.exists():
        from gridaudit.dataset import replacing

        with replacing(target) as tmp:
            shutil.copyfile(file, tmp)
    return sha, file.stat().st_size


def check_result_values(
    outcome: str,
    check_kind: str,
    recovered_kwh: float | None,
    recovered_yuan: float | None,
    violation_type: str | None,
    inspected_on: date,
) -> dict:
    """Validate a result's values (outcome and violation type accept their Chinese aliases); returns them
    as Result columns. Refuses an unknown outcome or type, negative amounts and a date in the future."""
    from gridaudit.contract import load_contract

    domains = load_contract().domains
    outcome = domains["outcome"].aliases.get(outcome, outcome)  # 异常 → irregular
    if outcome not in OUTCOMES:
        raise AuditError(
            f"核查结论 {outcome!r} 应为 {', '.join(OUTCOMES)}",
            f"outcome {outcome!r} must be one of {', '.join(OUTCOMES)}",
        )
    if check_kind not in CHECK_KINDS:
        raise AuditError(
            f"核查方式 {check_kind!r} 应为 desk 或 field", f"check kind {check_kind!r} must be desk or field"
        )
    domain = domains["violation_type"]
    if violation_type is not None:
        violation_type = domain.aliases.get(violation_type, violation_type)  # 高价低接 → tariff_misuse
    if violation_type is not None and violation_type not in domain.values:
        raise AuditError(
            f"违约类型 {violation_type!r} 应为 {', '.join(domain.values)}",
            f"violation type {violation_type!r} must be one of {', '.join(domain.values)}",
        )
    if (recovered_kwh or 0) < 0 or (recovered_yuan or 0) < 0:
        raise AuditError("追补电量/电费不能为负", "recovered kWh and yuan cannot be negative")
    today = trail.now_utc().date()
    if inspected_on > today:
        raise AuditError(
            f"核查日期 {inspected_on} 在今天（{today}）之后", f"the check date {inspected_on} is after today ({today})"
        )
    return {
        "outcome": outcome,
        "check_kind": check_kind,
        "recovered_kwh": recovered_kwh,
        "recovered_yuan": recovered_yuan,
        "violation_type": violation_type,
        "inspected_on": inspected_on,
    }


def record_result(
    session: Any,
    actor_id: str,
    task_id: int,
    outcome: str,
    check_kind: str = "field",
    recovered_kwh: float | None = None,
    recovered_yuan: float | None = None,
    violation_type: str | None = None,
    note: str | None = None,
    inspected_on: date | None = None,
    attachments: list[Path] | None = None,
    attachment_dir: Path | None = None,
) -> Result:
    """Record a desk or field outcome, with attachments stored by sha256. Amounts not established stay blank."""
    now = trail.now_utc()
    values = check_result_values(
        outcome, check_kind, recovered_kwh, recovered_yuan, violation_type, inspected_on or now.date()
    )
    actor, task = get_user(session, actor_id), get_task(session, task_id)
    access.can(session, actor, "result", task)  # before the row is built (the assigned inspector: access.can)
    res = Result(task_id=task.task_id, **values, note=note, recorded_by=actor.user_id, recorded_at=now)
    session.add(res)
    _move(
        session,
        actor,
        task,
        "result",
        {k: values[k] for k in ("outcome", "check_kind", "recovered_kwh", "recovered_yuan", "violation_type")},
    )
    for f in attachments or []:
        if attachment_dir is None:
            raise AuditError("未配置附件目录", "no attachment folder configured")
        sha, size = store_attachment(attachment_dir, Path(f))
        att = Attachment(
            task_id=task.task_id,
            result_id=res.result_id,
            filename=Path(f).name,
            sha256=sha,
            size=size,
            added_by=actor.user_id,
            added_at=now,
        )
        session.add(att)
        session.flush()
        trail.append(
            session,
            actor.user_id,
            "attach",
            "task",
            task.task_id,
            {"filename": att.filename, "sha256": sha, "size": size, "result_id": res.result_id},
        )
    return res


def latest_result(session: Any, task: Task) -> Result | None:
    """The result of a task that counts: its newest one not voided (see ``corrections``)."""
    from gridaudit.audit.corrections import effective_results

    return effective_results(session, [task.task_id]).get(task.task_id)


def rectify(
    session: Any,
    actor_id: str,
    task_id: int,
    responsible_id: str,
    workdays: int,
    requirement: str | None = None,
    today: date | None = None,
) -> Rectification:
    """Order rectification by ``responsible_id`` within ``workdays`` working days (official calendar, 调休)."""
    if workdays <= 0:
        raise AuditError("整改期限（工作日）必须为正数", "the rectification deadline (working days) must be positive")
    actor, task = get_user(session, actor_id), get_task(session, task_id)
    rectifier = get_user(session, responsible_id)
    if rectifier.role != "responsible":
        raise Forbidden(
            f"整改责任人须为 responsible 角色，{responsible_id} 是 {rectifier.role}",
            f"the rectifier must have the responsible role; {responsible_id} is {rectifier.role}",
        )
    ordered = today or trail.now_utc().date()
    deadline = add_workdays(ordered, workdays)
    rect = Rectification(
        task_id=task.task_id,
        responsible_id=responsible_id,
        ordered_by=actor.user_id,
        ordered_on=ordered,
        workdays=workdays,
        deadline=deadline,
        requirement=requirement,
        rounds=0,
        status="open",
    )
    _move(
        session,
        actor,
        task,
        "rectify",
        {
            "responsible": responsible_id,
            "workdays": workdays,
            "deadline": deadline.isoformat(),
            **({"deadline_provisional": True} if provisional_between(ordered, deadline) else {}),
            "requirement": requirement,
        },
    )
    session.add(rect)
    session.flush()
    return rect


def reply(session: Any, actor_id: str, task_id: int, text: str, today: date | None = None) -> Rectification:
    """The rectifier's reply (整改回复). Only the named rectifier may reply."""
    if not text or not text.strip():
        raise AuditError("回复内容不能为空", "the reply text cannot be empty")
    actor, task = get_user(session, actor_id), get_task(session, task_id)
    rect = rectification_of(session, task)
    _move(session, actor, task, "reply", {"reply": text, "round": (rect.rounds + 1) if rect else 1})
    rect = _ordered(rect, task_id)
    rect.reply = text
    rect.replied_on = today or trail.now_utc().date()
    rect.rounds += 1
    rect.status = "replied"
    session.add(
        Reply(
            rect_id=rect.rect_id,
            round=rect.rounds,
            text=text,
            replied_on=rect.replied_on,
            replied_by=actor.user_id,
            recorded_at=trail.now_utc(),
        )
    )
    session.flush()
    return rect


RecheckFn = Callable[[Task], RecheckResult]


def verify(
    session: Any,
    actor_id: str,
    task_id: int,
    accept: bool,
    reason: str | None = None,
    recheck: RecheckFn | None = None,
    today: date | None = None,
) -> Verification:
    """The auditor's verdict on a reply: accept, or reject with a reason (back to rectifying).

    When ``recheck`` is given it re-runs the finding's rule on the later period; accepting a reply
    while the finding recurs in the data is refused (reject it instead).
    """
    if not accept and not (reason and reason.strip()):
        raise AuditError("驳回必须说明理由（--reason）", "a rejection needs a reason (--reason)")
    actor, task = get_user(session, actor_id), get_task(session, task_id)
    rect = rectification_of(session, task)
    action = "accept" if accept else "reject"
    check = recheck(task) if (recheck is not None and task.state == "replied") else RecheckResult("unavailable", "")
    if accept and check.status == "recurs":
        raise AuditError(
            f"任务 {task_id}: 数据复查显示问题仍然存在（{check.detail}），不能复核通过，请驳回",
            f"task {task_id}: the data re-check shows the finding recurs ({check.detail}); "
            "it cannot be accepted, reject it instead",
        )
    _move(session, actor, task, action, {"reason": reason, "recheck": check.status, "recheck_detail": check.detail})
    rect = _ordered(rect, task_id)
    day = today or trail.now_utc().date()
    ver = Verification(
        rect_id=rect.rect_id,
        decision=action,
        reason=reason,
        recheck_status=check.status,
        recheck_detail=check.detail,
        verified_by=actor.user_id,
        verified_at=trail.now_utc(),
    )
    session.add(ver)
    if accept:
        rect.status = "accepted"
        rect.accepted_on = day
        rect.on_time = rect.replied_on is not None and rect.replied_on <= rect.deadline
    else:
        rect.status = "rejected"
    session.flush()
    return ver


def close(session: Any, actor_id: str, task_id: int, note: str | None = None) -> Task:
    """Close a checked or verified task. Never by the finding's responsible staff or its rectifier."""
    actor, task = get_user(session, actor_id), get_task(session, task_id)
    if task.state == "checked" and latest_result(session, task) is None:
        raise AuditError(f"任务 {task_id} 没有核查结果", f"task {task_id} has no result")
    _move(session, actor, task, "close", {"note": note})
    return task


def cancel(session: Any, actor_id: str, task_id: int, reason: str) -> Task:
    """Cancel a task not yet checked (audit lead only)."""
    actor, task = get_user(session, actor_id), get_task(session, task_id)
    _move(session, actor, task, "cancel", {"reason": reason})
    return task


def overdue(session: Any, today: date, user: User | None = None) -> list[tuple[Task, Rectification, int]]:
    """Open rectifications past their deadline (not replied, or rejected and not replied again);
    with ``user``, only those of tasks the user sees (``access.visible_task_filter``)."""
    from sqlalchemy import select

    q = (
        select(Task, Rectification)
        .join(Rectification, Rectification.task_id == Task.task_id)
        .where(Task.state == "rectifying", Rectification.deadline < today, access.visible_task_filter(session, user))
        .order_by(Rectification.deadline)
    )
    return [(t, r, workdays_between(r.deadline, today)) for t, r in session.execute(q)]


def escalate(session: Any, actor_id: str, today: date | None = None) -> list[Escalation]:
    """Escalate every overdue rectification to the rectifier's manager (once per day per item)."""
    from sqlalchemy import select

    day = today or trail.now_utc().date()
    actor = get_user(session, actor_id)
    if actor.role not in workflow.TRANSITIONS["escalate"].roles:
        raise Forbidden(
            f"{actor.user_id}（{actor.role}）无权升级超期事项",
            f"{actor.user_id} ({actor.role}) may not escalate overdue items",
        )
    out = []
    for task, rect, days in overdue(session, day, actor):
        done = select(Escalation).where(Escalation.rect_id == rect.rect_id, Escalation.escalated_on == day)
        if session.execute(done).first() is not None:
            continue
        manager = escalation_manager(session, rect.responsible_id)
        esc = Escalation(
            task_id=task.task_id,
            rect_id=rect.rect_id,
            manager_id=manager,
            escalated_on=day,
            workdays_overdue=days,
            escalated_by=actor.user_id,
        )
        session.add(esc)
        rect.escalated_on = day
        _move(
            session,
            actor,
            task,
            "escalate",
            {"manager": manager, "deadline": rect.deadline.isoformat(), "workdays_overdue": days},
        )
        out.append(esc)
    return out


def list_tasks(
    session: Any,
    plan_id: int | None = None,
    state: str | None = None,
    assignee: str | None = None,
    month: str | None = None,
    user: User | None = None,
    *,
    unit: str | None = None,
    overdue_on: date | None = None,
    escalated: bool = False,
    checked: bool = False,
) -> list[Task]:
    """Tasks by priority, optionally of one plan, state, assignee, plan month or unit (and the units under it,
    within the user's scope: ``access.unit_scope``; a task belongs to its unit and its assignee unit).

    ``overdue_on``: only rectifications past their deadline on that day (as ``overdue``); ``escalated``: only
    tasks escalated at least once; ``checked``: only tasks with a result in force
    (``corrections.effective_results``, whatever their state now: the hit rate's denominator). With ``user``,
    only the tasks that user sees (``access.visible_task_filter``). The dashboard counts through this
    function, so each of its numbers is the length of the list it links to."""
    from sqlalchemy import select

    from gridaudit.audit.models import Plan

    q = select(Task).where(access.visible_task_filter(session, user))
    if plan_id is not None:
        q = q.where(Task.plan_id == plan_id)
    if state:
        if state not in workflow.STATES:
            raise AuditError(
                f"未知状态 {state}，可选: {', '.join(workflow.STATES)}",
                f"unknown state {state}; states: {', '.join(workflow.STATES)}",
            )
        q = q.where(Task.state == state)
    if assignee:
        q = q.where(Task.assignee_id == assignee)
    if month:
        q = q.join(Plan, Plan.plan_id == Task.plan_id).where(Plan.month == month)
    if unit:
        units = access.unit_scope(session, user, unit)
        q = q.where(access.task_unit_filter(units or set()))
    if overdue_on is not None:
        late = select(Rectification.task_id).where(Rectification.deadline < overdue_on)
        q = q.where(Task.state == "rectifying", Task.task_id.in_(late))
    if escalated:
        q = q.where(Task.task_id.in_(select(Escalation.task_id)))
    tasks = list(session.execute(q.order_by(Task.priority.desc(), Task.task_id)).scalars())
    if checked:
        from gridaudit.audit.corrections import effective_results

        results = effective_results(session, [t.task_id for t in tasks])
        tasks = [t for t in tasks if t.task_id in results]
    return tasks
