/*---
id: theft_zero_use_active
title: {zh: 在用户电量突降为零且无空置迹象, en: Zero use on an active account with no sign of vacancy}
family: theft
severity: high
entity_type: customer
tables: [customers, meters, daily_usage]
lookback: all  # each customer is reported once, at the first month that qualifies: needs the whole history
derived: [meter_month_usage, customer_month_usage]  # the zero-day candidates; each customer-month's daily mean
params:
  zero_kwh: {type: float, default: 0.01, doc: {zh: 日电量不超过该值视为零, en: A day with at most this many kWh counts as zero}}
  min_zero_days: {type: int, default: 15, doc: {zh: 当月零电量天数下限, en: Minimum zero days in the month}}
  baseline_months: {type: int, default: 3, doc: {zh: 之前用于判断正常用电的月数, en: Months before used to establish normal use}}
  min_baseline_kwh: {type: float, default: 2.0, doc: {zh: 之前月份日均电量下限（此前确有正常用电）, en: Minimum daily mean in the months before (the account really was in use)}}
description:
  zh: "状态为在用的用户，当月多数天电量为零（不超过阈值），而之前几个月日均电量正常：空置房屋通常仍有冰箱、路由器等待机电量，完全为零且此前正常用电说明表计停走、被短接或绕越。每户只报第一次出现的月份。"
  en: "An active account shows zero use (at most the threshold) on most days of the month after months of normal use: vacant homes still draw standby power (fridge, router), while flat zero after normal use means a stopped, shorted or bypassed meter. Each customer is reported once, at the first month it happens."
basis: "DOMAIN §3 (zero use on active accounts); DOMAIN §6 (h2: zero during a window); 《供电营业规则》第一百零一条"
truth_kinds: [theft_stopped_meter, theft_bypass]
---*/
WITH zero_mm AS (
  -- the meter-months that can reach min_zero_days (enough days, a day at or below zero_kwh): only their zero
  -- days are counted on the daily rows (other meter-months count 0, so their customer-month cannot fire)
  SELECT mm.meter_id, m.customer_id, m.multiplier, mm.month
  FROM meter_month_usage mm
  JOIN meters m ON m.meter_id = mm.meter_id AND m.role = 'customer' AND m.customer_id IS NOT NULL
  WHERE mm.min_kwh * m.multiplier <= CAST($zero_kwh AS DOUBLE) AND mm.n_days >= CAST($min_zero_days AS INTEGER)
),
zero_counted AS (
  SELECT k.customer_id, d.meter_id, d.month,
         SUM(CASE WHEN d.kwh * k.multiplier <= CAST($zero_kwh AS DOUBLE) THEN 1 ELSE 0 END) AS zero_days
  FROM (
    SELECT meter_id, kwh, date_trunc('month', day) AS month FROM daily_usage
    WHERE meter_id IN (SELECT meter_id FROM zero_mm)
  ) d
  JOIN zero_mm k ON k.meter_id = d.meter_id AND k.month = d.month
  GROUP BY k.customer_id, d.meter_id, d.month
),
zero_cust AS (
  -- a customer-month's zero days are its meters' fewest; n_counted < the month's n_meters means a meter not
  -- counted above (0 zero days)
  SELECT customer_id, month, MIN(zero_days) AS zero_days, COUNT(*) AS n_counted
  FROM zero_counted
  GROUP BY customer_id, month
),
indexed AS (
  SELECT u.customer_id, u.period, u.mean_kwh, u.n_days, u.month_idx,
         CASE WHEN z.n_counted = u.n_meters THEN z.zero_days ELSE 0 END AS zero_days
  FROM customer_month_usage u
  LEFT JOIN zero_cust z ON z.customer_id = u.customer_id AND z.month = u.month
),
candidates AS (
  SELECT * FROM indexed WHERE zero_days >= CAST($min_zero_days AS INTEGER)
),
baseline AS (
  -- only for the months that can qualify (enough zero days): the others' baselines are never read
  SELECT s.customer_id, s.period, AVG(b.mean_kwh) AS base_kwh, COUNT(*) AS base_months
  FROM candidates s
  JOIN customer_month_usage b ON b.customer_id = s.customer_id
               AND b.month_idx < s.month_idx
               AND b.month_idx >= s.month_idx - CAST($baseline_months AS INTEGER)
  GROUP BY s.customer_id, s.period
),
hits AS (
  SELECT s.customer_id, s.period, s.mean_kwh, s.n_days, s.zero_days, b.base_kwh, c.reader_id,
         ROW_NUMBER() OVER (PARTITION BY s.customer_id ORDER BY s.month_idx) AS rn
  FROM candidates s
  JOIN baseline b ON b.customer_id = s.customer_id AND b.period = s.period
  JOIN customers c ON c.customer_id = s.customer_id AND c.status = 'active'
  WHERE b.base_months = CAST($baseline_months AS INTEGER)
    AND b.base_kwh >= CAST($min_baseline_kwh AS DOUBLE)
)
SELECT
  customer_id                       AS entity_id,
  period                            AS period,
  CAST(zero_days AS DOUBLE) / n_days AS score,
  (base_kwh - mean_kwh) * n_days    AS kwh_at_stake,
  zero_days                         AS ev_zero_days,
  n_days                            AS ev_days,
  base_kwh                          AS ev_baseline_daily_kwh,
  mean_kwh                          AS ev_month_daily_kwh
FROM hits
WHERE rn = 1
  AND ($period IS NULL OR period = $period)
