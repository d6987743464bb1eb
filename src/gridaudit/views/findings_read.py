"""Findings for the views: the dataset's findings store (latest run per analyzer) with each finding's unit,
cut to a unit scope, a period and entities (:mod:`gridaudit.findings.query` does the filtering)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from gridaudit.engines import Engine
from gridaudit.findings.query import FindingFilter, filter_findings, sort_findings
from gridaudit.views.common import dataset_of


def latest_findings(engine: Engine) -> pa.Table:
    """The latest run of each analyzer with ``unit_id`` (and ``area_id``, ``analyzer``), for the engine's dataset
    version: :func:`gridaudit.audit.findings_view.load_findings`, read and widened once per version and runs."""
    from gridaudit.audit.findings_view import load_findings as widened

    ds = dataset_of(engine)
    return widened(ds.root, ds.version)[0]


def findings_key(engine: Engine) -> tuple[str, str, tuple[str, ...]]:
    """What the latest findings of the engine's dataset version depend on: (folder, version, run ids); a view
    that caches a roll-up of them keys it by this (a new run or version is a new key)."""
    from gridaudit.audit.findings_view import latest_key

    ds = dataset_of(engine)
    return latest_key(ds.root, ds.version)


def scoped_findings(
    engine: Engine,
    units: set[str] | None,
    *,
    period: str | None = None,
    entity_type: str | None = None,
    entity_ids: list[str] | None = None,
    staff: list[str] | None = None,
    families: list[str] | None = None,
) -> pa.Table:
    """The findings in ``units`` (None: all; an empty set: none), sorted by money at stake."""
    table = latest_findings(engine)
    if entity_ids:  # one entity's page: cut to its findings first, the other filters then see a few rows
        table = filter_findings(table, FindingFilter(entity_ids=entity_ids))
    flt = FindingFilter(
        entity_types=[entity_type] if entity_type else [],
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
