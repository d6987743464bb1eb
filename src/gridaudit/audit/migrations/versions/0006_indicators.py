"""Booked indicator assessments (考核结果): runs, values and standings; append-only and sealed.

Revision ID: 0006
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
TABLES = ("audit_indicator_runs", "audit_indicator_values", "audit_indicator_standings")


def upgrade() -> None:
    """Create the three tables and their append-only triggers (new tables: no existing row to reseal)."""
    from gridaudit.audit import ledger

    op.create_table(
        "audit_indicator_runs",
        sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("month", sa.String(7), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("utility", sa.String(200), nullable=False),
        sa.Column("method_effective", sa.String(7), nullable=False),
        sa.Column("method_sha256", sa.String(64), nullable=False),
        sa.Column("catalog_sha256", sa.String(64), nullable=False),
        sa.Column("dataset_version", sa.String(64)),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("booked_by", sa.String(64), nullable=False),
        sa.Column("booked_at", TS, nullable=False),
        sa.Column("supersedes_id", sa.Integer, sa.ForeignKey("audit_indicator_runs.run_id")),
    )
    op.create_table(
        "audit_indicator_values",
        sa.Column("value_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("audit_indicator_runs.run_id"), nullable=False, index=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(128), nullable=False),
        sa.Column("indicator_id", sa.String(64), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("num", sa.Float, nullable=False),
        sa.Column("den", sa.Float, nullable=False),
        sa.Column("items", sa.Integer, nullable=False),
        sa.Column("target", sa.Float),
        sa.Column("weight", sa.Float),
        sa.Column("points", sa.Float),
        sa.Column("rule", sa.Text),
    )
    op.create_table(
        "audit_indicator_standings",
        sa.Column("standing_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("audit_indicator_runs.run_id"), nullable=False, index=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("points", sa.Float, nullable=False),
        sa.Column("possible", sa.Float, nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("rank", sa.Integer),
        sa.Column("prev_score", sa.Float),
        sa.Column("prev_rank", sa.Integer),
    )
    bind = op.get_bind()
    for table in TABLES:
        for sql in ledger.trigger_sql(bind.dialect.name, table):
            op.execute(sql)


def downgrade() -> None:
    """Drop the three tables (only for throw-away stores)."""
    bind = op.get_bind()
    for table in reversed(TABLES):
        if bind.dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        op.drop_table(table)
