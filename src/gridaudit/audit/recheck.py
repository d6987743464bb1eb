"""Automatic data re-check (数据复查): re-run the finding's rule on a later period and see if it recurs.

Uses the rules engine (``gridaudit.rules``) when it is importable and knows the rule; otherwise the
re-check reports ``unavailable`` and says why, and the auditor's verdict stands on its own.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RecheckResult:
    """``clear`` (finding gone), ``recurs`` (found again) or ``unavailable`` (no rule/data), with detail."""

    status: str
    detail: str


def _rules_api() -> Any | None:
    try:
        return importlib.import_module("gridaudit.rules")
    except ImportError:
        return None


def run_rule_findings(rule_id: str, dataset_dir: str | Path, period: str) -> Any | None:
    """Findings of one rule on a dataset for one period, or None when the rules engine lacks the rule."""
    rules = _rules_api()
    if rules is None:
        return None
    load = getattr(rules, "load_catalog", None)
    run = getattr(rules, "run_rules", None)
    if load is None or run is None:
        return None
    catalog = load()
    ids = {getattr(r, "rule_id", None) for r in (catalog.values() if isinstance(catalog, dict) else catalog)}
    if rule_id not in ids:
        return None
    return run(dataset_dir, rule_ids=[rule_id], period=period)


def recheck_finding(task: Any, dataset_dir: str | Path, period: str, runner: Any = run_rule_findings) -> RecheckResult:
    """Re-run ``task``'s rule on ``dataset_dir`` for ``period``; does the same entity show up again?"""
    if task.period and period <= task.period:
        return RecheckResult("unavailable", f"period {period} is not after the finding's period {task.period}")
    table = runner(task.rule_id, dataset_dir, period)
    if table is None:
        return RecheckResult("unavailable", f"rule {task.rule_id} not in the rules catalog")
    rows = table.to_pylist() if hasattr(table, "to_pylist") else list(table)
    hits = [
        r
        for r in rows
        if r["entity_type"] == task.entity_type
        and str(r["entity_id"]) == task.entity_id
        and (r.get("period") in (None, period))
    ]
    if hits:
        return RecheckResult(
            "recurs", f"{task.rule_id} fires again for {task.entity_type} {task.entity_id} in {period}"
        )
    return RecheckResult("clear", f"{task.rule_id} no longer fires for {task.entity_type} {task.entity_id} in {period}")
