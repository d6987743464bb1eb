"""Filtering and summarising findings: the functions ``gridaudit findings`` and the web app share.

Every function takes and returns Arrow tables of the findings shape, optionally widened by ``unit_id``
(:func:`with_units`) and ``audit_status`` (:func:`with_status`); nothing here prints or reads arguments.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gridaudit.i18n import both

AUDIT_STATUSES = ("new", "under_audit", "closed")
STATUS_TEXT = {"new": ("未立案", "new"), "under_audit": ("稽查中", "under audit"), "closed": ("已办结", "closed")}
FAMILY_TEXT = {
    "reading": ("抄表", "meter reading"), "billing": ("核算", "billing"), "tariff": ("电价", "tariff"),
    "collection": ("收费", "collection"), "process": ("业扩流程", "service process"), "metering": ("计量", "metering"),
    "seal": ("封印", "seals"), "contract": ("违约用电", "contract violation"), "theft": ("窃电", "theft"),
    "loss": ("线损", "line loss"),
}  # fmt: skip
SEVERITY_TEXT = {
    "low": ("低", "low"), "medium": ("中", "medium"), "high": ("高", "high"), "critical": ("严重", "critical"),
}  # fmt: skip
MONTH = r"\d{4}-(?:0[1-9]|1[0-2])"
SUMMARY_KEYS = ("analyzer", "family", "rule_id", "severity", "entity_type", "period", "unit_id", "audit_status",
                "run_id", "responsible_staff_id")  # fmt: skip


class QueryError(ValueError):
    """A filter value that cannot be used (bilingual message naming the value)."""


@dataclass(frozen=True)
class TaskRef:
    """A task made from a finding, as the findings views show it."""

    task_id: int
    plan_id: int
    state: str
    assignee_id: str | None


@dataclass
class FindingFilter:
    """Which findings to keep; an empty field keeps everything.

    ``entity_ids`` match ``entity_id`` (with ``entity_types`` if given); ``staff`` matches the responsible staff
    or a staff entity; ``units`` match :func:`with_units`'s ``unit_id``, ``areas`` :func:`with_areas`'s
    ``area_id``; ``period`` is ``YYYY-MM`` or ``YYYY-MM..YYYY-MM`` and keeps findings whose period overlaps it;
    ``statuses`` need :func:`with_status`.
    """

    entity_types: list[str] = field(default_factory=list)
    entity_ids: list[str] = field(default_factory=list)
    staff: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    families: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    severities: list[str] = field(default_factory=list)
    period: str | None = None
    statuses: list[str] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)


def bad_values(flt: FindingFilter) -> list[tuple[str, list[str], tuple[str, ...]]]:
    """(field, values outside its domain, known values) for each of ``flt``'s coded filters (entity_types,
    families, severities, statuses) holding an unknown value; the CLI and the web app word the error."""
    from gridaudit.findings.shape import ENTITY_TYPES, FAMILIES, SEVERITIES

    out: list[tuple[str, list[str], tuple[str, ...]]] = []
    domains: list[tuple[str, list[str], tuple[str, ...]]] = [
        ("entity_types", flt.entity_types, ENTITY_TYPES),
        ("families", flt.families, FAMILIES),
        ("severities", flt.severities, SEVERITIES),
        ("statuses", flt.statuses, AUDIT_STATUSES),
    ]
    for name, values, known in domains:
        bad = [v for v in values if v not in known]
        if bad:
            out.append((name, bad, known))
    return out


def period_range(text: str) -> tuple[str, str]:
    """``YYYY-MM`` or ``YYYY-MM..YYYY-MM`` → (first, last) month; anything else is a QueryError."""
    m = re.fullmatch(rf"({MONTH})(?:\.\.({MONTH}))?", text.strip())
    if not m:
        raise QueryError(
            both(
                f"期间应为 YYYY-MM 或 YYYY-MM..YYYY-MM：{text!r}",
                f"period must be YYYY-MM or YYYY-MM..YYYY-MM: {text!r}",
            )
        )
    lo, hi = m.group(1), m.group(2) or m.group(1)
    if hi < lo:
        raise QueryError(both(f"期间结束早于开始：{text!r}", f"period ends before it starts: {text!r}"))
    return lo, hi


def period_span(period: str | None) -> tuple[str, str] | None:
    """The first and last month a finding's period names (``2024-06``, ``2024-01..2024-06``), or None."""
    months = re.findall(MONTH, period or "")
    return (min(months), max(months)) if months else None


