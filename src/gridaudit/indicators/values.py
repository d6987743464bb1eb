"""Compute every catalogue indicator for a month at every level it has (the values, not the points).

One engine over the dataset (``engines.open_engine``: DuckDB), the derived inputs registered as
tables, then per indicator: its SQL into a temporary table of items, one GROUP BY per person level and one
per unit over the unit closure (a unit's value covers the units under it: roll-up unit → parent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa

from gridaudit.dataset import Dataset
from gridaudit.i18n import Text, both
from gridaudit.indicators.catalog import PERSON_LEVELS, Indicator, IndicatorError
from gridaudit.indicators.inputs import (
    Unavailable,
    audit_tasks_month,
    lineloss_monthly,
    month_bounds,
    month_shift,
    work_order_step_days,
)
from gridaudit.rules.safety import check_rule_sql, param_names

EXPLAIN_ROWS = 50
# days with data per meter: one row per meter and day unless registers split a day (then count days, dearer)
AMI_DAYS_SQL = (
    "create or replace temp table ami_days_month as select meter_id, {count} as days "
    "from daily_usage where day >= $month_start and day < $next_start group by meter_id"
)
REGISTERS_SQL = "select count(register) n from daily_usage where day >= $month_start and day < $next_start"


@dataclass
class Value:
    """One indicator's value for one entity: ``value`` None when there is nothing to compute it from."""

    indicator: str
    level: str
    entity_id: str
    value: float | None
    num: float
    den: float
    items: int
    reason: Text | None = None  # why there is no value, when there is none


@dataclass
class Entities:
    """Who is assessed: units with their level, staff with their role, area managers, and display names."""

    unit_level: dict[str, str]  # unit_id → station / county / company (mapped units only)
    closure: list[tuple[str, str]]  # (unit_id, ancestor_id), every unit its own ancestor
    staff_role: dict[str, str]
    managers: set[str]
    names: dict[str, str] = field(default_factory=dict)
    staff_unit: dict[str, str] = field(default_factory=dict)  # staff.unit_id of each person

    def subtree(self, unit_id: str) -> set[str]:
        """``unit_id`` and the units under it."""
        return {u for u, a in self.closure if a == unit_id}


@dataclass
class Computed:
    """Every value of the month, the entities, notes, and (for ``explain``) the rows behind each value."""

    values: list[Value]
    entities: Entities
    notes: list[Text]
    rows: dict[str, list[dict]]  # indicator → items behind the explained entity
    dataset_version: str | None


MONTH_SOURCES = {
    "readings": "select distinct cast(period as varchar) m from readings",
    "bills": "select distinct cast(period as varchar) m from bills",
}


def data_months(eng: Any, ds: Dataset) -> list[str]:
    """The months the dataset has data for (the span of daily_usage days, readings and bills periods), sorted."""
    found: set[str] = set()
    parts = [sql for table, sql in MONTH_SOURCES.items() if ds.has(table)]
    if parts:
        found |= {m for m in eng.query(" union ".join(parts)).column("m").to_pylist() if m}
    if ds.has("daily_usage"):  # min/max come from the Parquet statistics: no scan of the rows
        lo, hi = (
            eng.query("select strftime(min(day), '%Y-%m') lo, strftime(max(day), '%Y-%m') hi from daily_usage")
            .to_pylist()[0]
            .values()
        )
        m = lo
        while m is not None and hi is not None and m <= hi:
            found.add(m)
            m = month_shift(m, 1)
    return sorted(found)


def latest_data_month(dataset: Dataset) -> str | None:
    """The last month the dataset has data for (what the demo assesses)."""
    from gridaudit.engines import open_engine

    eng = open_engine(dataset)
    try:
        months = data_months(eng, dataset)
    finally:
        eng.close()
    return months[-1] if months else None


def closure_of(parents: dict[str, str | None]) -> list[tuple[str, str]]:
    """(unit, ancestor) pairs of a unit tree, each unit its own ancestor; a parent loop cannot loop forever."""
    out = []
    for unit in sorted(parents):
        seen: set[str] = set()
        cur: str | None = unit
        while cur is not None and cur not in seen:
            seen.add(cur)
            out.append((unit, cur))
            cur = parents.get(cur)
    return out


