/*---
id: theft_intermittent_low_days
title: {zh: 间歇性低电量（部分日子电量骤降，其余正常）, en: Intermittent low days (use collapses on some days and is normal on the rest)}
family: theft
severity: medium
entity_type: customer
tables: [customers, meters, daily_usage]
derived: [meter_month_usage]  # each meter-month's largest day and day count: narrows the meters judged day by day
lookback: all  # each customer is reported once, at the first month that qualifies: needs the whole history
params:
  low_share: {type: float, default: 0.4, doc: {zh: "日电量低于基准的该比例记为低电量日", en: "A day below this share of the baseline is a low day"}}
  normal_share: {type: float, default: 0.7, doc: {zh: "日电量不低于基准的该比例记为正常日", en: "A day at or above this share of the baseline is a normal day"}}
  min_low_days: {type: float, default: 0.2, doc: {zh: "当月低电量日占比下限", en: "Minimum share of low days in the month"}}
  max_low_days: {type: float, default: 0.65, doc: {zh: "当月低电量日占比上限（再高就是持续下降，见其他规则）", en: "Maximum share of low days in the month (above it the drop is sustained, see the other rules)"}}
  min_normal_days: {type: float, default: 0.3, doc: {zh: "当月正常日占比下限", en: "Minimum share of normal days in the month"}}
  max_middle_days: {type: float, default: 0.2, doc: {zh: "当月介于低电量与正常之间的天数占比上限（间歇窃电两极分明，用电本身波动大则连续分布）", en: "Maximum share of days between low and normal in the month (intermittent theft splits days in two clusters; a merely erratic customer fills the middle)"}}
  max_mean_run: {type: float, default: 2.5, doc: {zh: "低电量日平均连续天数上限（空置、外出是连续多日；间歇窃电的低电量日零散分布）", en: "Maximum mean length of a run of low days (vacancies and absences are long runs; intermittent theft scatters its low days)"}}
  ref_quantile: {type: float, default: 0.8, doc: {zh: "当月参考日电量所取的分位（第80百分位：低电量日不到一半时不受其影响）", en: "Quantile of the month's days taken as its reference (the 80th percentile is not pulled down while fewer than half the days are low)"}}
  min_days: {type: int, default: 20, doc: {zh: "当月有采集数据的天数下限", en: "Minimum days with AMI data in the month"}}
  min_baseline_kwh: {type: float, default: 2.0, doc: {zh: "参考日电量下限", en: "Minimum reference daily kWh"}}
  skip_categories: {type: str, default: "", doc: {zh: "不判定的类别（逗号分隔；参考值取自当月本身，季节性类别也可判定）", en: "Categories not judged (comma separated; the reference comes from the month itself, so seasonal categories can be judged too)"}}
description:
  zh: "按用户表逐月判断，参考值为该表当月日电量的第80百分位（不受低电量日拉低，也不受季节影响，无需往月基准）。连续两个月里，每月都有相当一部分天数电量骤降到参考值的一半以下，同时还有相当一部分天数保持正常，且低电量日零散分布（平均连续天数很短，空置、外出则是连续多日）：只在部分日子绕越计量的间歇性窃电特征，月均电量降幅不大，按月比较的规则发现不了。每户只报第一次满足条件的月份（连续两个月中的后一个月）。"
  en: "Judged meter by meter and month against the month's own 80th-percentile day (not pulled down by the low days, not moved by the season, no earlier months needed). In two consecutive months, a good share of days collapse below half the reference while a good share stay normal, and the low days are scattered (short runs on average; vacancies and absences are long runs): the mark of a meter bypassed on some days only, whose monthly mean falls too little for the monthly rules. Each customer is reported once, at the first month that qualifies (the later of the two)."
basis: "DOMAIN §6 (Jokar h1/h2 attacks on some days); truth kind theft_intermittent; 《供电营业规则》第一百零一条"
truth_kinds: [theft_intermittent]
---*/
WITH cm AS (
  SELECT m.meter_id, m.multiplier, c.customer_id
  FROM meters m
  JOIN customers c ON c.customer_id = m.customer_id AND c.status = 'active'
  WHERE m.role = 'customer'
    AND NOT ((',' || replace(CAST($skip_categories AS VARCHAR), ' ', '') || ',') LIKE ('%,' || c.category || ',%'))
),
-- Which meters can qualify at all, from one aggregate pass (no sort) over every daily row (not narrowed to
-- the customers' meters here: `possible` joins cm on the 1/30 as many meter-months, and the daily rows are read
-- twice rather than kept in a CTE the size of daily_usage). The month's reference (its
-- ref_quantile day) is below f × the largest day whenever at most n − rank days reach f × the largest day;
-- the smallest such f bounds the reference from above, and so bounds the low days (below low_share × the
-- reference) and the reference kWh (days without a value never count as reaching it). Only meters with two consecutive months that pass these necessary
-- conditions are judged day by day below (see judged: the day-to-day LAG is unchanged). Four steps of f
-- (0.4 … 0.85; at 100 k, eight steps 0.2 … 0.9 cost more in this pass than their tighter bound saved in the
-- sorts below).
-- Necessary conditions of `possible` read from the meter-month alone, before any daily row: enough days; a
-- reference (at most the largest day) that can reach min_baseline_kwh; at least one day below low_share × the
-- largest day (else no day is below any of the bounds below and the low-day share is 0); and a month next to it
-- that passes too (only pairs are ever judged). Each is dropped only where it certainly fails (NULLs are kept), so
-- `possible` keeps exactly the months it had; about half the meter-months at 100 k go here.
cal AS (
  SELECT day, date_trunc('month', day) AS month FROM workday_calendar
),
pre AS (
  SELECT mm.meter_id, mm.month, mm.month_idx, mm.n_days, mm.max_kwh
  FROM meter_month_usage mm
  JOIN cm ON cm.meter_id = mm.meter_id
  WHERE mm.n_days >= CAST($min_days AS INTEGER)
    AND NOT COALESCE(cm.multiplier >= 0 AND mm.max_kwh >= 0
                     AND mm.max_kwh * cm.multiplier < CAST($min_baseline_kwh AS DOUBLE), FALSE)
    AND NOT COALESCE(CAST($low_share AS DOUBLE) >= 0 AND CAST($min_low_days AS DOUBLE) > 0 AND mm.max_kwh >= 0
                     AND mm.min_kwh >= CAST($low_share AS DOUBLE) * mm.max_kwh, FALSE)
),
pre_paired AS (
  SELECT a.meter_id, a.month, a.n_days, a.max_kwh
  FROM pre a JOIN pre p ON p.meter_id = a.meter_id AND p.month_idx = a.month_idx - 1
  UNION
  SELECT a.meter_id, a.month, a.n_days, a.max_kwh
  FROM pre a JOIN pre p ON p.meter_id = a.meter_id AND p.month_idx = a.month_idx + 1
),
bounded AS (
  SELECT d.meter_id, d.month, MIN(mm.n_days) AS n, COUNT(d.kwh) AS nn, MIN(mm.max_kwh) AS mx,
         COUNT(*) FILTER (WHERE d.kwh >= 0.4 * mm.max_kwh) AS ge4,
         COUNT(*) FILTER (WHERE d.kwh >= 0.55 * mm.max_kwh) AS ge55,
         COUNT(*) FILTER (WHERE d.kwh >= 0.7 * mm.max_kwh) AS ge7,
         COUNT(*) FILTER (WHERE d.kwh >= 0.85 * mm.max_kwh) AS ge85,
         COUNT(*) FILTER (WHERE d.kwh < CAST($low_share AS DOUBLE) * (0.4 * mm.max_kwh)) AS lo4,
         COUNT(*) FILTER (WHERE d.kwh < CAST($low_share AS DOUBLE) * (0.55 * mm.max_kwh)) AS lo55,
         COUNT(*) FILTER (WHERE d.kwh < CAST($low_share AS DOUBLE) * (0.7 * mm.max_kwh)) AS lo7,
         COUNT(*) FILTER (WHERE d.kwh < CAST($low_share AS DOUBLE) * (0.85 * mm.max_kwh)) AS lo85,
         COUNT(*) FILTER (WHERE d.kwh < CAST($low_share AS DOUBLE) * mm.max_kwh) AS lo10
  FROM (SELECT u.meter_id, u.kwh, COALESCE(c.month, date_trunc('month', u.day)) AS month
        FROM daily_usage u LEFT JOIN cal c ON c.day = u.day) d
  JOIN pre_paired mm ON mm.meter_id = d.meter_id AND mm.month = d.month
  GROUP BY d.meter_id, d.month
),
bound AS (
  SELECT b.meter_id, b.month, b.n,
         CAST(strftime(b.month, '%Y') AS INTEGER) * 12 + CAST(strftime(b.month, '%m') AS INTEGER) AS month_idx,
         b.mx * CASE
           WHEN ge4 <= nn - CEIL(CAST($ref_quantile AS DOUBLE) * n) THEN 0.4
           WHEN ge55 <= nn - CEIL(CAST($ref_quantile AS DOUBLE) * n) THEN 0.55
           WHEN ge7 <= nn - CEIL(CAST($ref_quantile AS DOUBLE) * n) THEN 0.7
           WHEN ge85 <= nn - CEIL(CAST($ref_quantile AS DOUBLE) * n) THEN 0.85
           ELSE 1.0 END AS ref_bound,
         CASE
           WHEN ge4 <= nn - CEIL(CAST($ref_quantile AS DOUBLE) * n) THEN lo4
           WHEN ge55 <= nn - CEIL(CAST($ref_quantile AS DOUBLE) * n) THEN lo55
           WHEN ge7 <= nn - CEIL(CAST($ref_quantile AS DOUBLE) * n) THEN lo7
           WHEN ge85 <= nn - CEIL(CAST($ref_quantile AS DOUBLE) * n) THEN lo85
           ELSE lo10 END AS low_bound
  FROM bounded b
),
possible AS (
  SELECT b.meter_id, b.month, b.month_idx
  FROM bound b
  JOIN cm ON cm.meter_id = b.meter_id
  WHERE b.n >= CAST($min_days AS INTEGER)
    AND (cm.multiplier < 0 OR b.ref_bound * cm.multiplier >= CAST($min_baseline_kwh AS DOUBLE))
    AND (CAST($low_share AS DOUBLE) < 0 OR CAST(b.low_bound AS DOUBLE) / b.n >= CAST($min_low_days AS DOUBLE))
),
paired AS (
  -- the months that can be half of a qualifying pair: only their shares are ever read
  SELECT a.meter_id, a.month FROM possible a JOIN possible p ON p.meter_id = a.meter_id AND p.month_idx = a.month_idx - 1
  UNION
  SELECT a.meter_id, a.month FROM possible a JOIN possible p ON p.meter_id = a.meter_id AND p.month_idx = a.month_idx + 1
),
judged AS (
  -- those months, and before each the meter's last earlier month that is judged at all (enough days): its last
  -- day is the one the first day's LAG reads, so every run start of a paired month is as over the whole history
  SELECT meter_id, month FROM paired
  UNION
  SELECT q.meter_id, MAX(mm.month) AS month
  FROM paired q
  JOIN meter_month_usage mm ON mm.meter_id = q.meter_id AND mm.month < q.month
  WHERE mm.n_days >= CAST($min_days AS INTEGER)
  GROUP BY q.meter_id, q.month
),
judged_g AS (
  -- integer keys for the day rows below: the meter-month (g) and the meter (mi), so the two window sorts and the
  -- rows they hold carry two integers instead of the meter id and the month
  SELECT meter_id, month,
         ROW_NUMBER() OVER (ORDER BY meter_id, month) AS g,
         DENSE_RANK() OVER (ORDER BY meter_id) AS mi
  FROM judged
),
d AS (
  SELECT j.g, j.mi, u.day, u.kwh
  FROM (
    SELECT x.meter_id, x.day, x.kwh, COALESCE(c.month, date_trunc('month', x.day)) AS month
    FROM daily_usage x LEFT JOIN cal c ON c.day = x.day
    WHERE x.meter_id IN (SELECT meter_id FROM judged_g)
  ) u
  JOIN judged_g j ON j.meter_id = u.meter_id AND j.month = u.month
),
ranked AS (
  -- the month's reference day by rank (sorts spill to disk; a quantile aggregate holds every value in memory)
  SELECT g, kwh,
         ROW_NUMBER() OVER (PARTITION BY g ORDER BY kwh) AS rn,
         COUNT(*) OVER (PARTITION BY g) AS n
  FROM d
),
ref AS (
  SELECT g, MIN(kwh) AS ref_reg, MIN(n) AS n_days
  FROM ranked
  WHERE rn = CEIL(CAST($ref_quantile AS DOUBLE) * n)
  GROUP BY g
),
flags AS (
  SELECT d.g, d.mi, d.day, r.ref_reg,
         CASE WHEN d.kwh < CAST($low_share AS DOUBLE) * r.ref_reg THEN 1 ELSE 0 END AS low,
         CASE WHEN d.kwh >= CAST($normal_share AS DOUBLE) * r.ref_reg THEN 1 ELSE 0 END AS normal
  FROM d
  JOIN ref r ON r.g = d.g
  WHERE r.n_days >= CAST($min_days AS INTEGER)
),
runs AS (
  -- a low day after a day that was not low starts a run of low days
  SELECT g, ref_reg, low, normal,
         CASE WHEN low = 1 AND COALESCE(LAG(low) OVER (PARTITION BY mi ORDER BY day), 0) = 0
              THEN 1 ELSE 0 END AS run_start
  FROM flags
),
shares AS (
  -- per meter-month first (the reference rides along from flags), then the customer: the joins run on the
  -- meter-months, not on every judged day. Shares are counts over days, divided once: a share of exactly
  -- max_middle_days qualifies on every engine (an AVG of 1.0/0.0 is a DECIMAL rounded to 5 places on Spark,
  -- and 1 − a − b in floating point lands on either side of 0.2)
  SELECT j.meter_id, cm.customer_id, strftime(j.month, '%Y-%m') AS period,
         CAST(strftime(j.month, '%Y') AS INTEGER) * 12 + CAST(strftime(j.month, '%m') AS INTEGER) AS month_idx,
         g.ref_reg * cm.multiplier AS ref_kwh,
         CAST(g.lows AS DOUBLE) / g.n_days AS low_days,
         CAST(g.normals AS DOUBLE) / g.n_days AS normal_days,
         CAST(g.n_days - g.lows - g.normals AS DOUBLE) / g.n_days AS middle_days,
         CAST(g.lows AS DOUBLE) / GREATEST(g.starts, 1) AS mean_low_run,
         g.n_days
  FROM (
    SELECT g, ref_reg, SUM(low) AS lows, SUM(normal) AS normals, SUM(run_start) AS starts,
           COUNT(*) AS n_days
    FROM runs
    GROUP BY g, ref_reg
  ) g
  JOIN judged_g j ON j.g = g.g
  JOIN cm ON cm.meter_id = j.meter_id
),
qualified AS (
  SELECT *
  FROM shares
  WHERE low_days >= CAST($min_low_days AS DOUBLE)
    AND low_days <= CAST($max_low_days AS DOUBLE)
    AND normal_days >= CAST($min_normal_days AS DOUBLE)
    AND middle_days <= CAST($max_middle_days AS DOUBLE)
    AND mean_low_run <= CAST($max_mean_run AS DOUBLE)
    AND ref_kwh >= CAST($min_baseline_kwh AS DOUBLE)
),
hits AS (
  SELECT q.*, p.low_days AS prev_low_days,
         ROW_NUMBER() OVER (PARTITION BY q.customer_id ORDER BY q.month_idx, q.meter_id) AS rn
  FROM qualified q
  JOIN qualified p ON p.meter_id = q.meter_id AND p.month_idx = q.month_idx - 1
)
SELECT
  customer_id                    AS entity_id,
  period                         AS period,
  (low_days + prev_low_days) / 2 AS score,
  meter_id                       AS ev_meter_id,
  ref_kwh                        AS ev_reference_daily_kwh,
  low_days                       AS ev_low_day_share,
  prev_low_days                  AS ev_previous_month_low_day_share,
  normal_days                    AS ev_normal_day_share,
  middle_days                    AS ev_middle_day_share,
  mean_low_run                   AS ev_mean_low_run_days,
  n_days                         AS ev_days
FROM hits
WHERE rn = 1
  AND ($period IS NULL OR period = $period)
