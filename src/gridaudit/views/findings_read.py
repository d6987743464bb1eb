"""Findings for the views: the dataset's findings store (latest run per analyzer) with each finding's unit,
cut to a unit scope, a period and entities (:mod:`gridaudit.findings.query` does the filtering)."""

from __future__ import annotations

import threading
from typing import Any

import pyarrow as pa

from gridaudit.engines.duckdb import DuckDBEngine
from gridaudit.findings import load_findings
from gridaudit.findings.query import FindingFilter, filter_findings, sort_findings, with_units

_UNITS: dict[tuple[str, str], dict[tuple[str, str], str]] = {}
_LOCK = threading.Lock()


def unit_map(engine: DuckDBEngine) -> dict[tuple[str, str], str]:
    """(entity_type, entity_id) → unit_id of the dataset version (``audit.plans.entity_units``, cached)."""
    from gridaudit.audit.plans import entity_units

    ds = engine.dataset
    key = (str(ds.root), ds.version)
    with _LOCK:
        if key not in _UNITS:
            _UNITS[key] = entity_units(ds.root)
        return _UNITS[key]


def scoped_findings(
    engine: DuckDBEngine,
    units: set[str] | None,
    *,
    period: str | None = None,
    entity_type: str | None = None,
    entity_ids: list[str] | None = None,
    staff: list[str] | None = None,
    families: list[str] | None = None,
) -> pa.Table:
    """The findings in ``units`` (None: all; an empty set: none), sorted by money at stake."""
    table = with_units(load_findings(engine.dataset.root), unit_map(engine))
    flt = FindingFilter(
        entity_types=[entity_type] if entity_type else [],
        entity_ids=entity_ids or [],
        staff=staff or [],
        families=families or [],
        period=period,
    )
    table = filter_findings(table, flt)
    if units is not None:
        table = filter_findings(table, FindingFilter(units=sorted(units) or ["\x00none"]))
    return sort_findings(table)


def finding_rows(table: pa.Table, tasks: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Findings as dicts (evidence parsed), each with its tasks (``findings.status.tasks_by_finding``)."""
    import json

    out = []
    for r in table.to_pylist():
        try:
            r["evidence"] = json.loads(r["evidence"]) if r.get("evidence") else {}
        except json.JSONDecodeError:
            r["evidence"] = {"raw": r["evidence"]}
        if tasks is not None:
            r["tasks"] = tasks.get(r["finding_id"], [])
        out.append(r)
    return out
