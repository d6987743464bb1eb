"""Who may see and act on which task: roles, unit scope and segregation of duties, in one place.

The CLI and the web app both call these functions; nothing else decides access.

Unit scope (``visible_units``):

* a user bound to a unit (``audit_users.unit_id``) sees and acts on the tasks of that unit and of every
  unit under it in the store's unit tree (``audit_units``, from ``audit units sync``): a task belongs to
  the units of ``task.unit_id`` and ``task.assignee_unit``;
* an unbound user of a lead role (``SEE_ALL_ROLES``: admin, audit_lead, auditor, manager, viewer) sees
  every task, including tasks whose unit is unknown;
* an unbound inspector or responsible person sees no unit's tasks;
* in addition every user sees the tasks assigned to them by name (``tasks assign --to``) and those whose
  rectification was ordered from them: a lead who has the task in scope named them (交叉稽查, cross-unit
  audit, is common practice).

``can`` adds the role (``workflow.TRANSITIONS`` for task actions, ``ACTION_ROLES`` for the others), the
viewer's read-only rule, segregation of duties (``workflow.check_segregation``) and the actions reserved to a
named person (the assigned inspector's result, the rectifier's reply). The web app shows an action form only
when ``can`` (and the workflow state) allows it.
"""

from __future__ import annotations

from typing import Any

from gridaudit.audit import workflow
from gridaudit.audit.errors import AuditError, Forbidden, NotFound
from gridaudit.audit.models import Plan, Rectification, Result, Task, User
from gridaudit.audit.units import subtree

# Unbound users of these roles see every task.
SEE_ALL_ROLES = ("admin", "audit_lead", "auditor", "manager", "viewer")
# Actions that change nothing: every role may do them within its scope.
READ_ACTIONS = ("show", "list", "assess", "export")
# Actions outside the task state machine, and who may do them.
ACTION_ROLES: dict[str, tuple[str, ...]] = {"penalty": ("inspector", "auditor", "audit_lead")}
# Segregation rule an action outside the state machine follows (booking a penalty is part of the result).
SEGREGATION_AS = {"penalty": "result"}
# Tip-offs (gridaudit.tips) and who may do what with them. Only the audit lead sees a reporter's identity.
TIP_ROLES: dict[str, tuple[str, ...]] = {
    "tip_add": ("auditor", "audit_lead"),
    "tip_match": ("auditor", "audit_lead"),
    "tip_list": SEE_ALL_ROLES,
    "tip_reporter": ("audit_lead",),
    "reward_propose": ("auditor", "audit_lead"),
    "reward_approve": ("audit_lead", "manager"),
}


def visible_units(session: Any, user: User | None) -> set[str] | None:
    """The units whose tasks ``user`` sees: None for all (no user, or an unbound lead role), else the
    user's unit and the units under it (an empty set for an unbound inspector or responsible person)."""
    if user is None:
        return None
    if user.unit_id is None:
        return None if user.role in SEE_ALL_ROLES else set()
    return subtree(session, user.unit_id)


def visible_task_filter(session: Any, user: User | None) -> Any:
    """An SQLAlchemy where-clause on ``Task`` selecting the tasks ``user`` sees (for list queries)."""
    from sqlalchemy import or_, select, true

    units = visible_units(session, user)
    if units is None or user is None:
        return true()
    rectified = select(Rectification.task_id).where(Rectification.responsible_id == user.user_id)
    clauses: list[Any] = [Task.assignee_id == user.user_id, Task.task_id.in_(rectified)]
    if units:
        clauses += [Task.unit_id.in_(sorted(units)), Task.assignee_unit.in_(sorted(units))]
    return or_(*clauses)


def unit_scope(session: Any, user: User | None, unit_id: str | None) -> set[str] | None:
    """The units a view of ``unit_id`` (None: everything the user sees) covers: the unit and those under it,
    within the user's scope. A unit outside the scope is ``Forbidden``; an unknown unit ``NotFound``."""
    from gridaudit.audit.models import Unit
    from gridaudit.audit.units import has_units

    units = visible_units(session, user)
    if unit_id is None:
        return units
    if has_units(session) and session.get(Unit, unit_id) is None:
        raise NotFound(f"未知单位 {unit_id}", f"unknown unit {unit_id}")
    wanted = subtree(session, unit_id)
    if units is None:
        return wanted
    if unit_id not in units:
        who = user.user_id if user is not None else "-"
        raise Forbidden(f"单位 {unit_id} 不在 {who} 的查看范围内", f"unit {unit_id} is outside {who}'s scope")
    return wanted & units


