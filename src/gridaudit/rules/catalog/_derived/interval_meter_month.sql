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
-- The step is the smallest gap between a meter's consecutive points, i.e. the smallest positive difference
-- between two of its timestamps. It is found without sorting every point: a day with n points over
-- (n - 1) × c seconds, all distinct, has a gap of at most c; when every point of the meter lies on the grid of
-- c seconds from its first point, no gap is smaller, so the step is c. Gaps between days are those between one
-- day's last point and the next day's first (a sort of the per-day rows only). Meters whose points are not on
-- such a grid (or whose candidate day has repeated times) get the gaps of their own points sorted, as before.
WITH per_day AS (
  SELECT meter_id, CAST(ts AS DATE) AS day, COUNT(*) AS points, MAX(kwh) AS max_kwh,
         MIN(ts) AS t_lo, MAX(ts) AS t_hi
  FROM interval_usage
  GROUP BY meter_id, CAST(ts AS DATE)
),
-- a day's mean gap, where the day has two different times (the candidate: the smallest, if whole seconds)
day_gap AS (
  SELECT meter_id, day, (epoch(t_hi) - epoch(t_lo)) / (points - 1) AS g
  FROM per_day
  WHERE points > 1 AND t_hi > t_lo
),
cand AS (
  SELECT meter_id, MIN(g) AS c FROM day_gap GROUP BY meter_id
),
cand_day AS (
  SELECT k.meter_id, k.c, MIN(dg.day) AS c_day, MIN(f.t0) AS t0
  FROM cand k
  JOIN day_gap dg ON dg.meter_id = k.meter_id AND dg.g = k.c
  JOIN (SELECT meter_id, MIN(t_lo) AS t0 FROM per_day GROUP BY meter_id) f ON f.meter_id = k.meter_id
  WHERE k.c = FLOOR(k.c)
  GROUP BY k.meter_id, k.c
),
-- every point on the grid of c seconds from the meter's first point, and no time repeated on the candidate day
checked AS (
  SELECT k.meter_id, k.c,
         SUM(CASE WHEN (epoch(i.ts) - epoch(k.t0)) - k.c * FLOOR((epoch(i.ts) - epoch(k.t0)) / k.c) = 0
                  THEN 0 ELSE 1 END) AS off_grid
  FROM interval_usage i
  JOIN cand_day k ON k.meter_id = i.meter_id
  GROUP BY k.meter_id, k.c
),
repeated AS (
  SELECT i.meter_id
  FROM interval_usage i
  JOIN cand_day k ON k.meter_id = i.meter_id AND CAST(i.ts AS DATE) = k.c_day
  GROUP BY i.meter_id, i.ts
  HAVING COUNT(*) > 1
),
on_grid AS (
  SELECT meter_id, c AS gap_s FROM checked
  WHERE off_grid = 0 AND meter_id NOT IN (SELECT meter_id FROM repeated)
),
-- the other meters with two different times in a day: the gaps of their own points, sorted (the set is found
-- first: it is usually empty, and a join with an empty side does not read the points at all)
unsorted AS (
  SELECT meter_id FROM cand WHERE meter_id NOT IN (SELECT meter_id FROM on_grid)
),
gaps AS (
  SELECT meter_id, epoch(ts) - epoch(LAG(ts) OVER (PARTITION BY meter_id ORDER BY ts)) AS gap_s
  FROM interval_usage
  WHERE meter_id IN (SELECT meter_id FROM unsorted)
),
-- gaps between one day's last point and the next day's first
day_edges AS (
  SELECT meter_id, epoch(t_lo) - epoch(LAG(t_hi) OVER (PARTITION BY meter_id ORDER BY day)) AS gap_s
  FROM per_day
),
step AS (
  SELECT meter_id, MIN(gap_s) / 60.0 AS minutes
  FROM (
    SELECT meter_id, gap_s FROM on_grid
    UNION ALL SELECT meter_id, gap_s FROM gaps
    UNION ALL SELECT meter_id, gap_s FROM day_edges
  ) g
  WHERE gap_s > 0
  GROUP BY meter_id
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
