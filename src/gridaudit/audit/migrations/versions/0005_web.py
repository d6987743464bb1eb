"""The web app: passwords (Argon2 hashes) and API tokens (their SHA-256 only) of the case store's users, both
sealed by the ledger (``audit_`` tables); the browser sessions and failed logins, not sealed (``web_`` tables:
they change on every request and hold nothing the audit depends on).

Revision ID: 0005_web
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_web"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create audit_credentials, audit_api_tokens, web_sessions and web_login_failures (new tables only: no
    existing row changes, so nothing needs sealing again)."""
    op.create_table(
        "audit_credentials",
        sa.Column("user_id", sa.String(64), sa.ForeignKey("audit_users.user_id"), primary_key=True),
        sa.Column("password_hash", sa.String(400), nullable=False),
        sa.Column("changed_at", TS, nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_api_tokens",
        sa.Column("token_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("audit_users.user_id"), nullable=False, index=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("revoked_at", TS),
    )
    op.create_table(
        "web_sessions",
        sa.Column("session_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("audit_users.user_id"), index=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False, index=True),
    )
    op.create_table(
        "web_login_failures",
        sa.Column("failure_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key_hash", sa.String(64), nullable=False, index=True),
        sa.Column("at", TS, nullable=False),
    )


def downgrade() -> None:
    """Drop the four tables."""
    for table in ("web_login_failures", "web_sessions", "audit_api_tokens", "audit_credentials"):
        op.drop_table(table)
