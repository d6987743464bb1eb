"""Monthly audit plans (月度稽查计划) built from findings, and the tasks they create.

A plan has a month, a kind (comprehensive 综合稽查 / special 专项稽查), a scope (units, families,
rules, entity type) and a quantitative target (the top N by priority). Findings become tasks
unless the same finding_id was ever taken (any plan, any state) or an open task exists for the
same entity; within one file, one task per entity (the highest-priority finding).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from gridaudit.audit import trail
from gridaudit.audit.errors import AuditError, Forbidden
from gridaudit.audit.models import Plan, Task
from gridaudit.audit.users import get_user
from gridaudit.audit.workflow import OPEN_STATES

PLAN_KINDS = {"comprehensive": "综合稽查", "special": "专项稽查"}
PLANNERS = ("audit_lead", "auditor")


@dataclass(frozen=True)
class PrioritySettings:
    """How findings are ranked into tasks.

    Analyzers score on different scales (a rule may score in kWh, the risk model in 0–1), so the score
    enters as its percentile among the file's findings of the same rule (0–1, scale-free):

        priority = (score_weight × score percentile + (1 − score_weight) × severity weight)
                   × (1 + money_weight × log10(1 + ¥ at stake))

    A finding without a score counts as ``default_score``. With the defaults a ¥9,999 finding ranks 5× a
    ¥0 one of equal standing."""

    score_weight: float = 0.5
    money_weight: float = 1.0
    default_score: float = 0.5
    severity_weights: tuple[tuple[str, float], ...] = (
        ("low", 0.25),
        ("medium", 0.5),
        ("high", 0.75),
        ("critical", 1.0),
    )


def months_in(period: str | None) -> list[str]:
    """The YYYY-MM months named in a findings period ("2024-06", or a range like "2024-01..2024-06")."""
    return re.findall(r"\d{4}-(?:0[1-9]|1[0-2])", period or "")


def last_month(period: str | None) -> str | None:
    """The latest YYYY-MM named in a findings period, or None."""
    months = months_in(period)
    return max(months) if months else None


def next_month(month: str) -> str:
    """The month after ``month`` (YYYY-MM)."""
    y, m = map(int, month.split("-"))
    return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


def priority(
    score_pct: float | None, severity: str | None, yuan: float | None, settings: PrioritySettings = PrioritySettings()
) -> float:
    """The priority of a finding from its score percentile (within its rule), severity and ¥ at stake."""
    pct = settings.default_score if score_pct is None or math.isnan(score_pct) else score_pct
    sev = dict(settings.severity_weights).get(severity or "", 0.5)
    y = 0.0 if yuan is None or math.isnan(yuan) or yuan < 0 else yuan
    standing = settings.score_weight * pct + (1 - settings.score_weight) * sev
    return round(standing * (1 + settings.money_weight * math.log10(1 + y)), 6)


def score_percentiles(rows: list[dict]) -> dict[str, float | None]:
    """finding_id → percentile (0–1] of its score among the findings of the same rule (None: no score)."""
    by_rule: dict[str, list[float]] = {}
    for r in rows:
        s = r.get("score")
        if s is not None and not math.isnan(s):
            by_rule.setdefault(r["rule_id"], []).append(s)
    for v in by_rule.values():
        v.sort()
    out: dict[str, float | None] = {}
    for r in rows:
        s, vals = r.get("score"), by_rule.get(r["rule_id"])
        out[r["finding_id"]] = None if s is None or math.isnan(s) else bisect.bisect_right(vals, s) / len(vals)
    return out


@dataclass
class PlanOutcome:
    """What ``create_plan`` did: the plan, its new tasks and why other findings were left out."""

    plan: Plan
    tasks: list[Task]
    read: int
    skipped: dict[str, int] = field(default_factory=dict)


def _unit_of(row: dict, units: dict[tuple[str, str], str]) -> str | None:
    try:
        ev = json.loads(row.get("evidence") or "{}")
    except json.JSONDecodeError:
        ev = {}
    if isinstance(ev, dict) and ev.get("unit_id"):
        return str(ev["unit_id"])
    return units.get((row["entity_type"], str(row["entity_id"])))


def entity_units(dataset_dir: str | Path) -> dict[tuple[str, str], str]:
    """(entity_type, entity_id) → unit_id from a dataset's customers, areas, feeders and staff, and for
    meters, bills and work orders their customer's unit."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines.duckdb import DuckDBEngine

    ds = open_dataset(dataset_dir)
    eng = DuckDBEngine(ds)
    try:
        return _entity_units(ds, eng)
    finally:
        eng.close()


def _entity_units(ds: Any, eng: Any) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for etype, table, key in (
        ("customer", "customers", "customer_id"),
        ("area", "areas", "area_id"),
        ("feeder", "feeders", "feeder_id"),
        ("staff", "staff", "staff_id"),
    ):
        if ds.has(table):
            sql = f"select cast({key} as varchar) k, cast(unit_id as varchar) u from {table}"
            for k, u in _pairs(eng.query(sql)):
                out[(etype, k)] = u
    # entities that belong to a customer: their customer's unit
    for etype, table, key in (
        ("meter", "meters", "meter_id"),
        ("bill", "bills", "bill_id"),
        ("work_order", "work_orders", "order_id"),
    ):
        if ds.has(table) and ds.has("customers") and "customer_id" in _columns(eng, table):
            sql = (
                f"select cast(x.{key} as varchar) k, cast(c.unit_id as varchar) u from {table} x "
                "join customers c on c.customer_id = x.customer_id"
            )
            for k, u in _pairs(eng.query(sql)):
                out[(etype, k)] = u
    return out


