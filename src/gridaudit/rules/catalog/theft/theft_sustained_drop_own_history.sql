/*---
id: theft_sustained_drop_own_history
title: {zh: 用电量较自身历史持续大幅下降, en: Sustained drop in use against the customer's own history}
family: theft
severity: high
entity_type: customer
tables: [customers, meters, daily_usage]
params:
  drop_pct: {type: float, default: 0.6, doc: {zh: 连续两个月日均电量都比基准期至少下降的比例, en: Minimum fall of both recent months' daily mean against the baseline (0.6 = 60%)}}
  baseline_months: {type: int, default: 3, doc: {zh: "基准期月数（紧挨最近两个月之前，1~6）", en: "Months in the baseline, just before the two recent months (1 to 6)"}}
  min_baseline_kwh: {type: float, default: 2.0, doc: {zh: 基准期日均电量下限, en: Minimum baseline daily mean}}
  min_days: {type: int, default: 10, doc: {zh: 每个月有数据的天数下限, en: Minimum days with data in each month used}}
description:
  zh: "按用户（全部用户表）计算每月日均电量。某月与其上月的日均电量都比之前若干个月（基准期）的日均电量下降至少给定比例：持续的大幅下降是绕越计量、短接等窃电的典型特征（也可能是空置、搬迁，需现场核实）。各月必须连续且有足够数据天数。每户只报第一次满足条件的月份，涉及电量为两个月相对基准的减少量。季节影响见 theft_drop_vs_peers。"
  en: "Daily mean kWh per customer (all its meters) per month. A month and the month before it are both below the mean of the preceding baseline months by at least the given share: a sustained large drop is the classic sign of a meter bypass or CT short (or of a vacancy or move, to be checked on site). Months must be consecutive with enough days of data. Each customer is reported once, at the first month that qualifies; kWh at stake is the two months' shortfall against the baseline. For seasonal effects see theft_drop_vs_peers."
basis: "DOMAIN §3 突变 (±30% against own previous cycles); DOMAIN §6 sustained drop after a start date; 《供电营业规则》第一百零一条"
truth_kinds: [theft_bypass, theft_ct_short, theft_cover_open, theft_reverse, theft_stopped_meter]
---*/
WITH meter_month AS (
  SELECT d.meter_id, date_trunc('month', d.day) AS month, SUM(d.kwh) AS kwh, COUNT(*) AS n_days
  FROM daily_usage d
  GROUP BY d.meter_id, date_trunc('month', d.day)
),
cust_month AS (
  SELECT m.customer_id, strftime(mm.month, '%Y-%m') AS period,
         SUM(mm.kwh * m.multiplier) / MAX(mm.n_days) AS mean_kwh, MAX(mm.n_days) AS n_days
  FROM meter_month mm
  JOIN meters m ON m.meter_id = mm.meter_id AND m.role = 'customer' AND m.customer_id IS NOT NULL
  GROUP BY m.customer_id, strftime(mm.month, '%Y-%m')
  HAVING MAX(mm.n_days) >= CAST($min_days AS INTEGER)
),
indexed AS (
  SELECT customer_id, period, mean_kwh, n_days,
         CAST(substr(period, 1, 4) AS INTEGER) * 12 + CAST(substr(period, 6, 2) AS INTEGER) AS month_idx
  FROM cust_month
),
series AS (
  SELECT i.customer_id, i.period, i.month_idx, i.mean_kwh, i.n_days,
         LAG(i.mean_kwh, 1) OVER (PARTITION BY i.customer_id ORDER BY i.month_idx) AS prev_kwh,
         LAG(i.n_days, 1) OVER (PARTITION BY i.customer_id ORDER BY i.month_idx) AS prev_days,
         LAG(i.month_idx, 1) OVER (PARTITION BY i.customer_id ORDER BY i.month_idx) AS prev_idx
  FROM indexed i
),
baseline AS (
  SELECT s.customer_id, s.period, AVG(b.mean_kwh) AS base_kwh, COUNT(*) AS base_months
  FROM series s
  JOIN indexed b ON b.customer_id = s.customer_id
               AND b.month_idx < s.month_idx - 1
               AND b.month_idx >= s.month_idx - 1 - CAST($baseline_months AS INTEGER)
  GROUP BY s.customer_id, s.period
),
hits AS (
  SELECT s.*, b.base_kwh, b.base_months,
         ROW_NUMBER() OVER (PARTITION BY s.customer_id ORDER BY s.month_idx) AS rn
  FROM series s
  JOIN baseline b ON b.customer_id = s.customer_id AND b.period = s.period
  JOIN customers c ON c.customer_id = s.customer_id AND c.status = 'active'
  WHERE s.prev_idx = s.month_idx - 1
    AND b.base_months = CAST($baseline_months AS INTEGER)
    AND b.base_kwh >= CAST($min_baseline_kwh AS DOUBLE)
    AND s.mean_kwh <= (1 - CAST($drop_pct AS DOUBLE)) * b.base_kwh
    AND s.prev_kwh <= (1 - CAST($drop_pct AS DOUBLE)) * b.base_kwh
)
SELECT
  customer_id                                                           AS entity_id,
  period                                                                AS period,
  1 - (mean_kwh + prev_kwh) / (2 * base_kwh)                            AS score,
  (base_kwh - mean_kwh) * n_days + (base_kwh - prev_kwh) * prev_days    AS kwh_at_stake,
  base_kwh                                                              AS ev_baseline_daily_kwh,
  base_months                                                           AS ev_baseline_months,
  prev_kwh                                                              AS ev_previous_month_daily_kwh,
  mean_kwh                                                              AS ev_month_daily_kwh
FROM hits
WHERE rn = 1
  AND ($period IS NULL OR period = $period)
