/*---
id: theft_zero_use_active
title: {zh: 在用户电量突降为零且无空置迹象, en: Zero use on an active account with no sign of vacancy}
family: theft
severity: high
entity_type: customer
tables: [customers, meters, daily_usage]
lookback: all  # each customer is reported once, at the first month that qualifies: needs the whole history
derived: [meter_month_usage]
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
WITH mm AS (
  SELECT mm.meter_id, m.customer_id, m.multiplier, mm.month, mm.kwh * m.multiplier AS kwh, mm.n_days,
         mm.min_kwh * m.multiplier AS min_kwh
  FROM meter_month_usage mm
  JOIN meters m ON m.meter_id = mm.meter_id AND m.role = 'customer' AND m.customer_id IS NOT NULL
),
zero_counted AS (
  -- zero days are counted on the daily rows only where the month can reach min_zero_days (others cannot fire)
  SELECT d.meter_id, d.month, SUM(CASE WHEN d.kwh * k.multiplier <= CAST($zero_kwh AS DOUBLE) THEN 1 ELSE 0 END) AS zero_days
  FROM (
    SELECT meter_id, kwh, date_trunc('month', day) AS month FROM daily_usage
    WHERE meter_id IN (SELECT meter_id FROM mm WHERE min_kwh <= CAST($zero_kwh AS DOUBLE) AND n_days >= CAST($min_zero_days AS INTEGER))
  ) d
  JOIN mm k ON k.meter_id = d.meter_id AND k.month = d.month
  WHERE k.min_kwh <= CAST($zero_kwh AS DOUBLE) AND k.n_days >= CAST($min_zero_days AS INTEGER)
  GROUP BY d.meter_id, d.month
),
meter_month AS (
  SELECT mm.meter_id, mm.customer_id, mm.month, mm.kwh, mm.n_days, COALESCE(z.zero_days, 0) AS zero_days
  FROM mm
  LEFT JOIN zero_counted z ON z.meter_id = mm.meter_id AND z.month = mm.month
),
cust_month AS (
  SELECT customer_id, strftime(month, '%Y-%m') AS period,
         SUM(kwh) / MAX(n_days) AS mean_kwh, MAX(n_days) AS n_days, MIN(zero_days) AS zero_days
  FROM meter_month
  GROUP BY customer_id, strftime(month, '%Y-%m')
),
indexed AS (
  SELECT customer_id, period, mean_kwh, n_days, zero_days,
         CAST(substr(period, 1, 4) AS INTEGER) * 12 + CAST(substr(period, 6, 2) AS INTEGER) AS month_idx
  FROM cust_month
),
baseline AS (
  -- only for the months that can qualify (enough zero days): the others' baselines are never read
  SELECT s.customer_id, s.period, AVG(b.mean_kwh) AS base_kwh, COUNT(*) AS base_months
  FROM indexed s
  JOIN indexed b ON b.customer_id = s.customer_id
               AND b.month_idx < s.month_idx
               AND b.month_idx >= s.month_idx - CAST($baseline_months AS INTEGER)
  WHERE s.zero_days >= CAST($min_zero_days AS INTEGER)
  GROUP BY s.customer_id, s.period
),
hits AS (
  SELECT s.customer_id, s.period, s.mean_kwh, s.n_days, s.zero_days, b.base_kwh, c.reader_id,
         ROW_NUMBER() OVER (PARTITION BY s.customer_id ORDER BY s.month_idx) AS rn
  FROM indexed s
  JOIN baseline b ON b.customer_id = s.customer_id AND b.period = s.period
  JOIN customers c ON c.customer_id = s.customer_id AND c.status = 'active'
  WHERE s.zero_days >= CAST($min_zero_days AS INTEGER)
    AND b.base_months = CAST($baseline_months AS INTEGER)
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
