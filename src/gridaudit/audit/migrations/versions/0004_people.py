"""People and units: users can be deactivated (``audit_users.active``), and the unit tree of a dataset is
copied into the store (``audit_units``) so that unit scope covers a unit and the units under it.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add audit_users.active (existing users stay active) and create audit_units."""
    with op.batch_alter_table("audit_users") as batch:
        batch.add_column(sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()))
    op.create_table(
        "audit_units",
        sa.Column("unit_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("parent_id", sa.String(64), index=True),
        sa.Column("level", sa.String(32)),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
    )
    # audit_users gained a column: its rows' digests change, so seal every row again (see ledger)
    from sqlalchemy.orm import Session

    from gridaudit.audit import ledger

    session = Session(bind=op.get_bind())
    ledger.reseal_all(session, "gridaudit-migration-0004")
    session.flush()


def downgrade() -> None:
    """Drop audit_units and audit_users.active."""
    op.drop_table("audit_units")
    with op.batch_alter_table("audit_users") as batch:
        batch.drop_column("active")
