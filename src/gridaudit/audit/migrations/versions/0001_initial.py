"""Initial case store: users, plans, tasks, results, attachments, rectifications, verifications,
escalations, penalties, and the append-only hash-chained event log.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

SQLITE_TRIGGERS = [
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only / 稽查日志只能追加'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only / 稽查日志只能追加'); END""",
    """CREATE TRIGGER audit_log_head_no_delete BEFORE DELETE ON audit_log_head
       BEGIN SELECT RAISE(ABORT, 'audit_log_head cannot be deleted / 日志头不可删除'); END""",
]

PG_TRIGGERS = [
    """CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '% is append-only / 稽查日志只能追加', TG_TABLE_NAME; END $$""",
    """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
       FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
       FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()""",
    """CREATE TRIGGER audit_log_head_no_delete BEFORE DELETE ON audit_log_head
       FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
]


def upgrade() -> None:
    """Create every table and the append-only triggers."""
    op.create_table(
        "audit_users",
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("unit_id", sa.String(64)),
        sa.Column("staff_id", sa.String(64)),
        sa.Column("manager_id", sa.String(64)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(64)),
    )
    op.create_table(
        "audit_plans",
        sa.Column("plan_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("month", sa.String(7), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(400), nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "audit_tasks",
        sa.Column("task_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("audit_plans.plan_id"), nullable=False, index=True),
        sa.Column("finding_id", sa.String(64), nullable=False, unique=True),
        sa.Column("rule_id", sa.String(128), nullable=False),
        sa.Column("family", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("entity_type", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.String(128), nullable=False, index=True),
        sa.Column("unit_id", sa.String(64)),
        sa.Column("period", sa.String(16)),
        sa.Column("score", sa.Float),
        sa.Column("kwh_at_stake", sa.Float),
        sa.Column("yuan_at_stake", sa.Float),
        sa.Column("responsible_staff_id", sa.String(64)),
        sa.Column("evidence", sa.Text),
        sa.Column("priority", sa.Float, nullable=False),
        sa.Column("state", sa.String(32), nullable=False, index=True),
        sa.Column("assignee_id", sa.String(64), sa.ForeignKey("audit_users.user_id")),
        sa.Column("assignee_unit", sa.String(64)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "audit_results",
        sa.Column("result_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("audit_tasks.task_id"), nullable=False, index=True),
        sa.Column("check_kind", sa.String(8), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("violation_type", sa.String(32)),
        sa.Column("recovered_kwh", sa.Float, nullable=False),
        sa.Column("recovered_yuan", sa.Float, nullable=False),
        sa.Column("inspected_on", sa.Date, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
    )
    op.create_table(
        "audit_attachments",
        sa.Column("attachment_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("audit_tasks.task_id"), nullable=False, index=True),
        sa.Column("result_id", sa.Integer, sa.ForeignKey("audit_results.result_id")),
        sa.Column("filename", sa.String(400), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("added_at", TS, nullable=False),
    )
    op.create_table(
        "audit_rectifications",
        sa.Column("rect_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("audit_tasks.task_id"), nullable=False, unique=True),
        sa.Column("responsible_id", sa.String(64), sa.ForeignKey("audit_users.user_id"), nullable=False),
        sa.Column("ordered_by", sa.String(64), nullable=False),
        sa.Column("ordered_on", sa.Date, nullable=False),
        sa.Column("workdays", sa.Integer, nullable=False),
        sa.Column("deadline", sa.Date, nullable=False),
        sa.Column("requirement", sa.Text),
        sa.Column("reply", sa.Text),
        sa.Column("replied_on", sa.Date),
        sa.Column("rounds", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("accepted_on", sa.Date),
        sa.Column("on_time", sa.Boolean),
        sa.Column("escalated_on", sa.Date),
    )
    op.create_table(
        "audit_verifications",
        sa.Column("verification_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rect_id", sa.Integer, sa.ForeignKey("audit_rectifications.rect_id"), nullable=False, index=True),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("recheck_status", sa.String(16), nullable=False),
        sa.Column("recheck_detail", sa.Text),
        sa.Column("verified_by", sa.String(64), nullable=False),
        sa.Column("verified_at", TS, nullable=False),
    )
    op.create_table(
        "audit_escalations",
        sa.Column("escalation_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("audit_tasks.task_id"), nullable=False, index=True),
        sa.Column("rect_id", sa.Integer, sa.ForeignKey("audit_rectifications.rect_id"), nullable=False),
        sa.Column("manager_id", sa.String(64)),
        sa.Column("escalated_on", sa.Date, nullable=False),
        sa.Column("workdays_overdue", sa.Integer, nullable=False),
        sa.Column("escalated_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("rect_id", "escalated_on"),
    )
    op.create_table(
        "audit_penalties",
        sa.Column("penalty_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("audit_tasks.task_id"), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("schedule", sa.String(32), nullable=False),
        sa.Column("violation_date", sa.Date, nullable=False),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("backbill_kwh", sa.Float, nullable=False),
        sa.Column("backbill_yuan", sa.Float, nullable=False),
        sa.Column("penalty_yuan", sa.Float, nullable=False),
        sa.Column("formula", sa.Text, nullable=False),
        sa.Column("booked_by", sa.String(64), nullable=False),
        sa.Column("booked_at", TS, nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("seq", sa.Integer, nullable=False, unique=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("entity_type", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False, index=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_log_head",
        sa.Column("head_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(
        sa.table("audit_log_head", sa.column("head_id"), sa.column("seq"), sa.column("hash")),
        [{"head_id": 1, "seq": 0, "hash": "0" * 64}],
    )
    dialect = op.get_bind().dialect.name
    for sql in SQLITE_TRIGGERS if dialect == "sqlite" else PG_TRIGGERS if dialect == "postgresql" else []:
        op.execute(sql)


def downgrade() -> None:
    """Drop everything (the events go too: only for throw-away stores)."""
    dialect = op.get_bind().dialect.name
    for name in (
        "audit_log_head",
        "audit_events",
        "audit_penalties",
        "audit_escalations",
        "audit_verifications",
        "audit_rectifications",
        "audit_attachments",
        "audit_results",
        "audit_tasks",
        "audit_plans",
        "audit_users",
    ):
        op.drop_table(name)
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_refuse_change()")
