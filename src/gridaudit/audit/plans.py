"""Monthly audit plans (月度稽查计划) built from findings, and the tasks they create.

A plan has a month, a kind (comprehensive 综合稽查 / special 专项稽查), a scope (units, families,
rules, entity type), quotas (``quotas``) and a quantitative target (the top N by priority, ``priority``).
Findings become tasks unless the same finding_id was ever taken (any plan, any state) or an open task
exists for the same entity; within one file, one task per entity (the highest-priority finding).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from gridaudit.audit import trail
from gridaudit.audit.errors import AuditError, Forbidden
from gridaudit.audit.hitrates import DEFAULT_HIT_RATES, HitRateSettings, Rate, hit_rates
from gridaudit.audit.models import Plan, Task
from gridaudit.audit.priority import DEFAULT_PRIORITY, PrioritySettings, priority, score_percentiles, select_diverse
from gridaudit.audit.quotas import Quota, QuotaFill, check_quotas, fill_quotas
from gridaudit.audit.quotas import fills as quota_fills
from gridaudit.audit.users import get_user
from gridaudit.audit.workflow import OPEN_STATES
from gridaudit.findings import FAMILIES

PLAN_KINDS = {"comprehensive": "综合稽查", "special": "专项稽查"}
PLANNERS = ("audit_lead", "auditor")


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


@dataclass
class PlanOutcome:
    """What ``create_plan`` did: the plan, its new tasks, why other findings were left out, how far each
    quota was filled and by how many tasks the quotas overran ``top`` (0: they fit)."""

    plan: Plan
    tasks: list[Task]
    read: int
    skipped: dict[str, int] = field(default_factory=dict)
    quotas: list[QuotaFill] = field(default_factory=list)
    over_top: int = 0


def require_tasks(out: PlanOutcome) -> None:
    """Refuse a plan that holds no task (raise inside the transaction, so the empty plan is rolled back),
    saying how many findings were read and why they were left out."""
    if out.tasks:
        return
    left = ", ".join(f"{k} {v}" for k, v in sorted(out.skipped.items()))
    raise AuditError(
        f"没有问题符合范围，未制定计划：读入 {out.read} 条问题" + (f"，未纳入: {left}" if left else ""),
        f"no findings matched, no plan created: read {out.read} findings" + (f", left out: {left}" if left else ""),
    )


def evidence_of(row: dict) -> dict:
    """A finding row's evidence as a dict (empty when missing or not a JSON object)."""
    try:
        ev = json.loads(row.get("evidence") or "{}")
    except json.JSONDecodeError:
        return {}
    return ev if isinstance(ev, dict) else {}


def _unit_of(row: dict, ev: dict, units: dict[tuple[str, str], str]) -> str | None:
    if ev.get("unit_id"):
        return str(ev["unit_id"])
    return units.get((row["entity_type"], str(row["entity_id"])))


def open_entities(session: Any) -> set[tuple[str, str]]:
    """(entity_type, entity_id) of every task in an open state: a plan makes no second task for them."""
    from sqlalchemy import select

    q = select(Task.entity_type, Task.entity_id).where(Task.state.in_(OPEN_STATES))
    return {(t, str(e)) for t, e in session.execute(q)}


def finding_priority(
    row: dict, evidence: dict, score_pct: float | None, rate: Rate, settings: PrioritySettings = DEFAULT_PRIORITY
) -> float:
    """A finding's priority as plans rank it (``priority.priority``): its ¥ counts as unknown when the evidence
    says ``money_unknown``; ``score_pct`` from ``score_percentiles``, ``rate`` from ``HitRates.for_rule``."""
    yuan = None if evidence.get("money_unknown") else row.get("yuan_at_stake")
    return priority(score_pct, row.get("severity"), yuan, rate.rate, settings)


