"""Findings periods may be ranges ("2024-01..2024-06"): widen audit_tasks.period to 64 characters.

SQLite does not enforce VARCHAR lengths, so only PostgreSQL needs the change.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Widen the column."""
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("audit_tasks", "period", type_=sa.String(64), existing_type=sa.String(16))


def downgrade() -> None:
    """Narrow it again (fails if longer values are stored)."""
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("audit_tasks", "period", type_=sa.String(16), existing_type=sa.String(64))
