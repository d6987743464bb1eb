"""Loss trends per area from the monthly balance: month-on-month rises and runs of high-loss months.

* rise: loss rate up by more than ``trends.rise_points`` percent points against the previous month
  (both months computable);
* persistent: ``trends.high_months`` or more consecutive months banded high or extreme (one row per run,
  dated by the run's last month).
"""

from __future__ import annotations

import pyarrow as pa

from gridaudit.engines import Engine
from gridaudit.lineloss.inputs import ask
from gridaudit.lineloss.settings import LossSettings

TRENDS_SQL = """
WITH m AS (
    SELECT entity_id AS area_id, unit_id, period, loss_rate_pct, band,
           CAST(SUBSTRING(period, 1, 4) AS INTEGER) * 12 + CAST(SUBSTRING(period, 6, 2) AS INTEGER) AS mi
    FROM ll_monthly WHERE level = 'area'
),
lagged AS (
    SELECT m.*, LAG(loss_rate_pct) OVER (PARTITION BY area_id ORDER BY mi) AS prev_rate,
                LAG(band) OVER (PARTITION BY area_id ORDER BY mi) AS prev_band,
                LAG(mi) OVER (PARTITION BY area_id ORDER BY mi) AS prev_mi
    FROM m
),
rises AS (
    SELECT 'rise' AS kind, area_id, unit_id, period, period AS first_period, 1 AS months,
           prev_rate, loss_rate_pct, loss_rate_pct - prev_rate AS change_points
    FROM lagged
    WHERE prev_mi = mi - 1 AND band <> 'not_computable' AND prev_band <> 'not_computable'
      AND loss_rate_pct - prev_rate > $rise
),
hi AS (
    SELECT area_id, unit_id, period, mi, loss_rate_pct,
           mi - ROW_NUMBER() OVER (PARTITION BY area_id ORDER BY mi) AS grp
    FROM m WHERE band IN ('high', 'extreme')
),
runs AS (
    SELECT 'persistent_high' AS kind, area_id, MIN(unit_id) AS unit_id, MAX(period) AS period,
           MIN(period) AS first_period, COUNT(*) AS months,
           CAST(NULL AS DOUBLE) AS prev_rate, AVG(loss_rate_pct) AS loss_rate_pct,
           CAST(NULL AS DOUBLE) AS change_points
    FROM hi GROUP BY area_id, grp HAVING COUNT(*) >= $months
)
SELECT * FROM rises UNION ALL SELECT * FROM runs
ORDER BY kind, area_id, period
"""


def loss_trends(engine: Engine, monthly: pa.Table, settings: LossSettings) -> pa.Table:
    """Month-on-month rises and persistent high-loss runs per area."""
    cols = ["level", "entity_id", "unit_id", "period", "loss_rate_pct", "band"]
    engine.register_table("ll_monthly", monthly.select(cols))
    params = {"rise": settings.trends.rise_points, "months": settings.trends.high_months}
    return ask(engine, TRENDS_SQL, params)
