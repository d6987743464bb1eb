"""The findings list the web app shows (问题清单): filtered, in the user's unit scope, ranked by the plans' priority,
paged; and a plan made from the findings a planner selected.

The parts are the CLI's: the findings store (``findings.store``: the latest run of each analyzer), the filters
(``findings.query.FindingFilter`` / ``filter_findings``), the audit status (``findings.status``), unit scope
(``audit.access.visible_units``), the priority (``audit.plans.finding_priority``: the same number a plan ranks by,
with hit rates from the store's closed tasks) and plan creation (``audit.plans.create_plan``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gridaudit.audit.errors import AuditError, NotFound
from gridaudit.audit.hitrates import DEFAULT_HIT_RATES, HitRateSettings
from gridaudit.audit.priority import DEFAULT_PRIORITY, PrioritySettings
from gridaudit.findings.query import FindingFilter

LIST_PARAMS = ("family", "rule", "severity", "unit", "area", "staff", "period", "status", "entity_type", "entity")
PAGE_PARAMS = ("limit", "offset")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
ITEM_COLUMNS = ("finding_id", "rule_id", "family", "severity", "entity_type", "entity_id", "period", "score",
                "kwh_at_stake", "yuan_at_stake", "responsible_staff_id", "unit_id", "area_id", "audit_status",
                "analyzer", "run_id")  # fmt: skip
FIELD_PARAM = {"entity_types": "entity_type", "families": "family", "severities": "severity", "statuses": "status"}


class FindingQueryError(AuditError):
    """A findings-list parameter that cannot be used (names the parameter and the value, in zh and en)."""


@dataclass
class FindingQuery:
    """A findings-list request: the filter and the page (``limit`` rows from ``offset``)."""

    filter: FindingFilter = field(default_factory=FindingFilter)
    limit: int = DEFAULT_LIMIT
    offset: int = 0


@dataclass
class FindingsPage:
    """One page of the ranked findings: its rows, how many passed the filter, and the runs they come from."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int
    runs: list[str]


