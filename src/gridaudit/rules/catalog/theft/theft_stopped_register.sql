/*---
id: theft_stopped_register
title: {zh: 电能表示数停走而台区供电正常, en: Register frozen while the area keeps being supplied}
family: theft
severity: high
entity_type: customer
tables: [customers, meters, daily_usage]
lookback: all  # each customer is reported once, at the first month that qualifies: needs the whole history
derived: [meter_month_usage, area_day_usage]
params:
  min_frozen_days: {type: int, default: 10, doc: {zh: 当月示数不变（且台区有供电）的天数下限, en: Minimum days in the month with an unchanged register while the area was supplied}}
  baseline_months: {type: int, default: 3, doc: {zh: 之前用于判断正常走字的月数, en: Months before used to establish normal use}}
  min_baseline_kwh: {type: float, default: 1.0, doc: {zh: 之前月份日均电量下限, en: Minimum daily mean in the months before}}
description:
  zh: "用户表日冻结示数与前一天相同（停走），而用户所属台区总表当天有供电量；当月此类天数达到下限，且用户此前几个月正常走字：台区有电而表不走，是表计停走、被短接或绕越的直接证据（排除了停电）。每户只报第一次出现的月份。"
  en: "The customer meter's daily frozen register equals the day before (stopped) while the customer's area total meter recorded supply that day; the month has at least min_frozen_days such days and the meter ran normally in the months before: supply on the area but a still register is direct evidence of a stopped, shorted or bypassed meter (an outage is ruled out). Each customer is reported once, at the first month it happens."
basis: "DOMAIN §4 停走 (meter stopped); 《供电营业规则》第一百零一条"
truth_kinds: [theft_stopped_meter]
---*/
WITH cm AS (
  SELECT m.meter_id, m.customer_id, m.multiplier, c.area_id
  FROM meters m
  JOIN customers c ON c.customer_id = m.customer_id AND c.status = 'active'
  WHERE m.role = 'customer' AND c.area_id IS NOT NULL
),
-- the customer meters with enough non-positive days in some month (few), with their customer and area: the daily
-- rows are joined with these alone (a join with every customer meter first let DuckDB probe all daily rows
-- against cm before the candidates' filter)
candidates AS (
  SELECT cm.meter_id, cm.customer_id, cm.multiplier, cm.area_id
  FROM cm
  WHERE cm.meter_id IN (
    SELECT meter_id FROM meter_month_usage WHERE nonpos_days >= CAST($min_frozen_days AS INTEGER)
  )
),
area_supply AS (
  SELECT area_id, day, supply_register_kwh AS kwh FROM area_day_usage WHERE supply_rows > 0
),
steps AS (
  SELECT k.customer_id, k.area_id, d.meter_id, d.day, d.kwh * k.multiplier AS kwh, d.register,
         LAG(d.register) OVER (PARTITION BY d.meter_id ORDER BY d.day) AS prev_register,
         LAG(d.day) OVER (PARTITION BY d.meter_id ORDER BY d.day) AS prev_day
  FROM daily_usage d
  JOIN candidates k ON k.meter_id = d.meter_id
),
monthly AS (
  SELECT s.customer_id, s.area_id, strftime(s.day, '%Y-%m') AS period,
         CAST(substr(strftime(s.day, '%Y-%m'), 1, 4) AS INTEGER) * 12
           + CAST(substr(strftime(s.day, '%Y-%m'), 6, 2) AS INTEGER) AS month_idx,
         AVG(s.kwh) AS mean_kwh,
         SUM(CASE WHEN s.register = s.prev_register AND date_diff('day', s.prev_day, s.day) = 1
                       AND sup.kwh > 0 THEN 1 ELSE 0 END) AS frozen_days,
         MIN(CASE WHEN s.register = s.prev_register AND date_diff('day', s.prev_day, s.day) = 1
                       AND sup.kwh > 0 THEN s.day END) AS first_frozen_day,
         MAX(s.register) AS register
  FROM steps s
  LEFT JOIN area_supply sup ON sup.area_id = s.area_id AND sup.day = s.day
  GROUP BY s.customer_id, s.area_id, strftime(s.day, '%Y-%m')
),
baseline AS (
  SELECT s.customer_id, s.period, AVG(b.mean_kwh) AS base_kwh, COUNT(*) AS base_months
  FROM monthly s
  JOIN monthly b ON b.customer_id = s.customer_id
               AND b.month_idx < s.month_idx
               AND b.month_idx >= s.month_idx - CAST($baseline_months AS INTEGER)
  GROUP BY s.customer_id, s.period
),
hits AS (
  SELECT s.*, b.base_kwh,
         ROW_NUMBER() OVER (PARTITION BY s.customer_id ORDER BY s.month_idx) AS rn
  FROM monthly s
  JOIN baseline b ON b.customer_id = s.customer_id AND b.period = s.period
  WHERE s.frozen_days >= CAST($min_frozen_days AS INTEGER)
    AND b.base_months = CAST($baseline_months AS INTEGER)
    AND b.base_kwh >= CAST($min_baseline_kwh AS DOUBLE)
)
SELECT
  customer_id                          AS entity_id,
  period                               AS period,
  CAST(frozen_days AS DOUBLE)          AS score,
  base_kwh * frozen_days               AS kwh_at_stake,
  area_id                              AS ev_area_id,
  frozen_days                          AS ev_frozen_days,
  first_frozen_day                     AS ev_first_frozen_day,
  register                             AS ev_register,
  base_kwh                             AS ev_baseline_daily_kwh
FROM hits
WHERE rn = 1
  AND ($period IS NULL OR period = $period)
