"""Case-store tables (SQLAlchemy 2 typed ORM). The schema itself is created by the alembic migrations
shipped in ``gridaudit/audit/migrations``; these classes must match them (a test compares both)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the case store."""


class User(Base):
    """A person using the audit loop, with one role (see ``roles.ROLES``)."""

    __tablename__ = "audit_users"
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[str | None] = mapped_column(String(64))
    staff_id: Mapped[str | None] = mapped_column(String(64))  # the dataset's staff.staff_id, for segregation
    manager_id: Mapped[str | None] = mapped_column(String(64))  # who overdue items escalate to
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(64))
    # migration 0004: a deactivated user cannot act but stays in history
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class Unit(Base):
    """A unit of the utility's tree, copied from a dataset's ``units`` table (``audit units sync``)."""

    __tablename__ = "audit_units"
    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    level: Mapped[str | None] = mapped_column(String(32))
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Plan(Base):
    """A monthly audit plan (月度稽查计划): month, kind, scope and targets."""

    __tablename__ = "audit_plans"
    plan_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # comprehensive / special
    title: Mapped[str] = mapped_column(String(400))
    scope: Mapped[str] = mapped_column(Text)  # JSON: units, families, rules, top
    source: Mapped[str] = mapped_column(Text)  # JSON: findings file, sha256, rows read
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Task(Base):
    """One finding under audit; ``state`` moves only through ``workflow.TRANSITIONS``."""

    __tablename__ = "audit_tasks"
    task_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("audit_plans.plan_id"), index=True)
    finding_id: Mapped[str] = mapped_column(String(64), unique=True)
    rule_id: Mapped[str] = mapped_column(String(128))
    family: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(128), index=True)
    unit_id: Mapped[str | None] = mapped_column(String(64))
    period: Mapped[str | None] = mapped_column(String(64))  # YYYY-MM or a range (migration 0002)
    score: Mapped[float | None] = mapped_column(Float)
    kwh_at_stake: Mapped[float | None] = mapped_column(Float)
    yuan_at_stake: Mapped[float | None] = mapped_column(Float)
    responsible_staff_id: Mapped[str | None] = mapped_column(String(64))
    evidence: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(32), index=True)
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("audit_users.user_id"))
    assignee_unit: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}


class Result(Base):
    """A desk or field outcome of a task (核查结果)."""

    __tablename__ = "audit_results"
    result_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("audit_tasks.task_id"), index=True)
    check_kind: Mapped[str] = mapped_column(String(8))  # desk / field
    outcome: Mapped[str] = mapped_column(String(16))  # theft / violation / irregular / normal
    violation_type: Mapped[str | None] = mapped_column(String(32))
    recovered_kwh: Mapped[float | None] = mapped_column(Float)  # None: not established at the check
    recovered_yuan: Mapped[float | None] = mapped_column(Float)
    inspected_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    corrects_id: Mapped[int | None] = mapped_column(  # the result it replaces
        ForeignKey("audit_results.result_id", name="fk_audit_results_corrects")
    )


class Attachment(Base):
    """A file attached to a result, stored content-addressed by sha256."""

    __tablename__ = "audit_attachments"
    attachment_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("audit_tasks.task_id"), index=True)
    result_id: Mapped[int | None] = mapped_column(ForeignKey("audit_results.result_id"))
    filename: Mapped[str] = mapped_column(String(400))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Rectification(Base):
    """A rectification order (整改): who fixes it, by when, their reply and the auditor's verdicts."""

    __tablename__ = "audit_rectifications"
    rect_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("audit_tasks.task_id"), unique=True)
    responsible_id: Mapped[str] = mapped_column(ForeignKey("audit_users.user_id"))
    ordered_by: Mapped[str] = mapped_column(String(64))
    ordered_on: Mapped[date] = mapped_column(Date)
    workdays: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[date] = mapped_column(Date)
    requirement: Mapped[str | None] = mapped_column(Text)
    reply: Mapped[str | None] = mapped_column(Text)
    replied_on: Mapped[date | None] = mapped_column(Date)
    rounds: Mapped[int] = mapped_column(Integer, default=0)  # replies so far
    status: Mapped[str] = mapped_column(String(16))  # open / replied / rejected / accepted
    accepted_on: Mapped[date | None] = mapped_column(Date)
    on_time: Mapped[bool | None] = mapped_column()
    escalated_on: Mapped[date | None] = mapped_column(Date)