def task_unit_filter(units: set[str]) -> Any:
    """An SQLAlchemy where-clause on ``Task``: the task's unit or its assignee unit is one of ``units``."""
    from sqlalchemy import or_

    return or_(Task.unit_id.in_(sorted(units)), Task.assignee_unit.in_(sorted(units)))


def visible_plan_filter(session: Any, user: User | None) -> Any:
    """An SQLAlchemy where-clause on ``Plan`` selecting the plans ``user`` sees: every plan for those who see
    every task; otherwise a plan holding a task the user sees (``visible_task_filter``), or made by a user
    bound to a unit in the user's unit tree (a plan of the unit with no task yet in reach is still its own)."""
    from sqlalchemy import or_, select, true

    units = visible_units(session, user)
    if units is None or user is None:
        return true()
    seen = select(Task.plan_id).where(visible_task_filter(session, user))
    clauses: list[Any] = [Plan.plan_id.in_(seen)]
    if units:
        makers = select(User.user_id).where(User.unit_id.in_(sorted(units)))
        clauses.append(Plan.created_by.in_(makers))
    return or_(*clauses)


def check_plan(session: Any, user: User | None, plan_id: int) -> Plan:
    """Plan ``plan_id`` when ``user`` sees it (``visible_plan_filter``); ``NotFound`` when there is no such
    plan, ``Forbidden`` when it is outside the user's scope."""
    from sqlalchemy import select

    plan = session.get(Plan, plan_id) if -(2**63) <= plan_id < 2**63 else None
    if plan is None:
        raise NotFound(f"没有计划 {plan_id}", f"no plan {plan_id}")
    q = select(Plan.plan_id).where(Plan.plan_id == plan_id, visible_plan_filter(session, user))
    if session.execute(q).first() is None:
        zh, en = _scope_text(user) if user is not None else ("", "")
        raise Forbidden(
            f"计划 {plan_id} 不在 {user.user_id if user else '-'} 的范围内（{zh}）",
            f"plan {plan_id} is outside {user.user_id if user else '-'}'s scope ({en})",
        )
    return plan


def in_scope(session: Any, user: User | None, task: Task) -> bool:
    """Whether ``task`` is visible to ``user`` (the same rule as ``visible_task_filter``, for one task)."""
    units = visible_units(session, user)
    if units is None or user is None:
        return True
    if task.unit_id in units or task.assignee_unit in units or task.assignee_id == user.user_id:
        return True
    return _rectifier(session, task) == user.user_id


def _rectifier(session: Any, task: Task) -> str | None:
    from sqlalchemy import select

    q = select(Rectification.responsible_id).where(Rectification.task_id == task.task_id)
    with session.no_autoflush:  # the caller's pending changes go out in one versioned UPDATE later
        return session.execute(q).scalar()


def _scope_text(user: User) -> tuple[str, str]:
    if user.unit_id is None:
        return "仅派给本人或由本人整改的任务", "only tasks assigned to them or rectified by them"
    return f"单位 {user.unit_id} 及其下级单位", f"unit {user.unit_id} and the units under it"


def can(session: Any, user: User, action: str, task: Task) -> None:
    """Raise ``Forbidden`` unless ``user`` may do ``action`` on ``task``, checked in this order: active user,
    viewer read-only, segregation of duties, role, unit scope. The task's state is checked by ``workflow.apply``.

    ``action``: a ``workflow.TRANSITIONS`` action, one of ``ACTION_ROLES`` or one of ``READ_ACTIONS``."""
    if action not in READ_ACTIONS and action not in workflow.TRANSITIONS and action not in ACTION_ROLES:
        raise AuditError(f"未知操作 {action}", f"unknown action {action}")
    if not user.active:
        raise Forbidden(f"用户 {user.user_id} 已停用，不能操作", f"user {user.user_id} is deactivated and cannot act")
    if user.role == "viewer" and action not in READ_ACTIONS:
        raise Forbidden(
            f"{user.user_id} 是只读用户（viewer），不能修改任何内容",
            f"{user.user_id} is a read-only viewer and may not change anything",
        )
    seg = SEGREGATION_AS.get(action, action)
    if seg in workflow.INDEPENDENT_ACTIONS:
        recorders = _recorders(session, task) if seg in workflow.RECORDER_EXCLUDED else ()
        workflow.check_segregation(seg, user, task, _rectifier(session, task), recorders)
    if action in workflow.TRANSITIONS:
        workflow.check_role(task, action, user.role)
    elif action in ACTION_ROLES and user.role not in ACTION_ROLES[action]:
        raise Forbidden(
            f"任务 {task.task_id}: {user.user_id}（{user.role}）无权执行 {action}",
            f"task {task.task_id}: {user.user_id} ({user.role}) may not {action} "
            f"(allowed: {', '.join(ACTION_ROLES[action])})",
        )
    _check_named(session, user, action, task)
    if not in_scope(session, user, task):
        zh, en = _scope_text(user)
        raise Forbidden(
            f"任务 {task.task_id}（单位 {task.unit_id or '未知'}）不在 {user.user_id} 的范围内（{zh}）",
            f"task {task.task_id} (unit {task.unit_id or 'unknown'}) is outside {user.user_id}'s scope ({en})",
        )


