"""The four-axis energy balance (线损四分) as set-based SQL: one aggregate pass over daily_usage.

Every meter is mapped once to a *node* (``area_supply``, ``area_sales``, ``feeder_supply``,
``feeder_direct``); one GROUP BY over daily_usage gives energy and reporting meters per node and day.
Everything after that works on the small node × day table:

* area:    supply = area_total meters;  sales = customers mapped to the area; loss = supply − sales
* feeder:  supply = feeder_head meters; out = Σ area supply + customers fed directly; loss = supply − out
* voltage: per (unit, kV): feeder balances at the feeder's kV, area balances at the area voltage (0.4 kV)
* unit:    supply = Σ feeder heads of the unit and its descendants; sales = Σ customers; loss = supply − sales
           (= Σ feeder loss + Σ area loss exactly: energy is summed as integer Wh, rounded per meter-day)

Areas roll up to voltage level and unit through their feeder (the network tree). Missing supply counts
as 0 kWh in the balance so totals always tie out; rates and bands of months and windows are over the
computable days only (:func:`day_ok`: supply meters complete, every area meter on the sales side complete — a
feeder's and its voltage level's — and enough sales meters reporting; settings ``days``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pyarrow as pa

from gridaudit.engines import Engine
from gridaudit.lineloss.inputs import ask, stage
from gridaudit.lineloss.settings import LEVELS, LossSettings

ENERGY = "BIGINT"  # integer Wh: round(kwh × multiplier × 1000) per meter-day, exact sums


@dataclass(frozen=True)
class Window:
    """The days balanced: ``start`` to ``end`` inclusive, with a label used as the findings period."""

    start: date
    end: date

    @property
    def label(self) -> str:
        """``YYYY-MM`` for one calendar month, else ``YYYY-MM..YYYY-MM`` (or the exact days)."""
        s, e = self.start, self.end
        month_end = (e.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        if s.day == 1 and e == month_end:
            a, b = s.strftime("%Y-%m"), e.strftime("%Y-%m")
            return a if a == b else f"{a}..{b}"
        return f"{s.isoformat()}..{e.isoformat()}"

    def days(self) -> list[date]:
        """Every day of the window."""
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


def register_dimensions(engine: Engine, window: Window, settings: LossSettings) -> None:
    """Register the small tables the SQL joins: days, unit closure (unit → ancestors) and bands."""
    days = pa.table({"day": pa.array(window.days(), pa.date32())})
    days = days.append_column("period", pa.array([d.strftime("%Y-%m") for d in window.days()]))
    engine.register_table("ll_days", days)

    unit_ids: set[str] = set()
    parents: dict[str, str | None] = {}
    have = engine.tables()
    if "units" in have:
        for r in ask(engine, "SELECT unit_id, parent_id FROM units").to_pylist():
            parents[str(r["unit_id"])] = None if r["parent_id"] is None else str(r["parent_id"])
    for table in ("feeders", "areas"):
        if table in have:
            unit_ids.update(str(u) for u in ask(engine, f"SELECT DISTINCT unit_id FROM {table}").column(0).to_pylist())
    unit_ids.update(parents)
    closure: dict[str, list[str]] = {"unit_id": [], "ancestor_id": []}
    for uid in sorted(unit_ids):
        seen: set[str] = set()
        cur: str | None = uid
        while cur is not None and cur not in seen:
            seen.add(cur)
            closure["unit_id"].append(uid)
            closure["ancestor_id"].append(cur)
            cur = parents.get(cur)
    engine.register_table("ll_unit_closure", pa.table(closure, schema=_CLOSURE_SCHEMA))

    rows = []
    for uid in sorted(unit_ids | set(closure["ancestor_id"])):
        for level in LEVELS:
            b = settings.bands_for(uid, level)
            rows.append(
                {
                    "unit_id": uid,
                    "level": level,
                    "negative_below": b.negative_below,
                    "watch_from": b.watch_from,
                    "high_from": b.high_from,
                    "extreme_from": b.extreme_from,
                    "min_coverage": b.min_coverage,
                }
            )
    engine.register_table("ll_bands", pa.Table.from_pylist(rows, schema=_BANDS_SCHEMA))

    # voltage-level ids (UNIT:10.0kV) spelt the same on every engine: the kV as Python writes the float
    kvs = {
        float(v) for v in ask(engine, "SELECT DISTINCT voltage_kv FROM feeders").column(0).to_pylist() if v is not None
    }
    kvs.add(float(settings.technical.area_voltage_kv))
    labels = sorted(kvs)
    engine.register_table(
        "ll_kv", pa.table({"voltage_kv": pa.array(labels, pa.float64()), "kv_label": [repr(v) for v in labels]})
    )


_CLOSURE_SCHEMA = pa.schema([("unit_id", pa.string()), ("ancestor_id", pa.string())])


_BANDS_SCHEMA = pa.schema(
    [("unit_id", pa.string()), ("level", pa.string())]
    + [(c, pa.float64()) for c in ("negative_below", "watch_from", "high_from", "extreme_from", "min_coverage")]
)


METER_RAW_SQL = """
WITH raw AS (
    SELECT m.meter_id, m.multiplier, 'area_supply' AS node_kind, m.area_id AS node_id,
           m.installed_on AS s1, CAST(NULL AS DATE) AS s2, m.removed_on AS e1, CAST(NULL AS DATE) AS e2,
           CAST(NULL AS VARCHAR) AS customer_id
    FROM meters m WHERE m.role = 'area_total' AND m.area_id IS NOT NULL
    UNION ALL
    SELECT m.meter_id, m.multiplier, 'feeder_supply', m.feeder_id,
           m.installed_on, CAST(NULL AS DATE), m.removed_on, CAST(NULL AS DATE), CAST(NULL AS VARCHAR)
    FROM meters m WHERE m.role = 'feeder_head' AND m.feeder_id IS NOT NULL
    UNION ALL
    SELECT m.meter_id, m.multiplier,
           CASE WHEN COALESCE(c.area_id, m.area_id) IS NOT NULL THEN 'area_sales'
                WHEN COALESCE(c.feeder_id, m.feeder_id) IS NOT NULL THEN 'feeder_direct'
                ELSE 'unmapped' END,
           COALESCE(c.area_id, m.area_id, c.feeder_id, m.feeder_id, m.meter_id),
           m.installed_on, c.connected_on, m.removed_on,
           CASE WHEN c.closed_on IS NOT NULL THEN c.closed_on + 1
                WHEN c.status = 'closed' THEN DATE '0001-01-01' END,
           c.customer_id
    FROM meters m JOIN customers c ON c.customer_id = m.customer_id
    WHERE m.role = 'customer'
)
SELECT meter_id, CAST(multiplier AS DOUBLE) AS multiplier, node_kind, node_id, customer_id,
       GREATEST(COALESCE(s1, $d_from), COALESCE(s2, $d_from), $d_from) AS start_day,
       LEAST(COALESCE(e1, $d_end), COALESCE(e2, $d_end), $d_end) AS end_day
