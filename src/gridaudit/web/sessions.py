"""Server-side browser sessions and login throttling, kept in the case store (``web_sessions``,
``web_login_failures``). The cookie holds only a random id; the store holds its SHA-256, the CSRF token
bound to it and when it was last used. Every function runs in the caller's transaction."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gridaudit.audit.credentials import sha256_hex
from gridaudit.audit.trail import now_utc
from gridaudit.audit.web_models import LoginFailure, WebSession

COOKIE = "ga_session"
TOUCH_EVERY = timedelta(seconds=60)  # last_seen is written at most this often


@dataclass(frozen=True)
class OpenSession:
    """A live session as the request sees it: the raw id (from the cookie), its user and CSRF token."""

    raw_id: str
    user_id: str | None
    csrf_token: str


def _aware(value: datetime) -> datetime:
    """SQLite gives naive datetimes back: they were stored as UTC."""
    from datetime import UTC

    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def create(session: Any, user_id: str | None) -> OpenSession:
    """A new session with a fresh random id and CSRF token (``user_id`` None: before login)."""
    raw, now = secrets.token_urlsafe(32), now_utc()
    row = WebSession(
        session_hash=sha256_hex(raw),
        user_id=user_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen=now,
    )
    session.add(row)
    session.flush()
    return OpenSession(raw, user_id, row.csrf_token)


def load(session: Any, raw_id: str | None, idle: timedelta) -> OpenSession | None:
    """The session of a cookie value, or None when unknown or idle longer than ``idle`` (then it is deleted)."""
    if not raw_id:
        return None
    row = session.get(WebSession, sha256_hex(raw_id))
    if row is None:
        return None
    now = now_utc()
    if now - _aware(row.last_seen) > idle:
        session.delete(row)
        session.flush()
        return None
    if now - _aware(row.last_seen) > TOUCH_EVERY:
        row.last_seen = now
        session.flush()
    return OpenSession(raw_id, row.user_id, row.csrf_token)


def peek(session: Any, raw_id: str | None, idle: timedelta) -> tuple[OpenSession | None, bool]:
    """What ``load`` would return, without writing (for a read-only store session), and whether ``load`` has a
    write to do (the session has expired and must be deleted, or its last use is due to be renewed)."""
    if not raw_id:
        return None, False
    row = session.get(WebSession, sha256_hex(raw_id))
    if row is None:
        return None, False
    age = now_utc() - _aware(row.last_seen)
    if age > idle:
        return None, True
    return OpenSession(raw_id, row.user_id, row.csrf_token), age > TOUCH_EVERY


def end(session: Any, raw_id: str | None) -> None:
    """Delete a session (logout; and the pre-login session when the id is renewed at login)."""
    if not raw_id:
        return
    row = session.get(WebSession, sha256_hex(raw_id))
    if row is not None:
        session.delete(row)
        session.flush()


def purge(session: Any, idle: timedelta) -> int:
    """Delete every session idle longer than ``idle`` and old login failures; returns sessions deleted."""
    from sqlalchemy import delete

    cutoff = now_utc() - idle
    n = session.execute(delete(WebSession).where(WebSession.last_seen < cutoff)).rowcount
    session.execute(delete(LoginFailure).where(LoginFailure.at < now_utc() - timedelta(days=1)))
    return int(n or 0)


def _key(username: str, client: str) -> str:
    return sha256_hex(f"{username.strip().lower()}\x00{client}")


def throttled(session: Any, username: str, client: str, attempts: int, window_s: int) -> bool:
    """Whether ``username`` from ``client`` failed ``attempts`` times in the last ``window_s`` seconds."""
    from sqlalchemy import func, select

    since = now_utc() - timedelta(seconds=window_s)
    q = select(func.count()).select_from(LoginFailure).where(LoginFailure.key_hash == _key(username, client))
    return int(session.execute(q.where(LoginFailure.at >= since)).scalar_one()) >= attempts


def record_failure(session: Any, username: str, client: str) -> None:
    """Note one failed login of ``username`` from ``client``."""
    session.add(LoginFailure(key_hash=_key(username, client), at=now_utc()))
    session.flush()


def clear_failures(session: Any, username: str, client: str) -> None:
    """Forget the failures of ``username`` from ``client`` (after a successful login)."""
    from sqlalchemy import delete

    session.execute(delete(LoginFailure).where(LoginFailure.key_hash == _key(username, client)))
