"""Booked indicator assessments in the case store (考核结果): sealed by the ledger, append-only.

A booking is one ``audit_indicator_runs`` row (month, version, the method and catalogue hashes, who and
when) with its values (``audit_indicator_values``) and standings (``audit_indicator_standings``). A later
booking of the same month is a new version that supersedes the earlier one, which stays visible.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gridaudit.audit.models import Base

APPEND_ONLY = ("audit_indicator_runs", "audit_indicator_values", "audit_indicator_standings")


class IndicatorRun(Base):
    """One booked indicator assessment of a month (a version; a re-booking supersedes it)."""

    __tablename__ = "audit_indicator_runs"
    run_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    version: Mapped[int] = mapped_column(Integer)
    utility: Mapped[str] = mapped_column(String(200))
    method_effective: Mapped[str] = mapped_column(String(7))
    method_sha256: Mapped[str] = mapped_column(String(64))
    catalog_sha256: Mapped[str] = mapped_column(String(64))
    dataset_version: Mapped[str | None] = mapped_column(String(64))
    as_of: Mapped[date] = mapped_column(Date)
    booked_by: Mapped[str] = mapped_column(String(64))
    booked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("audit_indicator_runs.run_id"))


class IndicatorValue(Base):
    """One indicator value of a booked assessment, with its target, weight and points."""

    __tablename__ = "audit_indicator_values"
    value_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_indicator_runs.run_id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(128))
    indicator_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    num: Mapped[float] = mapped_column(Float)
    den: Mapped[float] = mapped_column(Float)
    items: Mapped[int] = mapped_column(Integer)
    target: Mapped[float | None] = mapped_column(Float)
    weight: Mapped[float | None] = mapped_column(Float)
    points: Mapped[float | None] = mapped_column(Float)
    rule: Mapped[str | None] = mapped_column(Text)


class IndicatorStanding(Base):
    """One entity's total and rank in a booked assessment."""

    __tablename__ = "audit_indicator_standings"
    standing_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_indicator_runs.run_id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(200))
    points: Mapped[float] = mapped_column(Float)
    possible: Mapped[float] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    prev_score: Mapped[float | None] = mapped_column(Float)
    prev_rank: Mapped[int | None] = mapped_column(Integer)
