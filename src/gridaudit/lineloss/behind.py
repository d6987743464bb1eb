"""The customers behind an area's loss: suspects ranked per flagged area.

Both run set-based over the daily customer use of the feeders that carry a flagged area (high, extreme
or negative in the window or in any month of it) joined to the areas' daily loss.

Suspects (per customer c of flagged area A, over the days A's supply reported):
* ``corr``   = corr(use_c(t), loss rate_A(t)); negative = the loss rate rises when c's metered use falls
  (the rate, not the kWh: technical loss grows with the load every customer shares);
* ``drop``   = 1 − mean use on A's high-loss-rate days / mean use on its low ones (split at A's median rate);
* ``events`` = tamper-type meter events of c's meters in the window;
* ``score``  = w_corr·max(0, −corr) + w_drop·clip(drop, 0, 1) + w_events·min(1, events / events_for_full_score).

Mapping errors are tested in mapping.py over ``ll_cust_day`` (all area customers, integer keys: ``cust_no``,
``area_no``; names through ``ll_cust_key`` and ``ll_nodes``), built here.
"""

from __future__ import annotations

import pyarrow as pa

from gridaudit.engines import Engine
from gridaudit.lineloss.balance import Window
from gridaudit.lineloss.inputs import ask, stage
from gridaudit.lineloss.settings import LossSettings

FLAGGED_SQL = """
SELECT entity_id AS area_id,
       MAX(CASE WHEN band = 'negative' THEN 1 ELSE 0 END) AS is_negative,
       MAX(CASE WHEN band IN ('high', 'extreme') THEN 1 ELSE 0 END) AS is_high
FROM ll_bands_seen
WHERE level = 'area' AND band IN ('negative', 'high', 'extreme')
GROUP BY entity_id
"""

SERIES_SQL = """
SELECT l.entity_id AS area_id, l.feeder_id, l.day,
       CAST(l.supply AS DOUBLE) / 1000.0 AS supply, CAST(l.supply - l.sales AS DOUBLE) / 1000.0 AS loss
FROM ll_level_day l
WHERE l.level = 'area' AND l.sup_exp > 0 AND l.sup_rep >= l.sup_exp
  AND l.feeder_id IN (SELECT a.feeder_id FROM areas a JOIN ll_flagged f ON f.area_id = a.area_id)
"""

CUST_DAY_SQL = """
SELECT mm.cust_no, mm.node_no AS area_no, d.day, SUM(d.kwh * mm.multiplier) AS use
FROM daily_usage d JOIN ll_meter_map mm ON mm.meter_id = d.meter_id
WHERE mm.node_kind = 'area_sales' AND d.day >= $d_from AND d.day < $d_end
GROUP BY mm.cust_no, mm.node_no, d.day
"""

# ll_cust_day keeps integer keys only (a row per customer and day: at 1 M customers 365 M rows, half the memory
# of the names); the names come back through this map (customer) and ll_nodes (area).
CUST_KEY_SQL = """
SELECT DISTINCT cust_no, customer_id FROM ll_meter_map WHERE node_kind = 'area_sales' AND customer_id IS NOT NULL
"""