def _columns(eng: Any, table: str) -> list[str]:
    return eng.query(f"select * from {table} limit 0").column_names


def _pairs(table: pa.Table) -> list[tuple[str, str]]:
    return list(zip(table.column("k").to_pylist(), table.column("u").to_pylist(), strict=True))


def create_plan(
    session: Any,
    actor_id: str,
    month: str,
    findings: pa.Table,
    *,
    kind: str = "special",
    top: int | None = None,
    families: list[str] | None = None,
    units: list[str] | None = None,
    rules: list[str] | None = None,
    entity_type: str | None = None,
    title: str | None = None,
    source: dict | None = None,
    unit_map: dict[tuple[str, str], str] | None = None,
    settings: PrioritySettings = PrioritySettings(),
) -> PlanOutcome:
    """Create a plan for ``month`` from a findings table and its tasks (state ``new``)."""
    from sqlalchemy import select

    actor = get_user(session, actor_id)
    if actor.role not in PLANNERS:
        raise Forbidden(
            f"只有稽查员/稽查组长可以制定计划（{actor.user_id} 是 {actor.role}）",
            f"only an auditor or audit lead may create plans ({actor.user_id} is {actor.role})",
        )
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise AuditError(f"月份 {month!r} 格式应为 YYYY-MM", f"month {month!r} must be YYYY-MM")
    if kind not in PLAN_KINDS:
        raise AuditError(
            f"计划类型 {kind!r} 应为 comprehensive 或 special", f"plan kind {kind!r} must be comprehensive or special"
        )
    if top is not None and top <= 0:
        raise AuditError("--top 必须为正整数", "--top must be a positive number")
    unit_map = unit_map or {}
    rows = findings.to_pylist()
    pcts = score_percentiles(rows)  # scale-free: each score against its own rule's findings in this file
    skipped: dict[str, int] = {}

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    taken = set(session.execute(select(Task.finding_id)).scalars())
    open_entities = {
        (e, i) for e, i in session.execute(select(Task.entity_type, Task.entity_id).where(Task.state.in_(OPEN_STATES)))
    }
    best: dict[tuple[str, str], dict] = {}
    for r in rows:
        r["unit_id"] = _unit_of(r, unit_map)
        if families and r["family"] not in families:
            skip("family")
            continue
        if rules and r["rule_id"] not in rules:
            skip("rule")
            continue
        if entity_type and r["entity_type"] != entity_type:
            skip("entity_type")
            continue
        if units and r["unit_id"] not in units:
            skip("unit")
            continue
        if r["finding_id"] in taken:
            skip("finding already taken")
            continue
        key = (r["entity_type"], str(r["entity_id"]))
        if key in open_entities:
            skip("open task for entity")
            continue
        r["priority"] = priority(pcts[r["finding_id"]], r.get("severity"), r.get("yuan_at_stake"), settings)
        if key in best:
            skip("same entity in file")
            if (r["priority"], r["finding_id"]) <= (best[key]["priority"], best[key]["finding_id"]):
                continue
        best[key] = r
    chosen = sorted(best.values(), key=lambda r: (-r["priority"], r["finding_id"]))
    if top is not None and len(chosen) > top:
        skipped["beyond top"] = len(chosen) - top
        chosen = chosen[:top]
    scope = {
        "units": units or [],
        "families": families or [],
        "rules": rules or [],
        "entity_type": entity_type,
        "top": top,
    }
    now = trail.now_utc()
    plan = Plan(
        month=month,
        kind=kind,
        title=title or f"{month} {PLAN_KINDS[kind]}",
        scope=trail.canonical(scope),
        source=trail.canonical(source or {}),
        created_by=actor.user_id,
        created_at=now,
    )
    session.add(plan)
    session.flush()
    tasks = []
    for r in chosen:
        t = Task(
            plan_id=plan.plan_id,
            finding_id=r["finding_id"],
            rule_id=r["rule_id"],
            family=r["family"],
            severity=r["severity"],
            entity_type=r["entity_type"],
            entity_id=str(r["entity_id"]),
            unit_id=r["unit_id"],
            period=r.get("period"),
            score=r.get("score"),
            kwh_at_stake=r.get("kwh_at_stake"),
            yuan_at_stake=r.get("yuan_at_stake"),
            responsible_staff_id=r.get("responsible_staff_id"),
            evidence=r.get("evidence"),
            priority=r["priority"],
            state="new",
            created_at=now,
            updated_at=now,
        )
        session.add(t)
        tasks.append(t)
    session.flush()
    events = [
        (
            "plan_create",
            "plan",
            plan.plan_id,
            {
                "month": month,
                "kind": kind,
                "scope": scope,
                "source": source or {},
                "tasks": len(tasks),
                "read": len(rows),
                "skipped": skipped,
            },
        ),
    ]
    events += [
        (
            "task_create",
            "task",
            t.task_id,
            {
                "plan_id": plan.plan_id,
                "finding_id": t.finding_id,
                "rule_id": t.rule_id,
                "entity": f"{t.entity_type}:{t.entity_id}",
                "priority": t.priority,
                "to": "new",
            },
        )
        for t in tasks
    ]
    trail.append_many(session, actor.user_id, events)
    return PlanOutcome(plan=plan, tasks=tasks, read=len(rows), skipped=skipped)


def file_source(path: str | Path) -> dict:
    """Provenance of a findings file: its path and sha256."""
    data = Path(path).read_bytes()
    return {"findings": str(path), "sha256": hashlib.sha256(data).hexdigest()}
