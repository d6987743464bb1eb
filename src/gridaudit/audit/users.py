"""Users and roles of the audit loop. The first admin may be created while the store has no users."""

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

    if role not in ROLES:
        raise AuditError(
            f"未知角色 {role}，可选: {', '.join(ROLES)}", f"unknown role {role}; roles: {', '.join(ROLES)}"
        )
    count = session.execute(select(func.count()).select_from(User)).scalar_one()
    if count == 0:
        if role != "admin":
            raise Forbidden(
                "案件库尚无用户：第一个用户必须是管理员（--role admin）",
                "the store has no users yet: the first user must be an admin (--role admin)",
            )
        actor = user_id
    else:
        admin = get_user(session, actor_id)
        if admin.role != "admin":
            raise Forbidden(
                f"只有管理员可以添加用户（{admin.user_id} 是 {ROLES[admin.role][0]}）",
                f"only an admin may add users ({admin.user_id} is {admin.role})",
            )
        actor = admin.user_id
    if session.get(User, user_id) is not None:
        raise AuditError(f"用户 {user_id} 已存在", f"user {user_id} already exists")
    if manager_id and session.get(User, manager_id) is None:
        raise NotFound(f"未知主管 {manager_id}", f"unknown manager {manager_id}")
    user = User(
        user_id=user_id,
        name=name,
        role=role,
        unit_id=unit_id,
        staff_id=staff_id,
        manager_id=manager_id,
        created_at=trail.now_utc(),
        created_by=actor,
    )
    session.add(user)
    session.flush()
    trail.append(
        session,
        actor,
        "user_add",
        "user",
        user_id,
        {"name": name, "role": role, "unit_id": unit_id, "staff_id": staff_id, "manager_id": manager_id},
    )
    return user


def list_users(session: Any) -> list[User]:
    """All users, by id."""
    from sqlalchemy import select

    return list(session.execute(select(User).order_by(User.user_id)).scalars())