def audit_status(states: list[str]) -> str:
    """new (no task), under_audit (a task in an open state) or closed (every task closed or cancelled)."""
    from gridaudit.audit.workflow import OPEN_STATES

    if not states:
        return "new"
    return "under_audit" if any(s in OPEN_STATES for s in states) else "closed"


def evidence_units(table: pa.Table) -> list[str | None]:
    """``unit_id`` from each row's evidence (None where the evidence names none)."""
    return evidence_values(table, "unit_id")


def evidence_values(table: pa.Table, key: str) -> list[str | None]:
    """The evidence's ``key`` of each row, as text (None where the evidence names none)."""
    ev = table.column("evidence")
    has = pc.fill_null(pc.match_substring(ev, f'"{key}"'), False).to_numpy(zero_copy_only=False)
    out: list[str | None] = [None] * table.num_rows
    values = ev.to_pylist() if has.any() else []
    for i in np.flatnonzero(has).tolist():
        try:
            u = json.loads(values[i]).get(key)
        except (json.JSONDecodeError, AttributeError):
            continue
        out[i] = None if u is None else str(u)
    return out


def with_units(table: pa.Table, unit_map: Mapping[tuple[str, str], str] | None) -> pa.Table:
    """``table`` plus ``unit_id``: the evidence's unit, else the entity's unit in the dataset (``unit_map`` from
    ``gridaudit.audit.plans.entity_units``)."""
    units = evidence_units(table)
    if unit_map:
        types = table.column("entity_type").to_pylist()
        ids = table.column("entity_id").to_pylist()
        units = [u if u is not None else unit_map.get((t, str(e))) for u, t, e in zip(units, types, ids, strict=True)]
    return _set(table, "unit_id", pa.array(units, pa.string()))


def with_areas(table: pa.Table, area_map: Mapping[tuple[str, str], str] | None) -> pa.Table:
    """``table`` plus ``area_id`` (台区): the evidence's area, else the entity itself for an area finding, else the
    entity's area in the dataset (``area_map`` from ``gridaudit.audit.findings_view.entity_areas``)."""
    areas = evidence_values(table, "area_id")
    types = table.column("entity_type").to_pylist()
    ids = table.column("entity_id").to_pylist()
    for i, (a, t, e) in enumerate(zip(areas, types, ids, strict=True)):
        if a is None:
            areas[i] = str(e) if t == "area" else (area_map or {}).get((t, str(e)))
    return _set(table, "area_id", pa.array(areas, pa.string()))


def with_status(table: pa.Table, tasks: Mapping[str, list[TaskRef]]) -> pa.Table:
    """``table`` plus ``audit_status`` from the tasks made of each finding (``tasks``: finding_id → tasks)."""
    # every finding without a task is "new": only those with tasks (a few thousand at most) are looked at
    keys = [f for f in tasks if tasks[f]]
    per_key = pa.array([audit_status([t.state for t in tasks[f]]) for f in keys] + ["new"], pa.string())
    where = pc.index_in(table.column("finding_id"), value_set=pa.array(keys, pa.string()))
    statuses = pc.take(per_key, pc.fill_null(where, len(keys)))
    return _set(table, "audit_status", statuses)


