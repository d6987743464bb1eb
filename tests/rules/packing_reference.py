"""The per-row findings packing the runner used before rules/packing.py (kept as the reference of its test)."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from gridaudit.findings import evidence_json, finding_id
from gridaudit.rules.loader import REQUIRED_OUTPUTS, Rule

OPTIONAL_NUMBERS = ("score", "kwh_at_stake", "yuan_at_stake")


def findings_rows(rule: Rule, result: pa.Table, run_id: str, exclude: set[str]) -> list[dict[str, Any]]:
    """Turn a rule's result rows into findings dicts (evidence from the ``ev_*`` columns), one per key."""
    names = [n.lower() for n in result.column_names]
    result = result.rename_columns(names)
    for required in REQUIRED_OUTPUTS:
        if required not in names:
            raise KeyError(required)
    ev_cols = sorted(n for n in names if n.startswith("ev_"))
    best: dict[str, dict[str, Any]] = {}
    for rec in result.to_pylist():
        if rec["entity_id"] is None:
            continue
        entity = _text(rec["entity_id"])
        per = None if rec["period"] is None else _text(rec["period"])
        fid = finding_id(rule.id, rule.header.entity_type, entity, per)
        if fid in exclude:
            continue
        row = {
            "finding_id": fid,
            "rule_id": rule.id,
            "family": rule.family,
            "severity": rule.header.severity,
            "entity_type": rule.header.entity_type,
            "entity_id": entity,
            "period": per,
            **{k: _number(rec.get(k)) for k in OPTIONAL_NUMBERS},
            "responsible_staff_id": None
            if rec.get("responsible_staff_id") is None
            else _text(rec["responsible_staff_id"]),
            "evidence": evidence_json({c[3:]: _plain(rec[c]) for c in ev_cols}),
            "run_id": run_id,
        }
        old = best.get(fid)
        if old is None or _rank(row) > _rank(old):
            best[fid] = row
    return list(best.values())


def _rank(row: dict[str, Any]) -> tuple[Any, ...]:
    """Which of several rows of one finding is kept: the highest score, then a total order over the rest.

    The tie-breaks (evidence, money at stake, responsible staff) make the pick independent of the order in
    which an engine returns rows, so every engine and every run keeps the same row.
    """

    def num(v: float | None) -> float:
        return -math.inf if v is None else v

    return (
        num(row["score"]),
        row["evidence"],
        num(row["kwh_at_stake"]),
        num(row["yuan_at_stake"]),
        row["responsible_staff_id"] or "",
    )


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    v = float(value)
    return None if math.isnan(v) else round(v, 6)


def _plain(value: Any) -> Any:
    """An evidence value as plain JSON: floats rounded (engines differ in the last bits), dates as ISO text.

    A whole number is written as one whatever type the engine gave it (Spark's AVG or SUM of a CASE is a
    DOUBLE or DECIMAL where DuckDB's is an integer: ``30`` on both, not ``30.0`` on one), and ``-0.0`` as ``0``.
    """
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        rounded = round(value, 4)
        if rounded.is_integer() and abs(rounded) < 2**53:
            return int(rounded)
        return rounded
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
