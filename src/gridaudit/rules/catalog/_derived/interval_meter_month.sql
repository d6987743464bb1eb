/*---
id: interval_meter_month
description:
  zh: "每块表每月的负荷曲线汇总（示数单位，未乘倍率）：最大点电量、点数；以及该表的曲线间隔（分钟，相邻点最小时间差）与每天最多点数。每次运行只从 interval_usage 计算一次，供容量、需量类规则共用（先用每月最大点筛出可能超容的用户，再只对它们逐点计算）。"
  en: "Per meter and month, the load curve (register units, before the multiplier): largest point and number of points; and per meter the curve step (minutes, the smallest gap between points) and the most points in a day. Computed once per run from interval_usage and shared by the capacity and demand rules (the monthly peak narrows the customers that may exceed their capacity; only those are then judged point by point)."
tables: [interval_usage]
lookback: {days: 0}
window_column: month
window_kind: date
---*/
WITH gaps AS (
  SELECT meter_id, epoch(ts) - epoch(LAG(ts) OVER (PARTITION BY meter_id ORDER BY ts)) AS gap_s
  FROM interval_usage
),
step AS (
  SELECT meter_id, MIN(gap_s) / 60.0 AS minutes
  FROM gaps
  WHERE gap_s > 0
  GROUP BY meter_id
),
per_day AS (
  SELECT meter_id, CAST(ts AS DATE) AS day, COUNT(*) AS points, MAX(kwh) AS max_kwh
  FROM interval_usage
  GROUP BY meter_id, CAST(ts AS DATE)
),
per_meter AS (
  SELECT meter_id, MAX(points) AS points_per_day FROM per_day GROUP BY meter_id
),
per_month AS (
  SELECT meter_id, date_trunc('month', day) AS month, MAX(max_kwh) AS max_kwh, SUM(points) AS n_points
  FROM per_day
  GROUP BY meter_id, date_trunc('month', day)
)
SELECT mo.meter_id, mo.month, mo.max_kwh, mo.n_points, s.minutes AS step_minutes, pm.points_per_day
FROM per_month mo
JOIN per_meter pm ON pm.meter_id = mo.meter_id
LEFT JOIN step s ON s.meter_id = mo.meter_id
