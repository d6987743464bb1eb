"""Automatic data re-check (数据复查): re-run the finding's rule on a later period and see if it recurs.

Uses the rules engine (``gridaudit.rules``) when it is importable and knows the rule; otherwise the
re-check reports ``unavailable`` and says why, and the auditor's verdict stands on its own.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gridaudit.engines import EngineSettings


@dataclass(frozen=True)
class RecheckResult:
    """``clear`` (finding gone), ``recurs`` (found again) or ``unavailable`` (no rule/data), with detail."""

    status: str
    detail: str


def _rules_api() -> Any | None:
    try:
        return importlib.import_module("gridaudit.rules.runner")
    except ImportError:
        return None


def run_rule_findings(
    rule_id: str, dataset_dir: str | Path, period: str, settings: EngineSettings | None = None
) -> tuple[Any | None, str]:
    """Findings of one rule on a dataset for one period: (table, "") or (None, why not).

    The rule runs on the engine ``settings`` name (:func:`gridaudit.engines.open_engine`); by default DuckDB
    with the rules run's memory and thread limits (``EngineSettings()``, as ``gridaudit rules run``)."""
    runner = _rules_api()
    if runner is None:
        return None, "the rules engine (gridaudit.rules) is not installed"
    from gridaudit.dataset import open_dataset
    from gridaudit.engines import EngineSettings, open_engine
    from gridaudit.rules import load_catalog

    rules = [r for r in load_catalog() if r.id == rule_id]
    if not rules:
        return None, f"rule {rule_id} is not in the rules catalog"
    engine = open_engine(open_dataset(dataset_dir), settings or EngineSettings())
    try:
        table, reports = runner.run_rules(engine, rules, period=period)
    finally:
        engine.close()
    if reports and reports[0].status != "ok":
        return None, f"rule {rule_id} {reports[0].status}: {reports[0].message}"
    return table, ""


def period_is_after(task: Any, period: str) -> bool:
    """Whether ``period`` (YYYY-MM) is after every month of the finding's period (a finding without one: yes)."""
    from gridaudit.audit.plans import last_month

    found_in = last_month(task.period)
    return not (found_in and period <= found_in)


def require_later_period(task: Any, period: str) -> None:
    """Refuse a re-check period that is not after the finding's period (the re-check could only repeat it)."""
    if not period_is_after(task, period):
        from gridaudit.audit.errors import AuditError

        raise AuditError(
            f"任务 {task.task_id}: 数据复查的 --period {period} 须晚于问题所在期间 {task.period}",
            f"task {task.task_id}: the re-check --period {period} must be after the finding's period {task.period}",
        )


def recheck_finding(task: Any, dataset_dir: str | Path, period: str, runner: Any = run_rule_findings) -> RecheckResult:
    """Re-run ``task``'s rule on ``dataset_dir`` for ``period``; does the same entity show up again?

    ``runner(rule_id, dataset_dir, period) -> (findings table | None, reason)`` is replaceable (tests,
    other engines)."""
    if not period_is_after(task, period):
        return RecheckResult("unavailable", f"period {period} is not after the finding's period {task.period}")
    table, why = runner(task.rule_id, dataset_dir, period)
    if table is None:
        return RecheckResult("unavailable", why)
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
