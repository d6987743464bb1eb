"""Tip-offs and rewards (举报奖励): tips, their reporters (apart), proposed rewards and their approvals.

The reward tables are append-only (database triggers, as migration 0003 does for results and penalties);
all four are ``audit_*`` tables, so the ledger seals their rows.

Revision ID: 0007_tips
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_tips"
down_revision = "0005_web"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the tip tables and the append-only triggers of the reward tables."""
    from gridaudit.audit import ledger
    from gridaudit.tips.models import APPEND_ONLY

    op.create_table(
        "audit_tips",
        sa.Column("tip_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tip_key", sa.String(64), nullable=False, unique=True),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_ref", sa.String(400)),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("customer_id", sa.String(64), index=True),
        sa.Column("unit_id", sa.String(64)),
        sa.Column("candidates", sa.Text),
        sa.Column("finding_id", sa.String(64), index=True),
        sa.Column("entered_by", sa.String(64), nullable=False),
        sa.Column("entered_at", TS, nullable=False),
        sa.Column("matched_by", sa.String(64)),
        sa.Column("matched_at", TS),
    )
    op.create_table(
        "audit_tip_reporters",
        sa.Column("tip_id", sa.Integer, sa.ForeignKey("audit_tips.tip_id"), primary_key=True),
        sa.Column("contact", sa.Text, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
    )
    op.create_table(
        "audit_tip_rewards",
        sa.Column("reward_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tip_id", sa.Integer, sa.ForeignKey("audit_tips.tip_id"), nullable=False, index=True),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("audit_tasks.task_id"), nullable=False, index=True),
        sa.Column("basis_yuan", sa.Float, nullable=False),
        sa.Column("share", sa.Float, nullable=False),
        sa.Column("cap_yuan", sa.Float, nullable=False),
        sa.Column("amount_yuan", sa.Float, nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("formula", sa.Text, nullable=False),
        sa.Column("proposed_by", sa.String(64), nullable=False),
        sa.Column("proposed_at", TS, nullable=False),
    )
    op.create_table(
        "audit_tip_reward_approvals",
        sa.Column("approval_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("reward_id", sa.Integer, sa.ForeignKey("audit_tip_rewards.reward_id"), nullable=False, unique=True),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("decided_at", TS, nullable=False),
    )
    bind = op.get_bind()
    for table in APPEND_ONLY:
        for sql in ledger.trigger_sql(bind.dialect.name, table):
            op.execute(sql)


def downgrade() -> None:
    """Drop the tip tables (only for throw-away stores)."""
    from gridaudit.tips.models import APPEND_ONLY

    bind = op.get_bind()
    for table in APPEND_ONLY:
        if bind.dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    for table in ("audit_tip_reward_approvals", "audit_tip_rewards", "audit_tip_reporters", "audit_tips"):
        op.drop_table(table)
