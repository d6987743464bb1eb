/*---
id: contract_use_on_closed_account
title: {zh: 销户后仍有用电, en: Use on a closed account}
family: contract
severity: high
entity_type: customer
tables: [customers, meters, daily_usage]
lookback: {months: 0}
params:
  min_day_kwh: {type: float, default: 0.5, doc: {zh: 日电量超过该值才算有用电, en: A day counts as used when its kWh exceed this}}
  min_days: {type: int, default: 3, doc: {zh: 当月有用电天数下限, en: Minimum days with use in the month}}
  min_kwh: {type: float, default: 5.0, doc: {zh: 当月销户后电量合计下限, en: Minimum total kWh after closure in the month}}
description:
  zh: "用户状态为销户，销户日期之后采集系统仍记录到用电（当月有用电天数与电量均超过阈值）：未登记的恢复送电或私自接电用电。每户每月一条，周期为用电月份，涉及电量为销户后当月电量。"
  en: "The account is closed, yet AMI records use after its closed_on date (both the days with use and the energy in the month exceed their thresholds): an unrecorded reconnection or illicit use. One finding per customer and month of use; the kWh at stake is that month's energy after closure."
basis: "DOMAIN §3 销户后用电; 《供电营业规则》第一百条、第一百零一条"
truth_kinds: [contract_suspended_use]
---*/
WITH closed AS (
  SELECT customer_id, closed_on, reader_id
  FROM customers
  WHERE status = 'closed' AND closed_on IS NOT NULL
),
after AS (
  SELECT c.customer_id, c.closed_on, c.reader_id, d.day, SUM(d.kwh * m.multiplier) AS kwh
  FROM closed c
  JOIN meters m ON m.customer_id = c.customer_id AND m.role = 'customer'
  JOIN (SELECT meter_id, day, kwh FROM daily_usage WHERE meter_id IN (SELECT m2.meter_id FROM meters m2 JOIN closed c2 ON c2.customer_id = m2.customer_id)) d
    ON d.meter_id = m.meter_id AND d.day > c.closed_on
  GROUP BY c.customer_id, c.closed_on, c.reader_id, d.day
),
monthly AS (
  SELECT customer_id, closed_on, reader_id, strftime(day, '%Y-%m') AS period,
         SUM(kwh) AS kwh, SUM(CASE WHEN kwh > CAST($min_day_kwh AS DOUBLE) THEN 1 ELSE 0 END) AS used_days,
         MIN(CASE WHEN kwh > CAST($min_day_kwh AS DOUBLE) THEN day END) AS first_used_day
  FROM after
  GROUP BY customer_id, closed_on, reader_id, strftime(day, '%Y-%m')
)
SELECT
  customer_id                AS entity_id,
  period                     AS period,
  kwh                        AS score,
  kwh                        AS kwh_at_stake,
  reader_id                  AS responsible_staff_id,
  closed_on                  AS ev_closed_on,
  first_used_day             AS ev_first_used_day,
  used_days                  AS ev_used_days,
  kwh                        AS ev_kwh
FROM monthly
WHERE used_days >= CAST($min_days AS INTEGER)
  AND kwh >= CAST($min_kwh AS DOUBLE)
  AND ($period IS NULL OR period = $period)
