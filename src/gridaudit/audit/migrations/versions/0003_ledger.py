"""The ledger: corrections as new rows, voids, one row per reply, booked assessments, append-only
tables refused UPDATE/DELETE by the database, and every existing row sealed in the trail.

Result amounts become nullable (not established at the check ≠ 0).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the columns and tables, the append-only triggers, and seal every row stored so far."""
    from sqlalchemy.orm import Session

    from gridaudit.audit import ledger

    with op.batch_alter_table("audit_results") as b:
        b.alter_column("recovered_kwh", existing_type=sa.Float, nullable=True)
        b.alter_column("recovered_yuan", existing_type=sa.Float, nullable=True)
        fk = sa.ForeignKey("audit_results.result_id", name="fk_audit_results_corrects")
        b.add_column(sa.Column("corrects_id", sa.Integer, fk))
    with op.batch_alter_table("audit_penalties") as b:
        fk = sa.ForeignKey("audit_penalties.penalty_id", name="fk_audit_penalties_corrects")
        b.add_column(sa.Column("corrects_id", sa.Integer, fk))
        b.add_column(sa.Column("duplicate_reason", sa.Text))
    op.create_table(
        "audit_replies",
        sa.Column("reply_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rect_id", sa.Integer, sa.ForeignKey("audit_rectifications.rect_id"), nullable=False, index=True),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("replied_on", sa.Date, nullable=False),
        sa.Column("replied_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.UniqueConstraint("rect_id", "round"),
    )
    op.create_table(
        "audit_voids",
        sa.Column("void_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("target_id", sa.Integer, nullable=False),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("audit_tasks.task_id"), nullable=False, index=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("voided_by", sa.String(64), nullable=False),
        sa.Column("voided_at", TS, nullable=False),
        sa.UniqueConstraint("target", "target_id"),
    )
    op.create_table(
        "audit_assessments",
        sa.Column("booking_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("month", sa.String(7), nullable=False, index=True),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("rows", sa.Text, nullable=False),
        sa.Column("totals", sa.Text, nullable=False),
        sa.Column("booked_by", sa.String(64), nullable=False),
        sa.Column("booked_at", TS, nullable=False),
        sa.Column("supersedes_id", sa.Integer, sa.ForeignKey("audit_assessments.booking_id")),
    )
    # the replies so far: the newest of each rectification is all the old schema kept
    op.execute(
        """INSERT INTO audit_replies (rect_id, round, text, replied_on, replied_by, recorded_at)
           SELECT r.rect_id, r.rounds, r.reply, r.replied_on, r.responsible_id, CURRENT_TIMESTAMP
           FROM audit_rectifications r WHERE r.reply IS NOT NULL AND r.replied_on IS NOT NULL"""
    )
    bind = op.get_bind()
    for table in ledger.APPEND_ONLY:
        for sql in ledger.trigger_sql(bind.dialect.name, table):
            op.execute(sql)
    session = Session(bind=bind)
    ledger.reseal_all(session, "gridaudit-migration-0003")
    session.flush()


def downgrade() -> None:
    """Drop the new tables and columns (only for throw-away stores)."""
    bind = op.get_bind()
    for table in ledger_tables():
        if bind.dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    op.drop_table("audit_assessments")
    op.drop_table("audit_voids")
    op.drop_table("audit_replies")
    with op.batch_alter_table("audit_penalties") as b:
        b.drop_column("duplicate_reason")
        b.drop_column("corrects_id")
    with op.batch_alter_table("audit_results") as b:
        b.drop_column("corrects_id")


def ledger_tables() -> tuple[str, ...]:
    """The tables that got append-only triggers."""
    from gridaudit.audit import ledger

    return ledger.APPEND_ONLY
