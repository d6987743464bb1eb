"""Users and roles of the audit loop. The first admin may be created while the store has no users.

Users are never deleted: an admin deactivates them (they cannot act, their history stays), changes
their role or binds them to a unit; each change is an audit-trail event. The last active admin can be
neither deactivated nor demoted."""

from __future__ import annotations

from typing import Any

from gridaudit.audit import trail
from gridaudit.audit.errors import AuditError, Forbidden, NotFound
from gridaudit.audit.models import User
from gridaudit.audit.workflow import ROLES


def get_user(session: Any, user_id: str | None) -> User:
    """The acting user, or a clear error when missing or unknown."""
    if not user_id:
        raise AuditError(
            "请用 --user 指明操作人（或设置 GRIDAUDIT_USER）", "say who is acting with --user (or set GRIDAUDIT_USER)"
        )
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(
            f"未知用户 {user_id}（用 gridaudit audit users add 添加）",
            f"unknown user {user_id} (add with gridaudit audit users add)",
        )
    if not user.active:
        raise Forbidden(
            f"用户 {user_id} 已停用（管理员可用 gridaudit audit users activate 恢复）",
            f"user {user_id} is deactivated (an admin can restore it with gridaudit audit users activate)",
        )
    return user


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AuditError(
            f"未知角色 {role}，可选: {', '.join(ROLES)}", f"unknown role {role}; roles: {', '.join(ROLES)}"
        )


def _admin(session: Any, actor_id: str | None, what_zh: str, what_en: str) -> User:
    admin = get_user(session, actor_id)
    if admin.role != "admin":
        raise Forbidden(
            f"只有管理员可以{what_zh}（{admin.user_id} 是 {ROLES.get(admin.role, (admin.role,))[0]}）",
            f"only an admin may {what_en} ({admin.user_id} is {admin.role})",
        )
    return admin


def _target(session: Any, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"未知用户 {user_id}", f"unknown user {user_id}")
    return user


def _keep_an_admin(session: Any, user: User, zh: str, en: str) -> None:
    """Refuse when ``user`` is the last active admin (the store would have nobody to manage users)."""
    from sqlalchemy import func, select

    if user.role != "admin" or not user.active:
        return
    q = select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))
    if session.execute(q).scalar_one() <= 1:
        raise Forbidden(
            f"{user.user_id} 是最后一个在用的管理员，不能{zh}（请先添加另一个管理员）",
            f"{user.user_id} is the last active admin and cannot be {en} (add another admin first)",
        )


def set_active(session: Any, actor_id: str | None, user_id: str, active: bool) -> User:
    """Deactivate (``active=False``) or reactivate a user (admin only; event ``user_deactivate`` /
    ``user_activate``). A deactivated user cannot act, be assigned or escalated to; history stays."""
    admin = _admin(session, actor_id, "停用或启用用户", "deactivate or activate users")
    user = _target(session, user_id)
    if user.active == active:
        state = ("已是在用状态", "is already active") if active else ("已停用", "is already deactivated")
        raise AuditError(f"用户 {user_id} {state[0]}", f"user {user_id} {state[1]}")
    if not active:
        _keep_an_admin(session, user, "停用", "deactivated")
    user.active = active
    session.flush()
    trail.append(session, admin.user_id, "user_activate" if active else "user_deactivate", "user", user_id, {})
    return user


def set_role(session: Any, actor_id: str | None, user_id: str, role: str) -> User:
    """Change a user's role (admin only; event ``user_role`` with from/to)."""
    _check_role(role)
    admin = _admin(session, actor_id, "修改角色", "change roles")
    user = _target(session, user_id)
    if user.role == role:
        raise AuditError(f"用户 {user_id} 的角色已是 {role}", f"user {user_id} already has role {role}")
    if role != "admin":
        _keep_an_admin(session, user, "改为其他角色", "given another role")
    before, user.role = user.role, role
    session.flush()
    trail.append(session, admin.user_id, "user_role", "user", user_id, {"from": before, "to": role})
    return user


def set_unit(session: Any, actor_id: str | None, user_id: str, unit_id: str | None) -> User:
    """Bind a user to a unit, or unbind (``unit_id=None``) (admin only; event ``user_unit``). The unit must
    be in the store's unit tree when it has one; the event records whether it could be checked."""
    from gridaudit.audit.units import check_unit

    admin = _admin(session, actor_id, "修改所属单位", "change units")
    user = _target(session, user_id)
    checked = check_unit(session, unit_id) if unit_id else True
    if user.unit_id == unit_id:
        raise AuditError(f"用户 {user_id} 已属于 {unit_id or '（无单位）'}", f"user {user_id} is already in {unit_id}")
    before, user.unit_id = user.unit_id, unit_id
    session.flush()
    trail.append(
        session, admin.user_id, "user_unit", "user", user_id, {"from": before, "to": unit_id, "unit_checked": checked}
    )
    return user


def add_user(
    session: Any,
    actor_id: str | None,
    user_id: str,
    name: str,
    role: str,
    unit_id: str | None = None,
    staff_id: str | None = None,
    manager_id: str | None = None,
) -> User:
    """Add a user. Only an admin may, except the very first user, who must be an admin."""
    from sqlalchemy import func, select

    from gridaudit.audit.units import check_unit

    _check_role(role)
    count = session.execute(select(func.count()).select_from(User)).scalar_one()
    if count == 0:
        if role != "admin":
            raise Forbidden(
                "案件库尚无用户：第一个用户必须是管理员（--role admin）",
                "the store has no users yet: the first user must be an admin (--role admin)",
            )
        actor = user_id
    else:
        actor = _admin(session, actor_id, "添加用户", "add users").user_id
    if session.get(User, user_id) is not None:
        raise AuditError(f"用户 {user_id} 已存在", f"user {user_id} already exists")
    if manager_id:
        get_user(session, manager_id)  # exists and is active
    checked = check_unit(session, unit_id) if unit_id else True
    user = User(
        user_id=user_id,
        name=name,
        role=role,
        unit_id=unit_id,
        staff_id=staff_id,
        manager_id=manager_id,
        created_at=trail.now_utc(),
        created_by=actor,
        active=True,
    )
    session.add(user)
    session.flush()
    trail.append(
        session,
        actor,
        "user_add",
        "user",
        user_id,
        {
            "name": name,
            "role": role,
            "unit_id": unit_id,
            "staff_id": staff_id,
            "manager_id": manager_id,
            **({} if checked else {"unit_checked": False}),
        },
    )
    return user


def list_users(session: Any) -> list[User]:
    """All users, by id."""
    from sqlalchemy import select

    return list(session.execute(select(User).order_by(User.user_id)).scalars())


def escalation_manager(session: Any, user_id: str) -> str | None:
    """Who an overdue item of ``user_id`` escalates to: their manager when active, else the first active
    user with role manager (None when there is none)."""
    from sqlalchemy import select

    user = session.get(User, user_id)
    mgr = session.get(User, user.manager_id) if user is not None and user.manager_id else None
    if mgr is not None and mgr.active:
        return mgr.user_id
    q = select(User.user_id).where(User.role == "manager", User.active.is_(True)).order_by(User.user_id).limit(1)
    return session.execute(q).scalar()