def can_tip(user: User, action: str) -> None:
    """Raise ``Forbidden`` unless ``user`` may do ``action`` (a ``TIP_ROLES`` key) on tip-offs; ``tip_reporter``
    (seeing who reported a tip) is the audit lead's alone."""
    roles = TIP_ROLES.get(action)
    if roles is None:
        raise AuditError(f"未知操作 {action}", f"unknown action {action}")
    if not user.active:
        raise Forbidden(f"用户 {user.user_id} 已停用，不能操作", f"user {user.user_id} is deactivated and cannot act")
    if user.role not in roles:
        if action == "tip_reporter":
            raise Forbidden(
                f"举报人身份仅稽查组长可见（{user.user_id} 是 {user.role}）",
                f"a reporter's identity is shown to the audit lead only ({user.user_id} is {user.role})",
            )
        raise Forbidden(
            f"{user.user_id}（{user.role}）无权执行 {action}（允许: {', '.join(roles)}）",
            f"{user.user_id} ({user.role}) may not {action} (allowed: {', '.join(roles)})",
        )


def may_see_reporter(user: User | None) -> bool:
    """Whether ``user`` may see reporters' identities (the audit lead; nobody when there is no user)."""
    return user is not None and user.active and user.role in TIP_ROLES["tip_reporter"]


def _check_named(session: Any, user: User, action: str, task: Task) -> None:
    """Actions reserved to a named person: an assigned task's result is recorded by its inspector (when an
    inspector records it), a rectification is replied to by its rectifier only."""
    if action == "result" and user.role == "inspector" and task.assignee_id and task.assignee_id != user.user_id:
        raise Forbidden(
            f"任务 {task.task_id} 派给了 {task.assignee_id}，检查员 {user.user_id} 不能录入结果",
            f"task {task.task_id} is assigned to {task.assignee_id}; "
            f"inspector {user.user_id} may not record its result",
        )
    if action == "reply":
        rectifier = _rectifier(session, task)
        if rectifier is not None and rectifier != user.user_id:
            raise Forbidden(
                f"任务 {task.task_id} 的整改责任人是 {rectifier}，{user.user_id} 不能回复",
                f"task {task.task_id}'s rectifier is {rectifier}; {user.user_id} may not reply",
            )


def _recorders(session: Any, task: Task) -> tuple[str, ...]:
    from sqlalchemy import select

    with session.no_autoflush:
        q = select(Result.recorded_by).where(Result.task_id == task.task_id)
        return tuple(session.execute(q).scalars())


def check_assignment(session: Any, task: Task, assignee: User | None, unit_id: str | None) -> None:
    """Refuse assigning ``task`` to its finding's responsible staff member (segregation of duties) or to
    a unit missing from the store's unit tree (``units.check_unit``). The assignee's existence, activity
    and role are checked by ``users.get_user`` and ``actions.assign``."""
    from gridaudit.audit.units import check_unit

    if assignee is not None and task.responsible_staff_id and assignee.staff_id == task.responsible_staff_id:
        raise Forbidden(
            f"任务 {task.task_id}: {assignee.user_id} 是该问题的责任人（{task.responsible_staff_id}），"
            "不能派给本人核查（职责分离）",
            f"task {task.task_id}: {assignee.user_id} is the staff responsible for this finding "
            f"({task.responsible_staff_id}) and may not be assigned to check it (segregation of duties)",
        )
    if unit_id:
        check_unit(session, unit_id, "责任单位 / responsible unit")


def reader(session: Any, user_id: str | None) -> User | None:
    """The user a read command acts for. Reads need a user once the store has users (so unit scope
    applies); in a store without users (before the first ``users add``) None is returned."""
    from sqlalchemy import select

    from gridaudit.audit.users import get_user

    if user_id is None and session.execute(select(User.user_id).limit(1)).first() is None:
        return None
    return get_user(session, user_id)