def known_rules(present: set[str], wanted: set[str]) -> set[str]:
    """The rule ids a plan may name: the rule catalog's, the line-loss, risk and tip-off analyzers' and those in
    the findings at hand. Loads the catalog only when ``wanted`` names a rule not ``present``."""
    if wanted <= present:
        return present
    from gridaudit.lineloss.to_findings import RULE_IDS
    from gridaudit.risk.pipeline import RULE_ID
    from gridaudit.rules.loader import load_catalog
    from gridaudit.tips.subjects import RULE_IDS as TIP_RULE_IDS

    return present | set(RULE_IDS) | {RULE_ID} | set(TIP_RULE_IDS) | {r.id for r in load_catalog()}


def _check_scope(
    rows: list[dict],
    families: list[str] | None,
    rules: list[str] | None,
    quotas: list[Quota],
    unit_map: dict[tuple[str, str], str] | None,
) -> None:
    """Refuse an unknown family or rule in the scope or a quota (an error, not an empty plan)."""
    bad = [f for f in families or [] if f not in FAMILIES]
    if bad:
        raise AuditError(
            f"没有问题类别 {', '.join(bad)}（可用 {', '.join(FAMILIES)}）",
            f"no finding family {', '.join(bad)} (known: {', '.join(FAMILIES)})",
        )
    wanted = set(rules or []) | {q.rule for q in quotas if q.rule}
    known = known_rules({r["rule_id"] for r in rows}, wanted) if wanted else set()
    bad = sorted(set(rules or []) - known)
    if bad:
        raise AuditError(
            f"没有规则 {', '.join(bad)}（规则目录与问题清单中都没有）",
            f"no rule {', '.join(bad)} in the rule catalog or the findings",
        )
    units = None
    if unit_map:
        units = set(unit_map.values()) | {r["unit_id"] for r in rows if r["unit_id"]}
    check_quotas(quotas, FAMILIES, known, units)


WANTED = "wanted_entities"  # the entities a caller asks about, registered on the engine


