/*---
id: theft_sustained_drop_own_history
title: {zh: 用电量较自身历史持续大幅下降, en: Sustained drop in use against the customer's own history}
family: theft
severity: high
entity_type: customer
tables: [customers, meters, daily_usage]
lookback: all  # each customer is reported once, at the first month that qualifies: needs the whole history
derived: [customer_month_usage]  # each customer's monthly daily mean, shared by both drop rules
params:
  drop_pct: {type: float, default: 0.5, doc: {zh: 连续两个月日均电量都比基准期至少下降的比例, en: "Minimum fall of both recent months' daily mean against the baseline (0.5 = 50%)"}}
  baseline_months: {type: int, default: 3, doc: {zh: "基准期月数（紧挨最近两个月之前，1~6）", en: "Months in the baseline, just before the two recent months (1 to 6)"}}
  min_baseline_kwh: {type: float, default: 2.0, doc: {zh: 基准期日均电量下限, en: Minimum baseline daily mean}}
  min_days: {type: int, default: 10, doc: {zh: 每个月有数据的天数下限, en: Minimum days with data in each month used}}
  vacancy_low_share: {type: float, default: 0.1, doc: {zh: 日电量低于基准日均的该比例视为近乎零（空置迹象）, en: A day below this share of the baseline daily mean counts as near zero (a vacancy sign)}}
  max_vacancy_days: {type: float, default: 0.3, doc: {zh: 最近两个月近乎零的天数占比超过该值视为空置或搬迁、不判, en: "When more than this share of the two recent months' days are near zero, it looks like a vacancy or move and is not flagged"}}
  skip_categories: {type: str, default: "agricultural", doc: {zh: "不适用自身历史比较的强季节性用电类别（逗号分隔；这些用户看 theft_drop_vs_peers）", en: "Strongly seasonal categories own history cannot judge (comma separated; see theft_drop_vs_peers for them)"}}
description:
  zh: "按用户（全部用户表）计算每月日均电量。某月与其上月的日均电量都比之前若干个月（基准期）的日均电量下降至少给定比例：持续的大幅下降是绕越计量、短接等窃电的典型特征（也可能是空置、搬迁，需现场核实）。各月必须连续且有足够数据天数。最近两个月近乎零的天数占比高（空置、搬迁的迹象）的不判。每户只报第一次满足条件的月份，涉及电量为两个月相对基准的减少量。强季节性类别（默认农业排灌）不做自身历史比较；季节影响见 theft_drop_vs_peers。"
  en: "Daily mean kWh per customer (all its meters) per month. A month and the month before it are both below the mean of the preceding baseline months by at least the given share: a sustained large drop is the classic sign of a meter bypass or CT short (or of a vacancy or move, to be checked on site). Months must be consecutive with enough days of data. Months where many recent days are near zero (signs of a vacancy or move) are left out. Each customer is reported once, at the first month that qualifies; kWh at stake is the two months' shortfall against the baseline. Strongly seasonal categories (irrigation by default) are skipped; for seasonal effects see theft_drop_vs_peers."
basis: "DOMAIN §3 突变 (±30% against own previous cycles); DOMAIN §6 sustained drop after a start date; 《供电营业规则》第一百零一条"
truth_kinds: [theft_bypass, theft_ct_short, theft_cover_open, theft_reverse, theft_stopped_meter]
---*/
WITH cust_month AS (
  SELECT customer_id, period, month_idx, mean_kwh, n_days FROM customer_month_usage
  WHERE n_days >= CAST($min_days AS INTEGER)
),
indexed AS (
  SELECT customer_id, period, mean_kwh, n_days, month_idx FROM cust_month
),
series AS (
  SELECT i.customer_id, i.period, i.month_idx, i.mean_kwh, i.n_days,
         LAG(i.mean_kwh, 1) OVER (PARTITION BY i.customer_id ORDER BY i.month_idx) AS prev_kwh,
         LAG(i.n_days, 1) OVER (PARTITION BY i.customer_id ORDER BY i.month_idx) AS prev_days,
         LAG(i.month_idx, 1) OVER (PARTITION BY i.customer_id ORDER BY i.month_idx) AS prev_idx,
         -- the baseline (the baseline_months before the month before) by a RANGE frame over the integer month in
         -- the same sort as the LAGs (a join on the customer alone paired each month with every other month of it)
         AVG(i.mean_kwh) OVER (PARTITION BY i.customer_id ORDER BY i.month_idx
           RANGE BETWEEN CAST($baseline_months AS INTEGER) + 1 PRECEDING AND 2 PRECEDING) AS w_base_kwh,
         COUNT(*) OVER (PARTITION BY i.customer_id ORDER BY i.month_idx
           RANGE BETWEEN CAST($baseline_months AS INTEGER) + 1 PRECEDING AND 2 PRECEDING) AS w_base_months
  FROM indexed i
),
baseline AS (
  -- the baseline rides on the month's own row of series (one row per customer and month): no join back to it
  -- (at 1 M a hash join of the 11.6 M customer-months with themselves)
  SELECT customer_id, period, month_idx, mean_kwh, n_days, prev_kwh, prev_days, prev_idx,
         w_base_kwh AS base_kwh, w_base_months AS base_months
  FROM series WHERE w_base_months > 0
),
candidates AS (
  SELECT b.customer_id, b.period, b.month_idx, b.mean_kwh, b.n_days, b.prev_kwh, b.prev_days, b.prev_idx,
         b.base_kwh, b.base_months
  FROM baseline b
  JOIN customers c ON c.customer_id = b.customer_id AND c.status = 'active'
  WHERE NOT ((',' || replace(CAST($skip_categories AS VARCHAR), ' ', '') || ',') LIKE ('%,' || c.category || ',%'))
    AND b.prev_idx = b.month_idx - 1
    AND b.base_months = CAST($baseline_months AS INTEGER)
    AND b.base_kwh >= CAST($min_baseline_kwh AS DOUBLE)
    AND b.mean_kwh <= (1 - CAST($drop_pct AS DOUBLE)) * b.base_kwh
    AND b.prev_kwh <= (1 - CAST($drop_pct AS DOUBLE)) * b.base_kwh
),
vacancy AS (
  SELECT c.customer_id, c.period,
         AVG(CASE WHEN d.kwh * m.multiplier < CAST($vacancy_low_share AS DOUBLE) * c.base_kwh THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END) AS low_share
  FROM candidates c
  JOIN meters m ON m.customer_id = c.customer_id AND m.role = 'customer'
  JOIN (SELECT meter_id, day, kwh FROM daily_usage WHERE meter_id IN (SELECT m2.meter_id FROM meters m2 JOIN candidates c2 ON c2.customer_id = m2.customer_id)) d
    ON d.meter_id = m.meter_id
  WHERE extract(year FROM d.day) * 12 + extract(month FROM d.day) >= c.month_idx - 1
    AND extract(year FROM d.day) * 12 + extract(month FROM d.day) <= c.month_idx
  GROUP BY c.customer_id, c.period
),
hits AS (
  SELECT c.*, v.low_share,
         ROW_NUMBER() OVER (PARTITION BY c.customer_id ORDER BY c.month_idx) AS rn
  FROM candidates c
  JOIN vacancy v ON v.customer_id = c.customer_id AND v.period = c.period
  WHERE v.low_share <= CAST($max_vacancy_days AS DOUBLE)
)
SELECT
  customer_id                                                           AS entity_id,
  period                                                                AS period,
  1 - (mean_kwh + prev_kwh) / (2 * base_kwh)                            AS score,
  (base_kwh - mean_kwh) * n_days + (base_kwh - prev_kwh) * prev_days    AS kwh_at_stake,
  base_kwh                                                              AS ev_baseline_daily_kwh,
  low_share                                                             AS ev_near_zero_day_share,
  base_months                                                           AS ev_baseline_months,
  prev_kwh                                                              AS ev_previous_month_daily_kwh,
  mean_kwh                                                              AS ev_month_daily_kwh
FROM hits
WHERE rn = 1
  AND ($period IS NULL OR period = $period)