def _entities(eng: Any, ds: Dataset, level_of: Any) -> tuple[Entities, list[Text]]:
    notes: list[Text] = []
    parents: dict[str, str | None] = {}
    unit_level: dict[str, str] = {}
    names: dict[str, str] = {}
    if ds.has("units"):
        for r in eng.query(
            "select cast(unit_id as varchar) u, cast(parent_id as varchar) p, "
            "cast(level as varchar) l, cast(name as varchar) n from units"
        ).to_pylist():
            parents[r["u"]] = r["p"]
            names[r["u"]] = r["n"] or r["u"]
            lvl = level_of(r["l"])
            if lvl is None:
                notes.append(
                    Text(
                        f"单位 {r['u']} 的层级 {r['l']!r} 未映射到供电所/县公司/公司，不参与单位考核",
                        f"unit {r['u']}: level {r['l']!r} maps to no station/county/company; not assessed",
                    )
                )
            else:
                unit_level[r["u"]] = lvl
    else:
        notes.append(Text("数据集没有 units 表：不做单位考核", "the dataset has no units table: no unit assessment"))
    staff: dict[str, str] = {}
    staff_unit: dict[str, str] = {}
    if ds.has("staff"):
        for r in eng.query(
            "select cast(staff_id as varchar) s, cast(role as varchar) r, cast(name as varchar) n, "
            "cast(unit_id as varchar) u from staff"
        ).to_pylist():
            staff[r["s"]] = r["r"]
            if r["u"] is not None:
                staff_unit[r["s"]] = r["u"]
            names.setdefault(r["s"], r["n"] or r["s"])
    managers: set[str] = set()
    if ds.has("areas"):
        q = "select distinct cast(manager_id as varchar) m from areas where manager_id is not null"
        managers = {r["m"] for r in eng.query(q).to_pylist()}
    return Entities(unit_level, closure_of(parents), staff, managers, names, staff_unit), notes


def population(ind: Indicator, level: str, ent: Entities) -> set[str]:
    """The entities assessed on ``ind`` at ``level`` before looking at its items."""
    if level == "staff":
        return {s for s, r in ent.staff_role.items() if not ind.roles or r in ind.roles}
    if level == "area_manager":
        return set(ent.managers)
    return {u for u, lvl in ent.unit_level.items() if lvl == level}


def _value(ind: Indicator, num: float, den: float) -> float | None:
    if not den:
        return None
    return round(num / den * ind.scale, 6) if ind.aggregate == "ratio" else round(num, 6)


NO_ITEMS = Text("没有可计算该指标的数据", "nothing to compute it from")


def compute(
    dataset: Dataset,
    month: str,
    catalog: list[Indicator],
    level_of: Any,
    session: Any = None,
    as_of: date | None = None,
    explain: str | None = None,
) -> Computed:
    """Every indicator of ``catalog`` for ``month`` at each of its levels (see the module docstring)."""
    from gridaudit.engines import open_engine

    eng = open_engine(dataset)
    try:
        months = data_months(eng, dataset)
        if months and month not in months:
            raise IndicatorError(
                both(
                    f"数据集 {dataset.root} 中没有 {month} 的数据（覆盖 {months[0]}..{months[-1]}）",
                    f"no data for {month} in dataset {dataset.root} (it covers {months[0]}..{months[-1]})",
                )
            )
        ent, notes = _entities(eng, dataset, level_of)
        eng.register_table(
            "ind_unit_closure",
            pa.table({"unit_id": [u for u, _ in ent.closure], "ancestor_id": [a for _, a in ent.closure]}),
        )
        inputs = _inputs(eng, dataset, month, catalog, session, as_of or date.today())
        eng.lock_down()
        start, nxt = month_bounds(month)
        bound = {"month": month, "month_start": start, "next_start": nxt}
        values: list[Value] = []
        rows: dict[str, list[dict]] = {}
        for ind in catalog:
            reason = _unavailable(ind, dataset, inputs)
            if reason is None:
                got, behind = _run(eng, ind, bound, ent, explain)
                values += got
                if behind is not None:
                    rows[ind.id] = behind
            else:
                values += [
                    Value(ind.id, lvl, e, None, 0.0, 0.0, 0, reason)
                    for lvl in ind.levels
                    for e in sorted(population(ind, lvl, ent))
                ]
        return Computed(values, ent, notes, rows, dataset.version)
    finally:
        eng.close()