class Verification(Base):
    """One verdict of an auditor on a rectification reply, with the data re-check."""

    __tablename__ = "audit_verifications"
    verification_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rect_id: Mapped[int] = mapped_column(ForeignKey("audit_rectifications.rect_id"), index=True)
    decision: Mapped[str] = mapped_column(String(8))  # accept / reject
    reason: Mapped[str | None] = mapped_column(Text)
    recheck_status: Mapped[str] = mapped_column(String(16))  # clear / recurs / unavailable
    recheck_detail: Mapped[str | None] = mapped_column(Text)
    verified_by: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Escalation(Base):
    """An overdue rectification escalated to a manager (超期升级)."""

    __tablename__ = "audit_escalations"
    escalation_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("audit_tasks.task_id"), index=True)
    rect_id: Mapped[int] = mapped_column(ForeignKey("audit_rectifications.rect_id"))
    manager_id: Mapped[str | None] = mapped_column(String(64))
    escalated_on: Mapped[date] = mapped_column(Date)
    workdays_overdue: Mapped[int] = mapped_column(Integer)
    escalated_by: Mapped[str] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("rect_id", "escalated_on"),)


class Penalty(Base):
    """A back-billing and penalty calculation booked against a task."""

    __tablename__ = "audit_penalties"
    penalty_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("audit_tasks.task_id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    schedule: Mapped[str] = mapped_column(String(32))
    violation_date: Mapped[date] = mapped_column(Date)
    inputs: Mapped[str] = mapped_column(Text)  # JSON
    backbill_kwh: Mapped[float] = mapped_column(Float)
    backbill_yuan: Mapped[float] = mapped_column(Float)
    penalty_yuan: Mapped[float] = mapped_column(Float)
    formula: Mapped[str] = mapped_column(Text)
    booked_by: Mapped[str] = mapped_column(String(64))
    booked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    corrects_id: Mapped[int | None] = mapped_column(  # the penalty it replaces
        ForeignKey("audit_penalties.penalty_id", name="fk_audit_penalties_corrects")
    )
    duplicate_reason: Mapped[str | None] = mapped_column(Text)  # why an identical booking is intended


class Reply(Base):
    """One reply of the rectifier (整改回复), a row per round; the rectification keeps the newest."""

    __tablename__ = "audit_replies"
    reply_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rect_id: Mapped[int] = mapped_column(ForeignKey("audit_rectifications.rect_id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    replied_on: Mapped[date] = mapped_column(Date)
    replied_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (UniqueConstraint("rect_id", "round"),)


class Void(Base):
    """A result or penalty voided with a reason (作废). The voided row stays; it no longer counts."""

    __tablename__ = "audit_voids"
    void_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target: Mapped[str] = mapped_column(String(16))  # result / penalty
    target_id: Mapped[int] = mapped_column(Integer)
    task_id: Mapped[int] = mapped_column(ForeignKey("audit_tasks.task_id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    voided_by: Mapped[str] = mapped_column(String(64))
    voided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (UniqueConstraint("target", "target_id"),)


class AssessmentBooking(Base):
    """A month's assessment as booked (考核结果发布): the figures frozen as JSON; a re-booking supersedes it."""

    __tablename__ = "audit_assessments"
    booking_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    as_of: Mapped[date] = mapped_column(Date)
    rows: Mapped[str] = mapped_column(Text)  # canonical JSON: one object per staff member / unit
    totals: Mapped[str] = mapped_column(Text)  # canonical JSON: the money and counts of the whole month
    booked_by: Mapped[str] = mapped_column(String(64))
    booked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("audit_assessments.booking_id"))


class Event(Base):
    """One audit-trail event; append-only and chained by hash (see ``trail``)."""

    __tablename__ = "audit_events"
    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[str] = mapped_column(String(40))  # ISO UTC timestamp, part of the hashed text
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    entity_type: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class LogHead(Base):
    """The last event's seq and hash: catches deletion of the newest events."""

    __tablename__ = "audit_log_head"
    head_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