def _int(name: str, text: str, lo: int, hi: int | None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise FindingQueryError(
            f"参数 {name} 应为整数：{text!r}", f"parameter {name} must be a whole number: {text!r}"
        ) from None
    if value < lo or (hi is not None and value > hi):
        top = f"–{hi}" if hi is not None else " 或更大"
        top_en = f"–{hi}" if hi is not None else " or more"
        raise FindingQueryError(
            f"参数 {name} 应在 {lo}{top} 之间：{value}", f"parameter {name} must be {lo}{top_en}: {value}"
        )
    return value


def parse_query(params: Iterable[tuple[str, str]], ignore: Iterable[str] = ()) -> FindingQuery:
    """A :class:`FindingQuery` from request parameters (``(name, value)`` pairs, a name may repeat, a value may be
    ``a,b``). Unknown names (except ``ignore``), unknown codes, a bad period or page are ``FindingQueryError``."""
    from gridaudit.cli_options import split_list
    from gridaudit.findings.query import QueryError, bad_values, period_range

    values: dict[str, list[str]] = {}
    skip = set(ignore)
    for name, value in params:
        if name in skip:
            continue
        if name not in LIST_PARAMS and name not in PAGE_PARAMS:
            known = ", ".join(LIST_PARAMS + PAGE_PARAMS)
            raise FindingQueryError(f"未知参数 {name}（可用：{known}）", f"unknown parameter {name} (known: {known})")
        values.setdefault(name, []).append(value)
    for name in ("period", *PAGE_PARAMS):
        if len(split_list(values.get(name))) > 1:
            raise FindingQueryError(f"参数 {name} 只能有一个值", f"parameter {name} takes one value")
    one = {k: split_list(values.get(k))[0] for k in ("period", *PAGE_PARAMS) if split_list(values.get(k))}
    flt = FindingFilter(
        entity_types=split_list(values.get("entity_type")),
        entity_ids=split_list(values.get("entity")),
        staff=split_list(values.get("staff")),
        units=split_list(values.get("unit")),
        areas=split_list(values.get("area")),
        families=split_list(values.get("family")),
        rules=split_list(values.get("rule")),
        severities=split_list(values.get("severity")),
        period=one.get("period"),
        statuses=[s.replace("-", "_") for s in split_list(values.get("status"))],
    )
    for field_name, bad, domain in bad_values(flt):
        name = FIELD_PARAM[field_name]
        raise FindingQueryError(
            f"参数 {name} 的取值无效：{', '.join(bad)}（可用：{', '.join(domain)}）",
            f"bad {name} value: {', '.join(bad)} (known: {', '.join(domain)})",
        )
    if flt.period:
        try:
            period_range(flt.period)
        except QueryError:
            raise FindingQueryError(
                f"参数 period 应为 YYYY-MM 或 YYYY-MM..YYYY-MM（结束不早于开始）：{flt.period!r}",
                f"parameter period must be YYYY-MM or YYYY-MM..YYYY-MM (ending no earlier than it starts): "
                f"{flt.period!r}",
            ) from None
    limit = _int("limit", one["limit"], 1, MAX_LIMIT) if "limit" in one else DEFAULT_LIMIT
    offset = _int("offset", one["offset"], 0, None) if "offset" in one else 0
    return FindingQuery(filter=flt, limit=limit, offset=offset)


def query_params(query: FindingQuery, **changes: Any) -> list[tuple[str, str]]:
    """The request parameters that give ``query`` back (for links: the next page, a bookmark); ``changes``
    replaces ``limit``/``offset``. Defaults are left out, so a link stays short."""
    flt = query.filter
    pairs: list[tuple[str, str]] = []
    for name, values in (
        ("family", flt.families), ("rule", flt.rules), ("severity", flt.severities), ("unit", flt.units),
        ("area", flt.areas), ("staff", flt.staff), ("status", flt.statuses), ("entity_type", flt.entity_types),
        ("entity", flt.entity_ids),
    ):  # fmt: skip
        pairs += [(name, v) for v in values]
    if flt.period:
        pairs.append(("period", flt.period))
    limit, offset = changes.get("limit", query.limit), changes.get("offset", query.offset)
    if limit != DEFAULT_LIMIT:
        pairs.append(("limit", str(limit)))
    if offset:
        pairs.append(("offset", str(offset)))
    return pairs


def entity_areas(dataset_dir: str | Path, entities: pa.Table | None = None) -> dict[tuple[str, str], str]:
    """(entity_type, entity_id) → area_id (台区) from a dataset: customers, meters (their own area, else their
    customer's), and bills and work orders through their customer; ``entities`` limits the answer to those
    (as ``plans.entity_units``)."""
    from gridaudit.audit.plans import only_wanted, register_entities
    from gridaudit.dataset import open_dataset
    from gridaudit.engines import open_engine

    ds = open_dataset(dataset_dir)
    queries = []
    if ds.has("customers"):
        queries.append(("customer", "select customer_id k, area_id a from customers"))
        for etype, table, key in (("bill", "bills", "bill_id"), ("work_order", "work_orders", "order_id")):
            if ds.has(table):
                sql = f"select x.{key} k, c.area_id a from {table} x join customers c on c.customer_id = x.customer_id"
                queries.append((etype, sql))
    if ds.has("meters"):
        join = "left join customers c on c.customer_id = m.customer_id" if ds.has("customers") else ""
        area = "coalesce(m.area_id, c.area_id)" if ds.has("customers") else "m.area_id"
        queries.append(("meter", f"select m.meter_id k, {area} a from meters m {join}"))
    out: dict[tuple[str, str], str] = {}
    eng = open_engine(ds)
    try:
        if entities is not None:
            register_entities(eng, entities)
        for etype, sql in queries:
            typed = f"select cast(k as varchar) k, cast(a as varchar) a from ({sql}) q0 where a is not null"
            t = eng.query(only_wanted(typed, etype, entities is not None))
            for k, a in zip(t.column("k").to_pylist(), t.column("a").to_pylist(), strict=True):
                out[(etype, k)] = a
    finally:
        eng.close()
    return out


@lru_cache(maxsize=4)
def _loaded(root: str, version: str, run_ids: tuple[str, ...]) -> tuple[pa.Table, dict[str, float | None]]:
    """The findings of the runs with analyzer, unit_id and area_id, and each one's score percentile within its
    rule; cached per dataset version and runs (both never change once written)."""
    from gridaudit.audit.plans import entity_units
    from gridaudit.audit.priority import score_percentiles
    from gridaudit.findings.query import with_analyzer, with_areas, with_units
    from gridaudit.findings.store import read_runs, select_runs

    runs = select_runs(root, list(run_ids)) if run_ids else []
    table = with_analyzer(read_runs(runs), {r.run_id: r.analyzer for r in runs})
    unit_map = entity_units(root, table) if table.num_rows else {}
    area_map = entity_areas(root, table) if table.num_rows else {}
    table = with_areas(with_units(table, unit_map), area_map)
    pcts = score_percentiles(table.select(["finding_id", "rule_id", "score"]).to_pylist())
    return table, pcts


def load_findings(
    dataset_dir: str | Path, version: str | None = None
) -> tuple[pa.Table, dict[str, float | None], list[str]]:
    """The latest run of each analyzer in the dataset's findings store, widened (see ``_loaded``), with the
    score percentiles and the run ids; ``version``: the dataset version whose units apply (default: current)."""
    key = latest_key(dataset_dir, version)
    table, pcts = _loaded(*key)
    return table, pcts, list(key[2])


def latest_key(dataset_dir: str | Path, version: str | None) -> tuple[str, str, tuple[str, ...]]:
    """The cache key of the latest findings: (dataset folder, version, run ids)."""
    from gridaudit.dataset import open_dataset
    from gridaudit.findings.store import latest_runs

    if version is None:
        version = open_dataset(dataset_dir).version
    run_ids = tuple(r.run_id for r in latest_runs(dataset_dir))
    return str(Path(dataset_dir).resolve()), version, run_ids


def ranked(
    dataset_dir: str | Path, rates: Any, settings: PrioritySettings = DEFAULT_PRIORITY
) -> tuple[pa.Table, np.ndarray, np.ndarray, list[str]]:
    """The latest findings (widened, with ``_row``: the row number), each one's priority (``plans.finding_priority``
    with ``rates``) and its rank (0 = first: highest priority, ties by finding_id), and the run ids. Cached per
    dataset version, runs, settings and the hit rates of the rules present (a closed task moves them: new ranks)."""
    key3 = latest_key(dataset_dir, None)
    prep = _prepared(key3)
    key = (repr(settings), tuple(rates.for_rule(r, f).rate for r, f in prep.pairs))
    with prep.lock:
        hit = prep.ranks.get(key)
        if hit is None:
            hit = prep.rank(key[1], settings)
            prep.ranks[key] = hit
            while len(prep.ranks) > 4:
                prep.ranks.pop(next(iter(prep.ranks)))
    return prep.table, hit[0], hit[1], list(key3[2])


@dataclass
class _Prepared:
    """What ranking a findings table needs, computed once per table: the distinct (rule, family) pairs and each
    row's pair, score percentile, severity and ¥ (None when unknown or the evidence says ``money_unknown``)."""

    table: pa.Table
    pairs: list[tuple[str, str]]
    pair_of_row: list[int]
    pct: list[float | None]
    severity: list[str | None]
    yuan: list[float | None]
    ranks: dict[Any, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def rank(self, rates: tuple[float, ...], settings: PrioritySettings) -> tuple[np.ndarray, np.ndarray]:
        """Priorities and ranks with ``rates`` (one per pair)."""
        from gridaudit.audit.priority import priority

        prio = np.array(
            [
                priority(p, sv, y, rates[k], settings)
                for p, sv, y, k in zip(self.pct, self.severity, self.yuan, self.pair_of_row, strict=True)
            ],
            dtype=float,
        )
        keys = pa.table({"p": pa.array(prio, pa.float64()), "f": self.table.column("finding_id")})
        order = pc.sort_indices(keys, sort_keys=[("p", "descending"), ("f", "ascending")]).to_numpy()
        rank = np.empty(len(prio), dtype=np.int64)
        rank[order] = np.arange(len(prio))
        return prio, rank


_PREPARED: dict[tuple[str, str, tuple[str, ...]], _Prepared] = {}
_PREP_LOCK = threading.Lock()


def _prepared(key: tuple[str, str, tuple[str, ...]]) -> _Prepared:
    """The ranking inputs of the findings of ``key`` (dataset folder, version, runs: see ``_loaded``), made once."""
    with _PREP_LOCK:
        hit = _PREPARED.get(key)
        if hit is not None:
            return hit
    table, pcts = _loaded(*key)
    from gridaudit.audit.plans import evidence_of

    ids = table.column("finding_id").to_pylist()
    rules, fams = table.column("rule_id").to_pylist(), table.column("family").to_pylist()
    pair_index: dict[tuple[str, str], int] = {}
    pair_of_row = [pair_index.setdefault((r, f), len(pair_index)) for r, f in zip(rules, fams, strict=True)]
    yuan = table.column("yuan_at_stake").to_pylist()
    ev = table.column("evidence")
    maybe = pc.fill_null(pc.match_substring(ev, "money_unknown"), False).to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(maybe).tolist():  # only these can say so: parse just them
        if evidence_of({"evidence": ev[i].as_py()}).get("money_unknown"):
            yuan[i] = None
    widened = table.append_column("_row", pa.array(np.arange(table.num_rows), pa.int64()))
    prep = _Prepared(
        table=widened,
        pairs=list(pair_index),
        pair_of_row=pair_of_row,
        pct=[pcts.get(i) for i in ids],
        severity=table.column("severity").to_pylist(),
        yuan=yuan,
    )
    with _PREP_LOCK:
        while len(_PREPARED) >= 2:  # the latest runs of the dataset in force (and the one before, briefly)
            _PREPARED.pop(next(iter(_PREPARED)))
        _PREPARED[key] = prep
    return prep


def _clean(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def list_findings(
    session: Any,
    user: Any,
    dataset_dir: str | Path,
    query: FindingQuery,
    settings: PrioritySettings = DEFAULT_PRIORITY,
    hit_settings: HitRateSettings = DEFAULT_HIT_RATES,
) -> FindingsPage:
    """One page of findings that pass ``query`` and lie in ``user``'s unit scope (``access.visible_units``; a
    finding whose unit is unknown is seen only by users who see every unit), highest priority first (ties by
    finding_id). Each item has the finding's columns, ``priority``, ``hit_rate``, the tasks made from it and
    ``plannable`` (no task yet and no open task for its entity: a plan would take it)."""
    from gridaudit.audit.access import visible_units
    from gridaudit.audit.hitrates import hit_rates
    from gridaudit.audit.plans import evidence_of, open_entities
    from gridaudit.findings.query import filter_findings, with_status
    from gridaudit.findings.status import tasks_by_finding

    rates = hit_rates(session, hit_settings)
    full, prio, rank, run_ids = ranked(dataset_dir, rates, settings)
    table = full
    units = visible_units(session, user)
    if units is not None:
        keep = pc.fill_null(pc.is_in(table.column("unit_id"), value_set=pa.array(sorted(units), pa.string())), False)
        table = table.filter(keep)
    tasks = tasks_by_finding(session)
    if query.filter.statuses:
        table = with_status(table, tasks)
    rows_at = filter_findings(table, query.filter).column("_row").to_numpy()
    chosen = rows_at[np.argsort(rank[rows_at], kind="stable")]
    page_at = chosen[query.offset : query.offset + query.limit]
    busy = open_entities(session)
    items = []
    for r in with_status(full.take(page_at), tasks).to_pylist():
        rate = rates.for_rule(r["rule_id"], r["family"])
        item = {c: _clean(r.get(c)) for c in ITEM_COLUMNS}
        item["evidence"] = evidence_of(r)
        item["priority"] = float(prio[r["_row"]])
        item["hit_rate"] = rate.rate
        item["hit_record"] = [rate.hits, rate.n]
        item["tasks"] = [
            {"task_id": t.task_id, "plan_id": t.plan_id, "state": t.state, "assignee_id": t.assignee_id}
            for t in tasks.get(r["finding_id"], [])
        ]
        # what create_plan would say: a finding becomes a task once, and not while its entity has an open task
        item["plannable"] = not item["tasks"] and (r["entity_type"], str(r["entity_id"])) not in busy
        items.append(item)
    return FindingsPage(items=items, total=len(chosen), limit=query.limit, offset=query.offset, runs=run_ids)


def finding_detail(session: Any, user: Any, dataset_dir: str | Path, finding_id: str) -> dict[str, Any]:
    """One finding of the latest runs as :func:`list_findings` shows it (priority, hit rate, tasks, evidence);
    ``NotFound`` when it is not there or lies outside ``user``'s unit scope (the same words: the page does not
    tell which)."""
    table, _pcts, _runs = load_findings(dataset_dir)
    hit = table.filter(pc.equal(table.column("finding_id"), finding_id)).slice(0, 1).to_pylist()
    if hit:
        r = hit[0]
        same = FindingFilter(rules=[r["rule_id"]], entity_types=[r["entity_type"]], entity_ids=[str(r["entity_id"])])
        for item in list_findings(session, user, dataset_dir, FindingQuery(same, MAX_LIMIT)).items:
            if item["finding_id"] == finding_id:
                return item
    raise NotFound(
        f"问题库最新运行中没有问题 {finding_id}，或它不在您的单位范围内",
        f"no finding {finding_id} in the latest runs of the findings store, or it is outside your units",
    )


def may_plan(user: Any) -> bool:
    """Whether ``user`` may make a plan from selected findings (the roles ``plans.create_plan`` accepts)."""
    from gridaudit.audit.plans import PLANNERS

    return user is not None and bool(user.active) and user.role in PLANNERS


def plan_from_selection(
    session: Any,
    actor_id: str,
    dataset_dir: str | Path,
    finding_ids: Iterable[str],
    month: str,
    *,
    kind: str = "special",
    title: str | None = None,
    settings: PrioritySettings = DEFAULT_PRIORITY,
) -> Any:
    """A plan for ``month`` holding a task for each selected finding ``plans.create_plan`` accepts (its role
    check, unit scope of the planner, de-duplication against tasks taken or open); returns its ``PlanOutcome``.

    An unknown finding id is ``NotFound``; a selection that yields no task is an ``AuditError``
    (``plans.require_tasks``; raised inside the caller's transaction, so nothing is stored)."""
    from gridaudit.audit.plans import create_plan, entity_units, require_tasks
    from gridaudit.findings.store import latest_runs

    ids = list(dict.fromkeys(f.strip() for f in finding_ids if f and f.strip()))
    if not ids:
        raise AuditError("请至少选择一条问题", "select at least one finding")
    table, _pcts, _runs = load_findings(dataset_dir)
    picked = table.filter(pc.is_in(table.column("finding_id"), value_set=pa.array(ids, pa.string())))
    missing = sorted(set(ids) - set(picked.column("finding_id").to_pylist()))
    if missing:
        raise NotFound(
            f"问题库最新运行中没有这些问题：{', '.join(missing[:10])}",
            f"no such finding in the latest runs of the findings store: {', '.join(missing[:10])}",
        )
    picked = _first_per_finding(picked)
    runs = [r.source() for r in latest_runs(dataset_dir)]
    source = {"runs": runs, "selected": ids}
    out = create_plan(
        session,
        actor_id,
        month,
        picked,
        kind=kind,
        title=title,
        source=source,
        unit_map=entity_units(dataset_dir, picked),
        settings=settings,
    )
    require_tasks(out)
    return out


def _first_per_finding(table: pa.Table) -> pa.Table:
    seen: set[str] = set()
    keep = []
    for i, f in enumerate(table.column("finding_id").to_pylist()):
        if f not in seen:
            seen.add(f)
            keep.append(i)
    return table.take(pa.array(keep, pa.int64())) if len(keep) != table.num_rows else table