def entity_units(dataset_dir: str | Path, entities: pa.Table | None = None) -> dict[tuple[str, str], str]:
    """(entity_type, entity_id) → unit_id from a dataset's customers, areas, feeders and staff, and for
    meters, bills and work orders their customer's unit. ``entities`` (columns entity_type, entity_id, e.g. a
    findings table) limits the answer to those entities: a few thousand findings need not map 12 M bills."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines import open_engine

    ds = open_dataset(dataset_dir)
    eng = open_engine(ds)
    try:
        if entities is not None:
            register_entities(eng, entities)
        return _entity_units(ds, eng, entities is not None)
    finally:
        eng.close()


def register_entities(eng: Any, entities: pa.Table) -> None:
    """Expose the distinct (entity_type, entity_id) of ``entities`` as the engine table ``WANTED``."""
    import pyarrow.compute as pc

    pairs = pa.table(
        {
            "entity_type": pc.cast(entities.column("entity_type"), pa.string()),
            "entity_id": pc.cast(entities.column("entity_id"), pa.string()),
        }
    )
    eng.register_table(WANTED, pairs.group_by(["entity_type", "entity_id"]).aggregate([]))


def only_wanted(sql: str, etype: str, limited: bool) -> str:
    """``sql`` (columns k, …) kept to the keys of ``etype`` in ``WANTED`` when ``limited``."""
    if not limited:
        return sql
    return f"select * from ({sql}) q where k in (select entity_id from {WANTED} where entity_type = '{etype}')"


def _entity_units(ds: Any, eng: Any, limited: bool = False) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for etype, table, key in (
        ("customer", "customers", "customer_id"),
        ("area", "areas", "area_id"),
        ("feeder", "feeders", "feeder_id"),
        ("staff", "staff", "staff_id"),
    ):
        if ds.has(table):
            sql = f"select cast({key} as varchar) k, cast(unit_id as varchar) u from {table}"
            for k, u in _pairs(eng.query(only_wanted(sql, etype, limited))):
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
            for k, u in _pairs(eng.query(only_wanted(sql, etype, limited))):
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
    quotas: list[Quota] | None = None,
    title: str | None = None,
    source: dict | None = None,
    unit_map: dict[tuple[str, str], str] | None = None,
    settings: PrioritySettings = DEFAULT_PRIORITY,
    hit_settings: HitRateSettings = DEFAULT_HIT_RATES,
) -> PlanOutcome:
    """Create a plan for ``month`` from a findings table and its tasks (state ``new``).

    Findings in scope and not de-duplicated away are ranked by ``priority`` (hit rates from the store's
    closed tasks); ``quotas`` are filled first, then the rest of ``top`` under the diversity rule
    (docs/audit.md, "Priority"). Linear in the findings; a fixed number of queries."""
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
    from gridaudit.audit.access import visible_units

    scope_units = visible_units(session, actor)  # a planner bound to a unit plans only its unit tree
    quotas = quotas or []
    unit_map = unit_map or {}
    rows = findings.to_pylist()
    evidence = []
    for r in rows:
        ev = evidence_of(r)
        evidence.append(ev)
        r["unit_id"] = _unit_of(r, ev, unit_map)
    _check_scope(rows, families, rules, quotas, unit_map)
    pcts = score_percentiles(rows)  # scale-free: each score against its own rule's findings in this file
    rates = hit_rates(session, hit_settings)
    rule_rates: dict[str, Rate] = {}
    skipped: dict[str, int] = {}

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    taken = set(session.execute(select(Task.finding_id)).scalars())
    busy = open_entities(session)
    best: dict[tuple[str, str], dict] = {}
    for r, ev in zip(rows, evidence, strict=True):
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
        if scope_units is not None and r["unit_id"] not in scope_units:
            skip("outside the planner's units")
            continue
        if r["finding_id"] in taken:
            skip("finding already taken")
            continue
        key = (r["entity_type"], str(r["entity_id"]))
        if key in busy:
            skip("open task for entity")
            continue
        rate = rule_rates.get(r["rule_id"])
        if rate is None:
            rate = rule_rates[r["rule_id"]] = rates.for_rule(r["rule_id"], r["family"])
        r["hit_rate"] = rate
        r["priority"] = finding_priority(r, ev, pcts[r["finding_id"]], rate, settings)
        if key in best:
            skip("same entity in file")
            if (r["priority"], r["finding_id"]) <= (best[key]["priority"], best[key]["finding_id"]):
                continue
        best[key] = r
    ranked = sorted(best.values(), key=lambda r: (-r["priority"], r["finding_id"]))
    chosen = fill_quotas(ranked, quotas)
    over_top = max(0, len(chosen) - top) if top is not None else 0
    if top is None:
        chosen = ranked
    else:
        ids = {r["finding_id"] for r in chosen}
        rest = [r for r in ranked if r["finding_id"] not in ids]
        chosen = sorted(
            chosen
            + select_diverse(rest, top, settings.max_rule_share, taken=chosen, seat_share=settings.severe_seat_share),
            key=lambda r: (-r["priority"], r["finding_id"]),
        )
    if len(ranked) > len(chosen):
        skipped["beyond top"] = len(ranked) - len(chosen)
    filled = quota_fills(quotas, ranked, chosen)
    scope = {
        "units": units or [],
        "families": families or [],
        "rules": rules or [],
        "entity_type": entity_type,
        "top": top,
        "quotas": [f.as_dict() for f in filled],
        "max_rule_share": settings.max_rule_share,
        "severe_seat_share": settings.severe_seat_share,
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
                "hit_rate": r["hit_rate"].rate,
                "hit_record": [r["hit_rate"].hits, r["hit_rate"].n],
                "to": "new",
            },
        )
        for t, r in zip(tasks, chosen, strict=True)
    ]
    trail.append_many(session, actor.user_id, events)
    return PlanOutcome(plan=plan, tasks=tasks, read=len(rows), skipped=skipped, quotas=filled, over_top=over_top)


def file_source(path: str | Path) -> dict:
    """Provenance of a findings file: its path and sha256."""
    data = Path(path).read_bytes()
    return {"findings": str(path), "sha256": hashlib.sha256(data).hexdigest()}