FROM raw
"""

NODES_SQL = """
SELECT CAST(ROW_NUMBER() OVER (ORDER BY node_kind, node_id) AS INTEGER) AS node_no, node_kind, node_id
FROM (
    SELECT 'area_supply' AS node_kind, area_id AS node_id FROM areas
    UNION SELECT 'area_sales', area_id FROM areas
    UNION SELECT 'feeder_supply', feeder_id FROM feeders
    UNION SELECT 'feeder_direct', feeder_id FROM feeders
    UNION SELECT node_kind, node_id FROM ll_meter_raw
) x
"""

METER_MAP_SQL = """
SELECT r.*, n.node_no, CAST(DENSE_RANK() OVER (ORDER BY r.customer_id) AS INTEGER) AS cust_no
FROM ll_meter_raw r JOIN ll_nodes n ON n.node_kind = r.node_kind AND n.node_id = r.node_id
"""

# Whole Wh of one meter-day, rounded half away from zero the same way on every engine (PostgreSQL's ROUND of
# a double rounds half to even).
WH = "CAST(SIGN(d.kwh * mm.multiplier * 1000) * FLOOR(ABS(d.kwh * mm.multiplier * 1000) + 0.5) AS BIGINT)"

# The one pass over daily_usage (soda-core lesson): energy and reporting meters per node and day.
NODE_DAY_SQL = f"""
WITH s AS (
    SELECT d.day, mm.node_no, SUM({WH}) AS wh, COUNT(*) AS reporting
    FROM daily_usage d JOIN ll_meter_map mm ON mm.meter_id = d.meter_id
    WHERE d.day >= $d_from AND d.day < $d_end
    GROUP BY d.day, mm.node_no
)
SELECT s.day, s.node_no, CAST(s.wh AS {ENERGY}) AS wh, s.reporting FROM s
"""

# Meters expected per node and day, by +1/−1 deltas and a running sum (no meter × day expansion).
EXPECTED_SQL = """
WITH deltas AS (
    SELECT node_no, day, SUM(delta) AS delta FROM (
        SELECT node_no, start_day AS day, 1 AS delta FROM ll_meter_map WHERE start_day < end_day
        UNION ALL
        SELECT node_no, end_day, -1 FROM ll_meter_map WHERE start_day < end_day
    ) x GROUP BY node_no, day
),
grid AS (
    SELECT n.node_no, d.day, d.period,
           SUM(COALESCE(dl.delta, 0)) OVER (PARTITION BY n.node_no ORDER BY d.day
                                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS expected
    FROM ll_nodes n CROSS JOIN ll_days d
    LEFT JOIN deltas dl ON dl.node_no = n.node_no AND dl.day = d.day
    WHERE n.node_kind <> 'unmapped'
)
SELECT g.node_no, g.day, g.period, g.expected, COALESCE(s.reporting, 0) AS reporting, s.wh AS wh
FROM grid g LEFT JOIN ll_node_scan s ON s.node_no = g.node_no AND s.day = g.day
"""

# One row per entity and day, all four levels; energy (supply, sales) still in integer Wh here. Meter counts for
# the complete-day rule (DAY_OK): sup_rep/sup_exp = the supply meters (area: area_total; feeder: feeder_head;
# voltage: those of its feeders or areas; unit: the feeder heads); area_ok/area_n = the areas on the sales side
# (feeder and its voltage level: Σ area supply is part of the feeder's out) whose area meters all reported, of
# all of them (an area with neither meter nor customers expected counts as measured); rep/exp = the meters on the
# sales side (area: its customers; feeder: its area meters + customers fed directly; unit: all its customers —
# area meters cancel out of its balance, so the unit takes its areas' supply meters back out of its feeders').
LEVEL_DAY_SQL = f"""
WITH a AS (
    SELECT ar.area_id, ar.feeder_id, ar.unit_id AS area_unit, f.unit_id AS tree_unit, f.voltage_kv AS feeder_kv,
           sup.day, sup.period,
           COALESCE(sup.wh, CAST(0 AS {ENERGY})) AS supply,
           COALESCE(sal.wh, CAST(0 AS {ENERGY})) AS sales,
           sup.reporting AS sup_rep, sup.expected AS sup_exp,
           sal.reporting AS rep, sal.expected AS exp,
           CASE WHEN (sup.expected > 0 AND sup.reporting >= sup.expected) OR (sup.expected = 0 AND sal.expected = 0)
                THEN 1 ELSE 0 END AS measured
    FROM areas ar
    LEFT JOIN feeders f ON f.feeder_id = ar.feeder_id
    JOIN ll_nodes ns ON ns.node_kind = 'area_supply' AND ns.node_id = ar.area_id
    JOIN ll_nodes nl ON nl.node_kind = 'area_sales' AND nl.node_id = ar.area_id
    JOIN ll_node_day sup ON sup.node_no = ns.node_no
    JOIN ll_node_day sal ON sal.node_no = nl.node_no AND sal.day = sup.day
),
fa AS (
    SELECT feeder_id, day, SUM(supply) AS supply, SUM(sup_rep) AS rep, SUM(sup_exp) AS exp,
           SUM(measured) AS measured, COUNT(*) AS areas
    FROM a GROUP BY feeder_id, day
),
f AS (
    SELECT fd.feeder_id, fd.unit_id, fd.voltage_kv, sup.day, sup.period,
           COALESCE(sup.wh, CAST(0 AS {ENERGY})) AS supply,
           COALESCE(fa.supply, CAST(0 AS {ENERGY})) + COALESCE(dir.wh, CAST(0 AS {ENERGY})) AS sales,
           sup.reporting AS sup_rep, sup.expected AS sup_exp,
           CAST(COALESCE(fa.measured, 0) AS BIGINT) AS area_ok, CAST(COALESCE(fa.areas, 0) AS BIGINT) AS area_n,
           COALESCE(fa.rep, 0) + dir.reporting AS rep, COALESCE(fa.exp, 0) + dir.expected AS exp
    FROM feeders fd
    JOIN ll_nodes ns ON ns.node_kind = 'feeder_supply' AND ns.node_id = fd.feeder_id
    JOIN ll_nodes nd ON nd.node_kind = 'feeder_direct' AND nd.node_id = fd.feeder_id
    JOIN ll_node_day sup ON sup.node_no = ns.node_no
    JOIN ll_node_day dir ON dir.node_no = nd.node_no AND dir.day = sup.day
    LEFT JOIN fa ON fa.feeder_id = fd.feeder_id AND fa.day = sup.day
),
parts AS (
    SELECT 'area' AS level, area_id AS entity_id, area_unit AS unit_id, feeder_id, {{area_kv}} AS voltage_kv,
           tree_unit, day, period, supply, sales, sup_rep, sup_exp,
           CAST(0 AS BIGINT) AS area_ok, CAST(0 AS BIGINT) AS area_n, rep, exp FROM a
    UNION ALL
    SELECT 'feeder', feeder_id, unit_id, feeder_id, voltage_kv, unit_id, day, period,
           supply, sales, sup_rep, sup_exp, area_ok, area_n, rep, exp FROM f
)
SELECT level, entity_id, unit_id, feeder_id, voltage_kv, day, period, supply, sales, sup_rep, sup_exp,
       area_ok, area_n, rep, exp
FROM parts
UNION ALL
SELECT 'voltage', p.tree_unit || ':' || k.kv_label || 'kV', p.tree_unit, CAST(NULL AS VARCHAR),
       p.voltage_kv, p.day, p.period, SUM(p.supply), SUM(p.sales), SUM(p.sup_rep), SUM(p.sup_exp),
       SUM(p.area_ok), SUM(p.area_n), SUM(p.rep), SUM(p.exp)
FROM parts p LEFT JOIN ll_kv k ON k.voltage_kv = p.voltage_kv
WHERE p.tree_unit IS NOT NULL
GROUP BY p.tree_unit, p.voltage_kv, k.kv_label, p.day, p.period
UNION ALL
SELECT 'unit', uc.ancestor_id, uc.ancestor_id, CAST(NULL AS VARCHAR), CAST(NULL AS DOUBLE), p.day, p.period,
       SUM(CASE WHEN p.level = 'feeder' THEN p.supply ELSE CAST(0 AS {ENERGY}) END),
       SUM(CASE WHEN p.level = 'feeder' THEN p.sales ELSE CAST(0 AS {ENERGY}) END)
         - SUM(CASE WHEN p.level = 'area' THEN p.supply - p.sales ELSE CAST(0 AS {ENERGY}) END),
       SUM(CASE WHEN p.level = 'feeder' THEN p.sup_rep ELSE 0 END),
       SUM(CASE WHEN p.level = 'feeder' THEN p.sup_exp ELSE 0 END),
       SUM(CAST(0 AS BIGINT)), SUM(CAST(0 AS BIGINT)),
       SUM(p.rep) - SUM(CASE WHEN p.level = 'area' THEN p.sup_rep ELSE 0 END),
       SUM(p.exp) - SUM(CASE WHEN p.level = 'area' THEN p.sup_exp ELSE 0 END)
FROM parts p JOIN ll_unit_closure uc ON uc.unit_id = p.tree_unit
GROUP BY uc.ancestor_id, p.day, p.period
"""


def day_ok(alias: str = "") -> str:
    """SQL condition: a level-day row (of ``ll_level_day``, ``alias.`` prefixed when given) is computable (可算日).

    Its supply meters all reported, every area on its sales side was measured (all area meters reported) and at
    least ``$min_day_cov`` of its expected sales meters reported.
    """
    p = f"{alias}." if alias else ""
    return (
        f"({p}sup_exp > 0 AND {p}sup_rep >= {p}sup_exp AND {p}area_ok >= {p}area_n"
        f" AND ({p}exp = 0 OR {p}rep >= $min_day_cov * {p}exp))"
    )


DAY_OK = day_ok()


def _finish_sql(source: str, period_expr: str, group: str) -> str:
    """Aggregate ``source`` (level-day rows) to ``group`` and add rate, coverage and band (all levels).

    Energy columns (``supply_kwh``…) sum every day, so the levels tie out; the rate, coverage and band are
    over the computable days only (``*_used`` columns), and the days left out are listed.
    """
    return f"""
WITH flagged AS (
    SELECT *, CASE WHEN {DAY_OK} THEN 1 ELSE 0 END AS used FROM {source}
),
agg AS (
    SELECT level, entity_id, MIN(unit_id) AS unit_id, MIN(feeder_id) AS feeder_id, MIN(voltage_kv) AS voltage_kv,
           {period_expr} AS period, MIN(day) AS first_day, MAX(day) AS last_day, COUNT(*) AS days,
           SUM(supply) AS supply, SUM(sales) AS sales,
           SUM(CASE WHEN sup_exp > 0 AND sup_rep >= sup_exp THEN 1 ELSE 0 END) AS days_supply_ok,
           SUM(area_ok) AS area_ok, SUM(area_n) AS area_n, SUM(rep) AS rep, SUM(exp) AS exp,
           SUM(used) AS days_used,
           SUM(CASE WHEN used = 1 THEN supply ELSE CAST(0 AS {ENERGY}) END) AS supply_u,
           SUM(CASE WHEN used = 1 THEN sales ELSE CAST(0 AS {ENERGY}) END) AS sales_u,
           SUM(CASE WHEN used = 1 THEN rep ELSE 0 END) AS rep_u,
           SUM(CASE WHEN used = 1 THEN exp ELSE 0 END) AS exp_u,
           STRING_AGG(CASE WHEN used = 0 THEN CAST(day AS VARCHAR) END, ',' ORDER BY day) AS left_out_days
    FROM flagged
    GROUP BY level, entity_id{group}
),
r AS (
    SELECT agg.*, supply - sales AS loss, supply_u - sales_u AS loss_u,
           CASE WHEN exp > 0 THEN CAST(rep AS DOUBLE) / exp ELSE 1.0 END AS coverage,
           CASE WHEN exp_u > 0 THEN CAST(rep_u AS DOUBLE) / exp_u WHEN days_used > 0 THEN 1.0 END AS coverage_u,
           days_supply_ok = days AS supply_ok,
           GREATEST(1, LEAST($min_days, days), CAST(CEIL($min_share * days - 1e-9) AS BIGINT)) AS days_required
    FROM agg
)
SELECT r.level, r.entity_id, r.unit_id, r.feeder_id, r.voltage_kv, r.period, r.first_day, r.last_day, r.days,
       CAST(r.supply AS DOUBLE) / 1000.0 AS supply_kwh, CAST(r.sales AS DOUBLE) / 1000.0 AS sales_kwh,
       CAST(r.loss AS DOUBLE) / 1000.0 AS loss_kwh,
       CASE WHEN r.supply_u > 0 THEN 100.0 * CAST(r.loss_u AS DOUBLE) / CAST(r.supply_u AS DOUBLE) END
           AS loss_rate_pct,
       r.supply_ok, CAST(r.area_ok AS BIGINT) AS area_days_measured, CAST(r.area_n AS BIGINT) AS area_days_expected,
       CAST(r.rep AS BIGINT) AS meter_days_reporting, CAST(r.exp AS BIGINT) AS meter_days_expected,
       LEAST(r.coverage, 1.0) AS coverage,
       CAST(r.days_used AS BIGINT) AS days_used, CAST(r.days - r.days_used AS BIGINT) AS days_left_out,
       COALESCE(r.left_out_days, '') AS left_out_days,
       CAST(r.supply_u AS DOUBLE) / 1000.0 AS supply_kwh_used, CAST(r.sales_u AS DOUBLE) / 1000.0 AS sales_kwh_used,
       CAST(r.loss_u AS DOUBLE) / 1000.0 AS loss_kwh_used, LEAST(r.coverage_u, 1.0) AS coverage_used,
       CASE
         WHEN r.days_used < r.days_required OR r.supply_u <= 0
              OR COALESCE(r.coverage_u, 0.0) < COALESCE(b.min_coverage, $min_cov) THEN 'not_computable'
         WHEN 100.0 * r.loss_u / r.supply_u < COALESCE(b.negative_below, $neg) THEN 'negative'
         WHEN 100.0 * r.loss_u / r.supply_u > COALESCE(b.extreme_from, $ext) THEN 'extreme'
         WHEN 100.0 * r.loss_u / r.supply_u > COALESCE(b.high_from, $high) THEN 'high'
         WHEN 100.0 * r.loss_u / r.supply_u > COALESCE(b.watch_from, $watch) THEN 'watch'
         ELSE 'normal'
       END AS band
FROM r LEFT JOIN ll_bands b ON b.unit_id = r.unit_id AND b.level = r.level
ORDER BY r.level, r.entity_id, r.period
"""


@dataclass
class BalanceTables:
    """Balance results: per day, per month and for the whole window, all levels in long form."""

    daily: pa.Table
    monthly: pa.Table
    window: pa.Table


def run_balance(engine: Engine, window: Window, settings: LossSettings) -> BalanceTables:
    """Compute the four-axis balance for ``window`` (the dataset tables must be queryable on ``engine``)."""
    register_dimensions(engine, window, settings)
    params = {"d_from": window.start, "d_end": window.end + timedelta(days=1)}
    stage(engine, "ll_meter_raw", METER_RAW_SQL, params)
    stage(engine, "ll_nodes", NODES_SQL)
    stage(engine, "ll_meter_map", METER_MAP_SQL)
    stage(engine, "ll_node_scan", NODE_DAY_SQL, params)
    stage(engine, "ll_node_day", EXPECTED_SQL)
    area_kv = f"CAST({float(settings.technical.area_voltage_kv)!r} AS DOUBLE)"
    stage(engine, "ll_level_day", LEVEL_DAY_SQL.replace("{area_kv}", area_kv))
    d = settings.default
    bp = {
        "min_cov": d.min_coverage,
        "neg": d.negative_below,
        "ext": d.extreme_from,
        "high": d.high_from,
        "watch": d.watch_from,
        "min_day_cov": settings.days.min_day_coverage,
        "min_share": settings.days.min_days_share,
        "min_days": settings.days.min_days,
    }
    daily = ask(engine, _finish_sql("ll_level_day", "CAST(day AS VARCHAR)", ", day"), bp)
    monthly = ask(engine, _finish_sql("ll_level_day", "period", ", period"), bp)
    label = window.label.replace("'", "")
    whole = ask(engine, _finish_sql("ll_level_day", f"'{label}'", ""), bp)
    return BalanceTables(daily=daily, monthly=monthly, window=whole)
