"""The evidence pack's model (dataclasses), the way its numbers are printed and the labels it uses.

Built by :func:`gridaudit.reports.evidence.build_evidence`, laid out by :mod:`gridaudit.reports.evidence_render`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gridaudit.i18n import Text

Value = str | Text


@dataclass(frozen=True)
class Item:
    """One labelled value (a row of a two-column list)."""

    label: Text
    value: Value


@dataclass
class Table:
    """A table with bilingual headers; cells are ready to print."""

    title: Text
    columns: list[Text]
    rows: list[list[Value]]
    note: Text | None = None


@dataclass
class DailySeries:
    """Daily use (kWh, multiplier applied) of the meters concerned, with their events, for the chart."""

    days: list[str]
    kwh: list[float]
    events: list[dict[str, Any]]  # meter events: ts, event_type (code), ended_at, detail
    window: tuple[str, str] | None  # the finding's period (first and last day), shaded


@dataclass
class RuleSection:
    """What rule fired: its texts, legal basis and the parameter values used."""

    rule_id: str
    title: Text
    description: Text
    basis: str
    params: Table
    params_source: Text


@dataclass
class PenaltySection:
    """One penalty booking with its calculation and legal basis."""

    penalty_id: int
    kind: Text
    schedule: Text
    article: Text
    violation_date: str
    inputs: list[Item]
    backbill_kwh: float
    backbill_yuan: float
    penalty_yuan: float
    total_yuan: float
    formula: Text
    booked_by: str
    booked_at: str
    void: Text | None = None  # why it no longer counts, when voided


@dataclass(frozen=True)
class TimelineEntry:
    """One event of the task's trail: when, who (name), what."""

    at: str
    who: str
    action: Text
    detail: str


@dataclass
class EvidencePack:
    """Everything the evidence pack of one task shows."""

    task_id: int
    title: Text
    generated_at: str
    generated_by: str
    task: list[Item]
    finding: list[Item]
    finding_evidence: list[Item]
    rule: RuleSection
    subject: list[Item] = field(default_factory=list)
    readings: Table | None = None
    bills: Table | None = None
    events: Table | None = None
    seals: Table | None = None
    daily: DailySeries | None = None
    area_loss: Table | None = None
    risk: list[Item] = field(default_factory=list)
    results: Table | None = None
    attachments: Table | None = None
    rectification: list[Item] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    penalties: list[PenaltySection] = field(default_factory=list)
    money: list[Item] = field(default_factory=list)
    notes: list[Text] = field(default_factory=list)


def yuan(value: float | None) -> str:
    """Money as printed in the pack: ``1,234.56``; empty as ``-``."""
    return "-" if value is None else f"{value:,.2f}"


def kwh(value: float | None) -> str:
    """Energy as printed in the pack: ``1,234.5``; empty as ``-``."""
    return "-" if value is None else f"{value:,.1f}"


def plain(value: Any) -> str:
    """A scalar as printed: floats to at most 4 decimals, lists and dicts as compact JSON, None as ``-``."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def when(value: Any) -> str:
    """A stored timestamp (datetime or ISO text) as ``YYYY-MM-DD HH:MM:SS UTC``."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# analyzers whose findings come from code, not a rule file: what they do (titles: ``reports.labels.rule``;
# the run's settings are the parameters)
ANALYZER_TEXTS: dict[str, Text] = {
    "loss": Text(
        "线损分析：台区供电量与售电量之差（线损率）落在异常区间；负线损可能由户变关系错误引起（见证据）。",
        "Line-loss analysis: the area's supply minus sales (line-loss rate) falls in an abnormal band; a negative "
        "loss may come from wrong customer-to-area mapping (see the evidence).",
    ),
    "risk": Text(
        "窃电风险模型按用户用电特征打分，证据给出贡献最大的特征。",
        "The theft-risk model scores each customer from usage features; the evidence names the largest contributions.",
    ),
}