def _inputs(eng: Any, ds: Dataset, month: str, catalog: list[Indicator], session: Any, as_of: date) -> dict:
    wanted = {i for ind in catalog for i in ind.inputs}
    out: dict[str, pa.Table | Unavailable] = {}
    if "lineloss_monthly" in wanted:
        out["lineloss_monthly"] = lineloss_monthly(ds, month)
    if "audit_tasks_month" in wanted:
        out["audit_tasks_month"] = (
            audit_tasks_month(session, month, as_of)
            if session is not None
            else Unavailable(Text("未指定案件库（--store）", "no case store given (--store)"))
        )
    for name, table in out.items():
        if isinstance(table, pa.Table):
            eng.register_table(name, table)
    if "work_order_step_days" in wanted:
        failed = work_order_step_days(eng, ds)
        if failed is not None:
            out["work_order_step_days"] = failed
    if "ami_days_month" in wanted:
        if ds.has("daily_usage"):
            start, nxt = month_bounds(month)
            bounds = {"month_start": start, "next_start": nxt}
            registers = eng.query(REGISTERS_SQL, bounds).column("n")[0].as_py()
            eng.query(AMI_DAYS_SQL.format(count="count(distinct day)" if registers else "count(*)"), bounds)
        else:
            out["ami_days_month"] = Unavailable(Text("数据集缺少表 daily_usage", "the dataset lacks table daily_usage"))
    return out


def _unavailable(ind: Indicator, ds: Dataset, inputs: dict) -> Text | None:
    missing = [t for t in ind.tables if not ds.has(t)]
    if missing:
        return Text(f"数据集缺少表 {', '.join(missing)}", f"the dataset lacks table(s) {', '.join(missing)}")
    for name in ind.inputs:
        got = inputs.get(name)
        if isinstance(got, Unavailable):
            return got.reason
    return None


def _run(
    eng: Any, ind: Indicator, bound: dict, ent: Entities, explain: str | None
) -> tuple[list[Value], list[dict] | None]:
    tree = check_rule_sql(ind.sql, set(ind.tables) | set(ind.inputs))
    params = {**bound, **ind.params}
    used = {k: v for k, v in params.items() if k in param_names(tree)}
    eng.query(f"create or replace temp table ind_items as {ind.sql}", used)
    out: list[Value] = []
    for level in ind.levels:
        if level in PERSON_LEVELS:
            q = (
                "select cast(person_id as varchar) e, sum(num) n, sum(den) d, count(*) c from ind_items "
                "where person_id is not null group by 1"
            )
        else:
            q = (
                "select c.ancestor_id e, sum(i.num) n, sum(i.den) d, count(*) c from ind_items i "
                "join ind_unit_closure c on c.unit_id = cast(i.unit_id as varchar) group by 1"
            )
        got = {r["e"]: r for r in eng.query(q).to_pylist()}
        for e in sorted(population(ind, level, ent) | (set(got) if level in PERSON_LEVELS else set())):
            r = got.get(e)
            if level not in PERSON_LEVELS and ent.unit_level.get(e) != level:
                continue
            if r is None:
                out.append(Value(ind.id, level, e, None, 0.0, 0.0, 0, NO_ITEMS))
                continue
            num, den = float(r["n"] or 0.0), float(r["d"] or 0.0)
            v = _value(ind, num, den)
            out.append(
                Value(
                    ind.id, level, e, v, round(num, 6), round(den, 6), int(r["c"]), None if v is not None else NO_ITEMS
                )
            )
    behind = None
    if explain is not None:
        units = sorted(ent.subtree(explain))
        behind = eng.query(
            "select * from ind_items where cast(person_id as varchar) = $e "
            "or cast(unit_id as varchar) in (select unnest($u)) order by item_id limit $n",
            {"e": explain, "u": units or [explain], "n": EXPLAIN_ROWS},
        ).to_pylist()
    eng.query("drop table if exists ind_items")
    return out, behind
