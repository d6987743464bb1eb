"""Technical-loss estimate per area and day (DL/T 686 shape-factor method), and non-technical loss.

For area a on day d, with supply E (kWh) from the area_total meter and Q = Σ_i P_i² Δt_i (kW²·h):

* from interval_usage of the area_total meter:  Q = Σ_i (e_i·k)² / Δt,  Δt = 24 h / intervals that day
* from daily data only (load-shape factor K = P_rms / P_avg):  Q = 24 · (K · E / 24)² = K² E² / 24

    transformer   ΔA_T = P0 · 24 + Pk · Q / (S_n · cosφ)²                 [kWh]
    line          ΔA_L = R_eq · Q / (U² · cos²φ) / 1000                    [kWh]  (U in kV, R in Ω)
    technical     ΔA   = ΔA_T + ΔA_L;   non-technical = actual loss − ΔA

P0 = areas.no_load_loss_kw, Pk = areas.load_loss_kw (at rated load), S_n = areas.transformer_kva;
R_eq = areas.<technical.line_r_column> when that column exists, else technical.line_r_eq_ohm (no line
term when neither is given). A day without supply has no estimate. Missing transformer parameters
leave ΔA_T NULL and the area's estimate is marked incomplete. Only the computable days (可算日, settings ``days``)
are estimated, the days the balance's loss rate is over.
"""

from __future__ import annotations

import pyarrow as pa

from gridaudit.engines import Engine
from gridaudit.lineloss.balance import day_ok
from gridaudit.lineloss.inputs import ask, has_column, stage
from gridaudit.lineloss.settings import LossSettings

INTERVAL_Q_SQL = """
WITH e AS (
    SELECT mm.node_id AS area_id, CAST(i.ts AS DATE) AS day, i.kwh * mm.multiplier AS kwh
    FROM interval_usage i JOIN ll_meter_map mm ON mm.meter_id = i.meter_id
    WHERE mm.node_kind = 'area_supply' AND i.ts >= CAST($d_from AS TIMESTAMP) AND i.ts < CAST($d_end AS TIMESTAMP)
)
SELECT area_id, day, SUM(kwh * kwh) * COUNT(*) / 24.0 AS q, COUNT(*) AS intervals
FROM e GROUP BY area_id, day
"""

TECH_SQL = """
WITH d AS (
    SELECT l.entity_id AS area_id, l.day, l.period, CAST(l.supply AS DOUBLE) / 1000.0 AS supply,
           CAST(l.supply - l.sales AS DOUBLE) / 1000.0 AS loss,
           {day_ok} AS supply_ok
    FROM ll_level_day l WHERE l.level = 'area'
),
q AS (
    SELECT d.*, {q_interval} AS q_interval,
           $k * $k * d.supply * d.supply / 24.0 AS q_shape
    FROM d {join_interval}
),
t AS (
    SELECT q.*, COALESCE(q_interval, q_shape) AS q_used,
           CASE WHEN q_interval IS NOT NULL THEN 'interval' ELSE 'load_shape' END AS method,
           a.no_load_loss_kw * 24.0 AS no_load_kwh,
           a.load_loss_kw * COALESCE(q_interval, q_shape) / ((a.transformer_kva * $pf) * (a.transformer_kva * $pf))
               AS load_kwh,
           {r_expr} * COALESCE(q_interval, q_shape) / ($u * $u * $pf * $pf) / 1000.0 AS line_kwh
    FROM q JOIN areas a ON a.area_id = q.area_id
    WHERE q.supply_ok
)
SELECT area_id, period,
       COUNT(*) AS days, SUM(supply) AS supply_kwh, SUM(loss) AS loss_kwh,
       SUM(no_load_kwh) AS no_load_kwh, SUM(load_kwh) AS load_kwh, SUM(line_kwh) AS line_kwh,
       SUM(no_load_kwh + load_kwh + COALESCE(line_kwh, 0)) AS technical_kwh,
       SUM(loss) - SUM(no_load_kwh + load_kwh + COALESCE(line_kwh, 0)) AS non_technical_kwh,
       100.0 * SUM(no_load_kwh + load_kwh + COALESCE(line_kwh, 0)) / NULLIF(SUM(supply), 0) AS technical_rate_pct,
       100.0 * (SUM(loss) - SUM(no_load_kwh + load_kwh + COALESCE(line_kwh, 0))) / NULLIF(SUM(supply), 0)
           AS non_technical_rate_pct,
       MIN(method) AS method, COUNT(no_load_kwh + load_kwh) = COUNT(*) AS complete
FROM t GROUP BY area_id, {group}
ORDER BY area_id, period
"""


def technical_loss(
    engine: Engine, settings: LossSettings, params: dict, has_interval: bool, window_label: str
) -> tuple[pa.Table, pa.Table]:
    """Technical and non-technical loss per area and month, and per area for the whole window."""
    t = settings.technical
    join_interval, q_interval = "", "CAST(NULL AS DOUBLE)"
    if has_interval:
        stage(engine, "ll_interval_q", INTERVAL_Q_SQL, params)
        join_interval = "LEFT JOIN ll_interval_q iq ON iq.area_id = d.area_id AND iq.day = d.day"
        q_interval = "iq.q"
    if has_column(engine, "areas", t.line_r_column):
        default_r = "CAST(NULL AS DOUBLE)" if t.line_r_eq_ohm is None else repr(float(t.line_r_eq_ohm))
        r_expr = f'COALESCE(CAST(a."{t.line_r_column}" AS DOUBLE), {default_r})'
    else:
        r_expr = "CAST(NULL AS DOUBLE)" if t.line_r_eq_ohm is None else repr(float(t.line_r_eq_ohm))
    sql = TECH_SQL.replace("{day_ok}", day_ok("l")).replace("{q_interval}", q_interval)
    sql = sql.replace("{join_interval}", join_interval)
    sql = sql.replace("{r_expr}", r_expr)
    p = {
        "k": t.load_shape_factor,
        "pf": t.power_factor,
        "u": t.lv_voltage_kv,
        "min_day_cov": settings.days.min_day_coverage,
    }
    monthly = ask(engine, sql.replace("{group}", "period"), p)
    label = window_label.replace("'", "")
    whole_sql = sql.replace("SELECT area_id, period,", f"SELECT area_id, '{label}' AS period,")
    whole = ask(engine, whole_sql.replace(", {group}", ""), p)
    return monthly, whole
