"""Case-store tables of tip-offs (举报) and their rewards (举报奖励), created by migration 0007_tips.

* ``audit_tips``: one row per tip — subject, what was reported, channel, date, how it was matched to a
  customer and the finding it became. Never the reporter.
* ``audit_tip_reporters``: the reporter's contact, apart, one row per tip that has one; read only through
  ``gridaudit.tips.privacy`` (audit lead only, every look an audit-trail event).
* ``audit_tip_rewards`` and ``audit_tip_reward_approvals``: a proposed reward and the second person's
  decision; both append-only (database triggers) and sealed in the ledger like every ``audit_*`` table.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gridaudit.audit.models import Base

APPEND_ONLY = ("audit_tip_rewards", "audit_tip_reward_approvals")


class Tip(Base):
    """A tip-off: what was reported about whom, through which channel, and what it was matched to."""

    __tablename__ = "audit_tips"
    tip_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tip_key: Mapped[str] = mapped_column(String(64), unique=True)  # dedup: the same tip entered twice
    received_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))
    subject_kind: Mapped[str] = mapped_column(String(16))  # customer / meter / address / area
    subject: Mapped[str] = mapped_column(Text)  # canonical JSON: the subject fields as given
    description: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))  # cli / web / file / work_order
    source_ref: Mapped[str | None] = mapped_column(String(400))
    status: Mapped[str] = mapped_column(String(16), index=True)  # matched / ambiguous / unknown
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    unit_id: Mapped[str | None] = mapped_column(String(64))  # the matched customer's unit (unit scope)
    candidates: Mapped[str | None] = mapped_column(Text)  # canonical JSON list, when ambiguous
    finding_id: Mapped[str | None] = mapped_column(String(64), index=True)
    entered_by: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    matched_by: Mapped[str | None] = mapped_column(String(64))
    matched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TipReporter(Base):
    """Who reported a tip (contact as given); stored apart, shown to the audit lead only."""

    __tablename__ = "audit_tip_reporters"
    tip_id: Mapped[int] = mapped_column(ForeignKey("audit_tips.tip_id"), primary_key=True)
    contact: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TipReward(Base):
    """A reward proposed for a tip whose task was confirmed: the amount and how it was computed."""

    __tablename__ = "audit_tip_rewards"
    reward_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("audit_tips.tip_id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("audit_tasks.task_id"), index=True)
    basis_yuan: Mapped[float] = mapped_column(Float)  # recovered back-billing the share applies to
    share: Mapped[float] = mapped_column(Float)
    cap_yuan: Mapped[float] = mapped_column(Float)
    amount_yuan: Mapped[float] = mapped_column(Float)
    effective_from: Mapped[date] = mapped_column(Date)  # the version of the reward setting used
    formula: Mapped[str] = mapped_column(Text)
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TipRewardApproval(Base):
    """The second person's decision on a proposed reward (approve / reject)."""

    __tablename__ = "audit_tip_reward_approvals"
    approval_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("audit_tip_rewards.reward_id"), unique=True)
    decision: Mapped[str] = mapped_column(String(8))  # approve / reject
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def approved_rewards_by_task(session: Any, task_ids: list[int]) -> dict[int, float]:
    """task_id → yuan of its approved tip rewards (what the assessment shows)."""
    from sqlalchemy import select

    if not task_ids:
        return {}
    q = (
        select(TipReward.task_id, TipReward.amount_yuan)
        .join(TipRewardApproval, TipRewardApproval.reward_id == TipReward.reward_id)
        .where(TipRewardApproval.decision == "approve", TipReward.task_id.in_(task_ids))
    )
    out: dict[int, float] = {}
    for tid, amount in session.execute(q):
        out[tid] = round(out.get(tid, 0.0) + amount, 2)
    return out
