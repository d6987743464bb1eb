"""Run rules on an engine: bind parameters, provide the working-day calendar and derived tables, pack findings.

The runner knows nothing about any single rule: it reads each rule's header (tables, derived tables,
params) and turns the SELECT's columns into the findings shape (DESIGN §5). Derived tables
(``catalog/_derived/*.sql``, e.g. per meter × month aggregates of daily_usage) are materialised once per
run, when the first selected rule that reads them runs, and dropped at the end of the run.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa

from gridaudit.contract import load_contract
from gridaudit.engines import Engine, EngineSettings, open_engine
from gridaudit.engines.stages import (
    UnportableSQL,
    check_portable,
    materialise_staged,
    plan_stages,
    run_staged,
)
from gridaudit.findings import FINDINGS_SCHEMA
from gridaudit.i18n import both
from gridaudit.rules.loader import Derived, Rule, RuleError
from gridaudit.rules.packing import findings_rows
from gridaudit.rules.safety import UnsafeSQL, check_rule_sql, param_names
from gridaudit.rules.window import TIME_COLUMNS, Window, describe, widen, window_for, windowed_sql
from gridaudit.workdays import workday_calendar

CALENDAR_PAD_DAYS = 60
REPORT_FIELDS = ("rule_id", "family", "status", "hits", "seconds", "message")


# The rules run's resources are the engine settings (kind duckdb by default, memory_limit 4GB, threads one per
# core): the old name is kept for callers that import it.
DuckDBSettings = EngineSettings


def duckdb_engine(dataset: Any, settings: EngineSettings | None = None) -> Engine:
    """The engine ``settings`` names (DuckDB with the rules run's limits by default) over ``dataset``."""
    return open_engine(dataset, settings)


@dataclass
class RuleReport:
    """What happened to one rule in a run."""

    rule_id: str
    family: str
    status: str  # ok | skipped | error
    hits: int = 0
    seconds: float = 0.0
    message: str = ""
    window: str = ""  # the dates it read in an incremental run ("all" = whole history), else ""
    cpu_seconds: float = 0.0  # CPU time of this process (all its threads, e.g. DuckDB's) while it ran


def run_rules(
    engine: Engine,
    rules: list[Rule],
    period: str | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    exclude: set[str] | None = None,
    run_id: str | None = None,
    progress: Callable[[Rule, RuleReport], None] | None = None,
    derived_log: list[RuleReport] | None = None,
    incremental: bool = False,
) -> tuple[pa.Table, list[RuleReport]]:
    """Run ``rules`` on ``engine``; return (findings in FINDINGS_SCHEMA, one report per rule).

    ``overrides`` maps rule id → {param: value}; ``exclude`` holds finding_ids already under audit
    (not returned again). A missing table skips a rule, a SQL error marks it ``error``; neither is fatal.
    Same data, rules and parameters → the same findings, sorted by finding_id. When ``derived_log`` is
    given, one report per derived table materialised (family ``derived``, its time) is appended to it.
    ``incremental`` with a ``period``: each rule (and derived table) reads only its look-back window of the
    time-series tables (rules/window.py), so a monthly run costs a fraction of a full-history one.
    """
    overrides = overrides or {}
    unknown = sorted(set(overrides) - {r.id for r in rules})
    if unknown:
        raise RuleError(
            both(
                f"--set 指定了未选中的规则：{', '.join(unknown)}",
                f"--set names rules not selected: {', '.join(unknown)}",
            )
        )
    bound = {r.id: r.bind(overrides.get(r.id)) for r in rules}
    run_id = run_id or default_run_id(rules, bound, period)
    engine.lock_down()
    available = {t.lower() for t in engine.tables()}
    users = [(r.sql, r.header.tables) for r in rules] + [(d.sql, d.header.tables) for r in rules for d in r.needs]
    _provide_calendar(engine, users, available)
    rows: list[dict[str, Any]] = []
    reports: list[RuleReport] = []
    made: dict[str, str] = {}  # derived id -> "" when materialised, else the error
    windows = plan_windows(rules, bound, period) if incremental and period else None
    last_use = last_readers(rules)
    dropped: set[str] = set()
    try:
        for index, rule in enumerate(rules):
            if all(t.lower() in available for t in rule.all_tables):
                for d in rule.needs:
                    if d.id not in made:
                        made[d.id] = _materialise(engine, d, derived_log, windows)
            cpu = time.process_time()
            report, found = _run_one(
                engine, rule, bound[rule.id], period, available, run_id, exclude or set(), made, windows
            )
            report.cpu_seconds = time.process_time() - cpu
            rows.extend(found)
            reports.append(report)
            # a derived table no later rule reads is dropped now: its memory goes to the rules still to run
            for name in [n for n, error in made.items() if not error and n not in dropped and last_use[n] == index]:
                engine.drop_materialised(name)
                dropped.add(name)
            if progress:
                progress(rule, report)
    finally:
        for name, error in made.items():
            if not error and name not in dropped:
                engine.drop_materialised(name)
    rows.sort(key=lambda r: r["finding_id"])
    return pa.Table.from_pylist(rows, schema=FINDINGS_SCHEMA), reports


def last_readers(rules: list[Rule]) -> dict[str, int]:
    """Derived id → the index in ``rules`` of the last rule that reads it (directly or through another)."""
    return {d.id: index for index, rule in enumerate(rules) for d in rule.needs}


@dataclass(frozen=True)
class WindowPlan:
    """What each rule and derived table reads in an incremental run (None: the whole history)."""

    rules: dict[str, Window | None]
    derived: dict[str, Window | None]  # the window of the data a derived table reads
    derived_columns: dict[str, tuple[str, str]]  # derived id -> (window column, kind) for the rules reading it


def plan_windows(rules: list[Rule], bound: dict[str, dict[str, Any]], period: str) -> WindowPlan:
    """Each rule's window from its look-back and bound parameters; each derived table's from the union of the
    windows of everything that reads it, widened by its own look-back (dependents before dependencies)."""
    rule_win = {r.id: window_for(r.header.lookback, bound[r.id], period) for r in rules}
    derived = {d.id: d for r in rules for d in r.needs}
    users: dict[str, list[Window | None]] = {d: [] for d in derived}
    for r in rules:
        for name in r.header.derived:
            users[name].append(rule_win[r.id])
    reads: dict[str, Window | None] = {}
    # r.needs lists dependencies first, so walking the union backwards visits every reader before what it reads
    order = list(dict.fromkeys(d.id for r in rules for d in r.needs))
    for name in reversed(order):
        d = derived[name]
        out = _union(users[name])
        reads[name] = widen(out, d.header.lookback, {})
        for dep in d.header.derived:
            users[dep].append(reads[name])
    columns: dict[str, tuple[str, str]] = {
        d.id: (d.header.window_column, str(d.header.window_kind)) for d in derived.values() if d.header.window_column
    }
    return WindowPlan(rule_win, reads, columns)


def _union(windows: list[Window | None]) -> Window | None:
    known = [w for w in windows if w is not None]
    if not known or len(known) < len(windows):
        return None
    out = known[0]
    for w in known[1:]:
        out = out.union(w)
    return out


def _materialise(
    engine: Engine, derived: Derived, log: list[RuleReport] | None, windows: WindowPlan | None = None
) -> str:
    """Build one derived table on ``engine``; return "" or the error (rules reading it then fail with it)."""
    started, cpu = time.perf_counter(), time.process_time()
    error = ""
    window = windows.derived.get(derived.id) if windows else None
    try:
        tree = check_rule_sql(derived.sql, set(derived.header.tables) | set(derived.header.derived))
        if param_names(tree):
            raise UnsafeSQL(both("派生表不能有参数", "a derived table takes no parameters"))
        check_portable(tree, engine.name)
        sql = windowed_sql(derived.sql, window, TIME_COLUMNS)
        # on an engine that recomputes a CTE at every read, one read twice is built once as a stage, then dropped
        staged = plan_stages(sql, engine.name, prefix=f"{derived.id}__")
        for stage in materialise_staged(engine, derived.id, staged):
            engine.drop_materialised(stage)
    except Exception as exc:  # noqa: BLE001 - reported on every rule that reads it, never fatal
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        error = both(f"派生表 {derived.id} 失败：", f"derived table {derived.id} failed: ") + text[:400]
    if log is not None:
        log.append(
            RuleReport(
                derived.id,
                "derived",
                "error" if error else "ok",
                seconds=time.perf_counter() - started,
                message=error,
                window=describe(window) if windows else "",
                cpu_seconds=time.process_time() - cpu,
            )
        )
    return error


def default_run_id(rules: list[Rule], bound: dict[str, dict[str, Any]], period: str | None) -> str:
    """A run id that depends only on the rules, their SQL and parameters, and the period."""
    content: dict[str, Any] = {
        "rules": {r.id: [hashlib.sha1(r.sql.encode()).hexdigest(), bound[r.id]] for r in rules},
        "period": period,
    }
    derived = {d.id: hashlib.sha1(d.sql.encode()).hexdigest() for r in rules for d in r.needs}
    if derived:
        content["derived"] = derived
    key = json.dumps(content, sort_keys=True, default=str)
    return "rules-" + hashlib.sha1(key.encode()).hexdigest()[:12]


def _run_one(
    engine: Engine,
    rule: Rule,
    params: dict[str, Any],
    period: str | None,
    available: set[str],
    run_id: str,
    exclude: set[str],
    made: dict[str, str],
    windows: WindowPlan | None = None,
) -> tuple[RuleReport, list[dict[str, Any]]]:
    started = time.perf_counter()
    window = windows.rules.get(rule.id) if windows else None
    missing = [t for t in rule.all_tables if t.lower() not in available]
    if missing:
        msg = both(f"缺少数据表：{', '.join(missing)}", f"missing tables: {', '.join(missing)}")
        return RuleReport(rule.id, rule.family, "skipped", message=msg), []
    failed = [made[d.id] for d in rule.needs if made.get(d.id)]
    if failed:
        return RuleReport(rule.id, rule.family, "error", message=failed[0]), []
    try:
        tree = check_rule_sql(rule.sql, set(rule.header.tables) | set(rule.header.derived))
    except UnsafeSQL as exc:
        return RuleReport(rule.id, rule.family, "error", message=both("拒绝执行：", "refused: ") + str(exc)), []
    try:
        check_portable(tree, engine.name)
    except UnportableSQL as exc:
        return RuleReport(rule.id, rule.family, "error", message=both("拒绝执行：", "refused: ") + str(exc)), []
    used = param_names(tree)
    undeclared = sorted(used - set(params) - {"period"})
    if undeclared:
        msg = both(
            f"SQL 使用了未声明的参数：{', '.join(undeclared)}", f"SQL uses undeclared params: {', '.join(undeclared)}"
        )
        return RuleReport(rule.id, rule.family, "error", message=msg), []
    values = {**params, "period": period}
    shown = describe(window) if windows else ""
    try:
        sql = rule.sql if windows is None else _rule_window_sql(rule, window, windows)
        # on an engine that recomputes a CTE at every read, each CTE read twice is built once as a stage
        staged = plan_stages(sql, engine.name, prefix=f"{rule.id}__", params=True)
        result = run_staged(engine, staged, {k: v for k, v in values.items() if k in used})
        found = findings_rows(rule, result, run_id, exclude)
    except Exception as exc:  # noqa: BLE001 - a broken rule is reported, never fatal
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        took = time.perf_counter() - started
        return RuleReport(rule.id, rule.family, "error", seconds=took, message=text[:500], window=shown), []
    took = time.perf_counter() - started
    return RuleReport(rule.id, rule.family, "ok", hits=len(found), seconds=took, window=shown), found


def _rule_window_sql(rule: Rule, window: Window | None, windows: WindowPlan) -> str:
    """The rule's SQL reading only its window of the time-series tables and of the derived tables it names."""
    columns = dict(TIME_COLUMNS)
    columns.update(
        {name: windows.derived_columns[name] for name in rule.header.derived if name in windows.derived_columns}
    )
    return windowed_sql(rule.sql, window, columns)


def materialise_derived(engine: Engine, derived: list[Derived]) -> dict[str, str]:
    """Build catalog derived tables outside a rules run (e.g. for an indicator): the workday calendar they read
    is registered first; returns derived id → "" when built, else its error. ``drop_materialised`` undoes it."""
    available = {t.lower() for t in engine.tables()}
    _provide_calendar(engine, [(d.sql, d.header.tables) for d in derived], available)
    return {d.id: _materialise(engine, d, None) for d in derived}


def _provide_calendar(engine: Engine, users: list[tuple[str, list[str]]], available: set[str]) -> None:
    """Register ``workday_calendar(day, is_workday)`` covering the dates of the tables its users
    (``(sql, tables)`` of rules and derived tables) read."""
    users = [(sql, tables) for sql, tables in users if "workday_calendar" in sql.lower()]
    if not users:
        return
    contract = load_contract()
    lo: date | None = None
    hi: date | None = None
    tables = sorted({t for _, ts in users for t in ts if t.lower() in available})
    dated = {
        t: [c for c in contract.table(t).columns.values() if c.type in ("date", "timestamp") and c.not_future]
        for t in tables
    }
    # event times bound the calendar; record dates such as connected_on could stretch it back decades
    kind = "timestamp" if any(c.type == "timestamp" for cs in dated.values() for c in cs) else "date"
    for table in tables:
        cols = [c.name for c in dated[table] if c.type == kind]
        if not cols:
            continue
        select = ", ".join(f"min(CAST({c} AS DATE)) AS lo_{c}, max(CAST({c} AS DATE)) AS hi_{c}" for c in cols)
        try:
            row = engine.query(f"SELECT {select} FROM {table}", {}).to_pylist()[0]
        except Exception:  # noqa: BLE001 - a table without those columns just does not widen the range
            continue
        for key, val in row.items():
            if val is None:
                continue
            val = val.date() if isinstance(val, datetime) else val
            if key.startswith("lo_"):
                lo = val if lo is None else min(lo, val)
            else:
                hi = val if hi is None else max(hi, val)
    if lo is None or hi is None:
        lo = hi = date.today()
    days = workday_calendar(lo - timedelta(days=CALENDAR_PAD_DAYS), hi + timedelta(days=CALENDAR_PAD_DAYS))
    table = pa.table(
        {"day": pa.array([d for d, _ in days], pa.date32()), "is_workday": pa.array([w for _, w in days], pa.bool_())}
    )
    engine.register_table("workday_calendar", table)
