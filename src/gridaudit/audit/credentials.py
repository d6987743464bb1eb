"""Passwords and API tokens of the case store's users: set, check, issue, resolve. Below both faces: the CLI
(``audit users passwd`` / ``token``) and the web app call these functions.

Passwords are hashed with Argon2 (pwdlib); API tokens are long random strings of which only the SHA-256 is
stored. Setting a password and issuing a token are audit-trail events (``user_passwd``, ``user_token``)
naming who did it; neither the password nor the token is ever written anywhere.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache
from typing import Any

from gridaudit.audit import trail
from gridaudit.audit.errors import AuditError, Forbidden
from gridaudit.audit.models import User
from gridaudit.audit.users import get_user
from gridaudit.audit.web_models import ApiToken, Credential

MIN_PASSWORD = 8
TOKEN_PREFIX = "ga_"


@lru_cache(maxsize=1)
def _hasher() -> Any:
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    return PasswordHash((Argon2Hasher(),))


def sha256_hex(text: str) -> str:
    """SHA-256 of ``text`` (UTF-8) as hex: how session ids and tokens are stored."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_password_rule(password: str) -> None:
    """Refuse a password shorter than ``MIN_PASSWORD`` characters or made only of spaces."""
    if len(password) < MIN_PASSWORD or not password.strip():
        raise AuditError(
            f"密码至少 {MIN_PASSWORD} 个字符", f"the password must have at least {MIN_PASSWORD} characters"
        )


def _self_or_admin(session: Any, actor_id: str | None, user_id: str, zh: str, en: str) -> tuple[User, User]:
    actor = get_user(session, actor_id)
    target = get_user(session, user_id)
    if actor.user_id != target.user_id and actor.role != "admin":
        raise Forbidden(
            f"只有管理员或本人可以{zh}（{actor.user_id} 不能为 {user_id} {zh}）",
            f"only an admin or the user themselves may {en} ({actor.user_id} may not for {user_id})",
        )
    return actor, target


def set_password(session: Any, actor_id: str | None, user_id: str, password: str) -> None:
    """Set ``user_id``'s password (the user themselves or an admin; event ``user_passwd``)."""
    check_password_rule(password)
    actor, target = _self_or_admin(session, actor_id, user_id, "设置密码", "set the password")
    row = session.get(Credential, target.user_id)
    now = trail.now_utc()
    digest = _hasher().hash(password)
    if row is None:
        session.add(Credential(user_id=target.user_id, password_hash=digest, changed_at=now, changed_by=actor.user_id))
    else:
        row.password_hash, row.changed_at, row.changed_by = digest, now, actor.user_id
    session.flush()
    trail.append(session, actor.user_id, "user_passwd", "user", target.user_id, {"first": row is None})


def check_password(session: Any, user_id: str, password: str) -> User | None:
    """The active user whose id and password these are, else None (unknown user, no password, wrong
    password or deactivated: the caller says the same thing for all four)."""
    user = session.get(User, user_id) if user_id else None
    row = session.get(Credential, user_id) if user is not None else None
    if row is None:
        _hasher().hash(password or "x")  # spend the same time as a real check: no user enumeration by timing
        return None
    if not _hasher().verify(password, row.password_hash):
        return None
    return user if user is not None and user.active else None


def issue_token(session: Any, actor_id: str | None, user_id: str) -> str:
    """A new API bearer token for ``user_id`` (the user themselves or an admin; event ``user_token``).
    The token is returned once; only its SHA-256 is stored."""
    actor, target = _self_or_admin(session, actor_id, user_id, "签发令牌", "issue a token")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=target.user_id,
        token_hash=sha256_hex(raw),
        created_at=trail.now_utc(),
        created_by=actor.user_id,
    )
    session.add(row)
    session.flush()
    trail.append(session, actor.user_id, "user_token", "user", target.user_id, {"token_id": row.token_id})
    return raw


def user_for_token(session: Any, raw: str) -> User | None:
    """The active user a bearer token belongs to (not revoked), else None."""
    from sqlalchemy import select

    if not raw:
        return None
    q = select(ApiToken).where(ApiToken.token_hash == sha256_hex(raw), ApiToken.revoked_at.is_(None))
    row = session.execute(q).scalar_one_or_none()
    user = session.get(User, row.user_id) if row is not None else None
    return user if user is not None and user.active else None