SUSPECTS_SQL = """
WITH j AS (
    SELECT k.customer_id, n.node_id AS area_id, c.day, c.use, s.loss / s.supply AS loss
    FROM ll_cust_day c
    JOIN ll_nodes n ON n.node_no = c.area_no
    JOIN ll_cust_key k ON k.cust_no = c.cust_no
    JOIN ll_area_series s ON s.area_id = n.node_id AND s.day = c.day
    WHERE n.node_id IN (SELECT area_id FROM ll_flagged) AND s.supply > 0
),
med AS (
    SELECT area_id, MEDIAN(loss / supply) AS med_loss FROM ll_area_series WHERE supply > 0 GROUP BY area_id
),
stats AS (
    SELECT j.customer_id, j.area_id, COUNT(*) AS days, CORR(j.use, j.loss) AS corr,
           AVG(CASE WHEN j.loss > m.med_loss THEN j.use END) AS use_high,
           AVG(CASE WHEN j.loss <= m.med_loss THEN j.use END) AS use_low,
           SUM(CASE WHEN j.loss > m.med_loss THEN 1 ELSE 0 END) AS days_high,
           SUM(j.use) AS use_kwh
    FROM j JOIN med m ON m.area_id = j.area_id
    GROUP BY j.customer_id, j.area_id
),
ev AS (
    SELECT mm.customer_id, COUNT(*) AS events,
           STRING_AGG(DISTINCT e.event_type, ',' ORDER BY e.event_type) AS event_types
    FROM meter_events e JOIN ll_meter_map mm ON mm.meter_id = e.meter_id
    WHERE mm.customer_id IS NOT NULL AND e.event_type IN (SELECT event_type FROM ll_event_types)
      AND CAST(e.ts AS DATE) >= $d_from AND CAST(e.ts AS DATE) < $d_end
    GROUP BY mm.customer_id
),
scored AS (
    SELECT s.*, COALESCE(ev.events, 0) AS events, ev.event_types,
           CASE WHEN s.use_low > 0 THEN 1 - s.use_high / s.use_low END AS drop_share,
           GREATEST(s.use_low - s.use_high, 0) * s.days_high AS kwh_missing
    FROM stats s LEFT JOIN ev ON ev.customer_id = s.customer_id
    WHERE s.days >= $min_days
)
SELECT customer_id, area_id, days, corr, drop_share, events, event_types, use_kwh, kwh_missing,
       $w_corr * GREATEST(-COALESCE(corr, 0), 0)
     + $w_drop * LEAST(GREATEST(COALESCE(drop_share, 0), 0), 1)
     + $w_events * LEAST(CAST(events AS DOUBLE) / $ev_full, 1) AS score,
       ROW_NUMBER() OVER (PARTITION BY area_id ORDER BY
           $w_corr * GREATEST(-COALESCE(corr, 0), 0) + $w_drop * LEAST(GREATEST(COALESCE(drop_share, 0), 0), 1)
           + $w_events * LEAST(CAST(events AS DOUBLE) / $ev_full, 1) DESC, customer_id) AS rank_in_area
FROM scored
ORDER BY area_id, rank_in_area
"""


def prepare_series(engine: Engine, window: Window, bands_seen: pa.Table) -> None:
    """Pick the flagged areas and load the daily series of their feeders (``bands_seen``: level/entity/band rows)."""
    engine.register_table("ll_bands_seen", bands_seen.select(["level", "entity_id", "band"]))
    stage(engine, "ll_flagged", FLAGGED_SQL)
    stage(engine, "ll_area_series", SERIES_SQL)
    stage(engine, "ll_cust_day", CUST_DAY_SQL, _days(window))
    stage(engine, "ll_cust_key", CUST_KEY_SQL)


def _days(window: Window) -> dict:
    from datetime import timedelta

    return {"d_from": window.start, "d_end": window.end + timedelta(days=1)}


def rank_suspects(engine: Engine, window: Window, settings: LossSettings, has_events: bool) -> pa.Table:
    """Customers of each flagged area ranked by how their use moves against the area's loss (all, with rank)."""
    b = settings.behind
    engine.register_table("ll_event_types", pa.table({"event_type": pa.array(list(b.event_types), pa.string())}))
    sql = SUSPECTS_SQL
    if not has_events:
        sql = sql.replace(
            "FROM meter_events e",
            "FROM (SELECT CAST(NULL AS VARCHAR) AS meter_id, "
            "CAST(NULL AS TIMESTAMP) AS ts, CAST(NULL AS VARCHAR) AS event_type WHERE FALSE) e",
        )
    params = {
        **_days(window),
        "min_days": b.min_days,
        "w_corr": b.weight_corr,
        "w_drop": b.weight_drop,
        "w_events": b.weight_events,
        "ev_full": float(max(b.events_for_full_score, 1)),
    }
    return ask(engine, sql, params)
