/*---
id: theft_intermittent_low_days
title: {zh: 间歇性低电量（部分日子电量骤降，其余正常）, en: Intermittent low days (use collapses on some days and is normal on the rest)}
family: theft
severity: medium
entity_type: customer
tables: [customers, meters, daily_usage]
params:
  low_share: {type: float, default: 0.45, doc: {zh: "日电量低于基准的该比例记为低电量日", en: "A day below this share of the baseline is a low day"}}
  normal_share: {type: float, default: 0.75, doc: {zh: "日电量不低于基准的该比例记为正常日", en: "A day at or above this share of the baseline is a normal day"}}
  min_low_days: {type: float, default: 0.25, doc: {zh: "当月低电量日占比下限", en: "Minimum share of low days in the month"}}
  max_low_days: {type: float, default: 0.65, doc: {zh: "当月低电量日占比上限（再高就是持续下降，见其他规则）", en: "Maximum share of low days in the month (above it the drop is sustained, see the other rules)"}}
  min_normal_days: {type: float, default: 0.3, doc: {zh: "当月正常日占比下限", en: "Minimum share of normal days in the month"}}
  max_zero_days: {type: float, default: 0.1, doc: {zh: "当月近乎零（低于基准5%）天数占比上限（排除空置、外出）", en: "Maximum share of near-zero days (below 5% of the baseline) in the month (leaves out vacancies and absences)"}}
  min_baseline_kwh: {type: float, default: 2.0, doc: {zh: "基准（日电量中位数）下限", en: "Minimum baseline (daily median)"}}
  skip_categories: {type: str, default: "agricultural", doc: {zh: "不判定的强季节性类别（逗号分隔）", en: "Strongly seasonal categories not judged (comma separated)"}}
description:
  zh: "基准为该月之前第2至第4个月日电量中位数的平均（中位数不受个别高用电日影响）。按用户表逐表判断：连续两个月里，每月都有相当一部分天数电量骤降到基准的一半以下，同时还有相当一部分天数保持正常，且几乎没有零电量日：只在部分日子绕越计量的间歇性窃电特征，月均电量降幅不大，按月比较的规则发现不了。每户只报第一次满足条件的月份（连续两个月中的后一个月）。"
  en: "The baseline is the mean of the daily medians of the 2nd to 4th months before (a median is not pulled up by a few heavy days). Judged meter by meter: in two consecutive months, a good share of days collapse below half the baseline while a good share stay normal, with hardly any zero days: the mark of a meter bypassed on some days only, whose monthly mean falls too little for the monthly rules. Each customer is reported once, at the first month that qualifies (the later of the two)."
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
ranked AS (
  -- the monthly median by rank (sorts spill to disk; a median() aggregate holds every value in memory)
  SELECT d.meter_id, d.month, d.kwh,
         ROW_NUMBER() OVER (PARTITION BY d.meter_id, d.month ORDER BY d.kwh) AS rn,
         COUNT(*) OVER (PARTITION BY d.meter_id, d.month) AS n
  FROM (
    SELECT meter_id, kwh, date_trunc('month', day) AS month FROM daily_usage
    WHERE meter_id IN (SELECT meter_id FROM cm)
  ) d
),
meter_month AS (
  SELECT meter_id, month, AVG(kwh) AS median_kwh
  FROM ranked
  WHERE rn = FLOOR((n + 1) / 2.0) OR rn = FLOOR((n + 2) / 2.0)
  GROUP BY meter_id, month
),
indexed AS (
  SELECT meter_id, strftime(month, '%Y-%m') AS period, median_kwh,
         CAST(strftime(month, '%Y') AS INTEGER) * 12 + CAST(strftime(month, '%m') AS INTEGER) AS month_idx
  FROM meter_month
),
baseline AS (
  SELECT s.meter_id, s.period, s.month_idx, AVG(b.median_kwh) AS base_reg
  FROM indexed s
  JOIN indexed b ON b.meter_id = s.meter_id
               AND b.month_idx <= s.month_idx - 2
               AND b.month_idx >= s.month_idx - 4
  GROUP BY s.meter_id, s.period, s.month_idx
  HAVING COUNT(*) = 3
),
base_kwh AS (
  SELECT b.meter_id, cm.customer_id, b.period, b.month_idx, b.base_reg, b.base_reg * cm.multiplier AS base_kwh
  FROM baseline b
  JOIN cm ON cm.meter_id = b.meter_id
  WHERE b.base_reg * cm.multiplier >= CAST($min_baseline_kwh AS DOUBLE)
),
shares AS (
  SELECT b.meter_id, b.customer_id, b.period, b.month_idx, b.base_kwh,
         AVG(CASE WHEN d.kwh < CAST($low_share AS DOUBLE) * b.base_reg THEN 1.0 ELSE 0.0 END) AS low_days,
         AVG(CASE WHEN d.kwh >= CAST($normal_share AS DOUBLE) * b.base_reg THEN 1.0 ELSE 0.0 END) AS normal_days,
         AVG(CASE WHEN d.kwh < 0.05 * b.base_reg THEN 1.0 ELSE 0.0 END) AS zero_days,
         COUNT(*) AS n_days
  FROM base_kwh b
  JOIN daily_usage d ON d.meter_id = b.meter_id
                    AND extract(year FROM d.day) * 12 + extract(month FROM d.day) = b.month_idx
  GROUP BY b.meter_id, b.customer_id, b.period, b.month_idx, b.base_kwh
),
qualified AS (
  SELECT *
  FROM shares
  WHERE low_days >= CAST($min_low_days AS DOUBLE)
    AND low_days <= CAST($max_low_days AS DOUBLE)
    AND normal_days >= CAST($min_normal_days AS DOUBLE)
    AND zero_days <= CAST($max_zero_days AS DOUBLE)
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
  base_kwh                       AS ev_baseline_daily_kwh,
  low_days                       AS ev_low_day_share,
  prev_low_days                  AS ev_previous_month_low_day_share,
  normal_days                    AS ev_normal_day_share,
  zero_days                      AS ev_zero_day_share,
  n_days                         AS ev_days
FROM hits
WHERE rn = 1
  AND ($period IS NULL OR period = $period)