def _set(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    if name in table.column_names:
        return table.set_column(table.schema.get_field_index(name), name, values)
    return table.append_column(name, values)


def _isin(table: pa.Table, column: str, values: list[str]) -> pa.ChunkedArray:
    return pc.fill_null(pc.is_in(table.column(column), value_set=pa.array(values, pa.string())), False)


def filter_findings(table: pa.Table, flt: FindingFilter) -> pa.Table:
    """The rows of ``table`` that pass ``flt`` (``units`` needs ``unit_id``, ``statuses`` needs ``audit_status``)."""
    mask = pa.array(np.ones(table.num_rows, dtype=bool))
    for column, values in (
        ("entity_type", flt.entity_types),
        ("entity_id", flt.entity_ids),
        ("family", flt.families),
        ("rule_id", flt.rules),
        ("severity", flt.severities),
    ):
        if values:
            mask = pc.and_(mask, _isin(table, column, values))
    if flt.staff:
        staff_entity = pc.and_(_isin(table, "entity_id", flt.staff), pc.equal(table.column("entity_type"), "staff"))
        mask = pc.and_(mask, pc.or_(_isin(table, "responsible_staff_id", flt.staff), pc.fill_null(staff_entity, False)))
    for column, values, needs in (
        ("unit_id", flt.units, "with_units"),
        ("area_id", flt.areas, "with_areas"),
        ("audit_status", flt.statuses, "with_status"),
    ):
        if values:
            if column not in table.column_names:
                raise QueryError(
                    both(f"按 {column} 筛选需先调用 {needs}()", f"filter on {column} needs {needs}() first")
                )
            mask = pc.and_(mask, _isin(table, column, values))
    if flt.period:
        mask = pc.and_(mask, period_mask(table.column("period"), flt.period))
    return table.filter(mask)


def period_mask(periods: pa.ChunkedArray | pa.Array, period: str) -> pa.ChunkedArray | pa.Array:
    """Which ``periods`` (finding periods) overlap ``period`` (a month or ``A..B``); each distinct value is
    read once (a findings table holds few distinct periods), so this stays fast on a million findings."""
    lo, hi = period_range(period)
    kept = []
    for p in pc.unique(periods).to_pylist():
        span = period_span(p)
        if span is not None and span[0] <= hi and span[1] >= lo:
            kept.append(p)
    return pc.fill_null(pc.is_in(periods, value_set=pa.array(kept, periods.type)), False)


def sort_findings(table: pa.Table) -> pa.Table:
    """Money at stake first (largest ¥, unknown last), then finding_id: a stable order for lists."""
    if table.num_rows == 0:
        return table
    keys = pa.table(
        {"y": pc.fill_null(table.column("yuan_at_stake"), -np.inf), "f": table.column("finding_id")}
    )  # unknown ¥ sorts last
    return table.take(pc.sort_indices(keys, sort_keys=[("y", "descending"), ("f", "ascending")]))


def summarize(table: pa.Table, by: list[str]) -> list[dict[str, Any]]:
    """One row per combination of ``by`` columns: findings, ¥ and kWh at stake, findings whose ¥ is unknown."""
    unknown = [k for k in by if k not in table.column_names]
    if unknown:
        raise QueryError(
            both(
                f"无法按 {', '.join(unknown)} 汇总（可用：{', '.join(SUMMARY_KEYS)}）",
                f"cannot summarise by {', '.join(unknown)} (known: {', '.join(SUMMARY_KEYS)})",
            )
        )
    t = table.append_column("_unknown", pc.cast(pc.is_null(table.column("yuan_at_stake")), pa.int64()))
    grouped = t.group_by(by).aggregate(
        [
            ("finding_id", "count"),
            ("yuan_at_stake", "sum"),
            ("kwh_at_stake", "sum"),
            ("_unknown", "sum"),
        ]
    )
    rows = []
    for r in grouped.to_pylist():
        rows.append(
            {
                **{k: r[k] for k in by},
                "findings": r["finding_id_count"],
                "yuan_at_stake": round(r["yuan_at_stake_sum"] or 0.0, 2),
                "kwh_at_stake": round(r["kwh_at_stake_sum"] or 0.0, 1),
                "money_unknown": r["_unknown_sum"] or 0,
            }
        )
    rows.sort(key=lambda r: (-r["yuan_at_stake"], -r["findings"], [str(r[k]) for k in by]))
    return rows


def with_analyzer(table: pa.Table, analyzer_of_run: Mapping[str, str]) -> pa.Table:
    """``table`` plus ``analyzer`` (from each row's run_id)."""
    return _set(
        table,
        "analyzer",
        pa.array([analyzer_of_run.get(r or "") for r in table.column("run_id").to_pylist()], pa.string()),
    )
