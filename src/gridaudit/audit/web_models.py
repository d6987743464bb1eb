"""Case-store tables of the web app (migration 0005_web), on the same ``models.Base``.

``audit_credentials`` and ``audit_api_tokens`` are sealed by the ledger like every ``audit_`` table (a
password or token change is an audit-trail event); ``web_sessions`` and ``web_login_failures`` are not
(they change on every request). Only hashes are stored: Argon2 for passwords, SHA-256 for session ids and
API tokens (both long random values, so a fast hash is enough)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gridaudit.audit.models import Base


class Credential(Base):
    """A user's password, as an Argon2 hash (pwdlib)."""

    __tablename__ = "audit_credentials"
    user_id: Mapped[str] = mapped_column(ForeignKey("audit_users.user_id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(400))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[str] = mapped_column(String(64))


class ApiToken(Base):
    """A bearer token of the REST API (``gridaudit audit users token``); only its SHA-256 is kept."""

    __tablename__ = "audit_api_tokens"
    token_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("audit_users.user_id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A browser session: the SHA-256 of the random id in the cookie, its CSRF token and idle clock.
    ``user_id`` is None before login (the login form's CSRF token needs a session too)."""

    __tablename__ = "web_sessions"
    session_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("audit_users.user_id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class LoginFailure(Base):
    """One failed login, keyed by the SHA-256 of username and client address (for throttling)."""

    __tablename__ = "web_login_failures"
    failure_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
