/*---
id: theft_reverse_with_falling_use
title: {zh: 功率反向事件伴随电量下降, en: Reverse power events with falling use}
family: theft
severity: critical
entity_type: customer
tables: [customers, meters, daily_usage, meter_events]
lookback: {months: baseline_months}  # the baseline months before the event month
params:
  min_events: {type: int, default: 2, doc: {zh: "当月功率反向事件次数下限（单次事件是弱证据）", en: "Minimum reverse power events in the month (a single event is weak evidence)"}}
  drop_pct: {type: float, default: 0.2, doc: {zh: 事件当月或次月日均电量比基准期至少下降的比例, en: Minimum fall of the event month's or the next month's daily mean against the baseline}}
  baseline_months: {type: int, default: 3, doc: {zh: 事件月之前的基准月数, en: Baseline months before the event month}}
  min_baseline_kwh: {type: float, default: 1.0, doc: {zh: 基准期日均电量下限, en: Minimum baseline daily mean}}
description:
  zh: "用户表当月出现功率反向事件，且当月或次月（取较低者）日均电量比之前基准期下降至少给定比例：无发电并网的用户出现反向功率并伴随计量电量下降，是倒接、反接窃电的特征。每户每个事件月一条。"
  en: "The customer's meter logged reverse power in the month, and the daily mean of that month or the next (the lower) fell by at least the given share against the baseline months before: reverse flow on a customer with no generation, together with falling metered use, marks a reversed connection used to steal energy. One finding per customer and event month."
basis: "DOMAIN §4 功率反向 (one event weak; with a consumption drop strong); 《供电营业规则》第一百零一条"
truth_kinds: [theft_reverse]
---*/
WITH cust_meters AS (
  SELECT m.meter_id, m.customer_id, m.multiplier
  FROM meters m
  JOIN customers c ON c.customer_id = m.customer_id AND c.status = 'active'
  WHERE m.role = 'customer'
),
ev AS (
  SELECT cm.customer_id, strftime(e.ts, '%Y-%m') AS period, COUNT(*) AS n_events, MIN(e.ts) AS first_at
  FROM meter_events e
  JOIN cust_meters cm ON cm.meter_id = e.meter_id
  WHERE e.event_type = 'reverse_power'
  GROUP BY cm.customer_id, strftime(e.ts, '%Y-%m')
),
cust_day AS (
  SELECT cm.customer_id, d.day, SUM(d.kwh * cm.multiplier) AS kwh
  FROM (SELECT meter_id, day, kwh FROM daily_usage WHERE meter_id IN (SELECT meter_id FROM cust_meters WHERE customer_id IN (SELECT customer_id FROM ev))) d
  JOIN cust_meters cm ON cm.meter_id = d.meter_id
  WHERE cm.customer_id IN (SELECT customer_id FROM ev)
  GROUP BY cm.customer_id, d.day
),
monthly AS (
  SELECT customer_id, strftime(day, '%Y-%m') AS period, AVG(kwh) AS mean_kwh,
         CAST(substr(strftime(day, '%Y-%m'), 1, 4) AS INTEGER) * 12
           + CAST(substr(strftime(day, '%Y-%m'), 6, 2) AS INTEGER) AS month_idx
  FROM cust_day
  GROUP BY customer_id, strftime(day, '%Y-%m')
),
judged AS (
  SELECT e.customer_id, e.period, e.n_events, e.first_at, cur.mean_kwh AS month_kwh, nxt.mean_kwh AS next_kwh,
         AVG(b.mean_kwh) AS base_kwh, COUNT(b.month_idx) AS base_months
  FROM ev e
  JOIN monthly cur ON cur.customer_id = e.customer_id AND cur.period = e.period
  LEFT JOIN monthly nxt ON nxt.customer_id = e.customer_id AND nxt.month_idx = cur.month_idx + 1
  JOIN monthly b ON b.customer_id = e.customer_id
               AND b.month_idx < cur.month_idx
               AND b.month_idx >= cur.month_idx - CAST($baseline_months AS INTEGER)
  WHERE e.n_events >= CAST($min_events AS INTEGER)
  GROUP BY e.customer_id, e.period, e.n_events, e.first_at, cur.mean_kwh, nxt.mean_kwh
)
SELECT
  customer_id                                               AS entity_id,
  period                                                    AS period,
  1 - LEAST(month_kwh, COALESCE(next_kwh, month_kwh)) / base_kwh AS score,
  n_events                                                  AS ev_reverse_events,
  first_at                                                  AS ev_first_event_at,
  base_kwh                                                  AS ev_baseline_daily_kwh,
  month_kwh                                                 AS ev_month_daily_kwh,
  next_kwh                                                  AS ev_next_month_daily_kwh
FROM judged
WHERE base_months = CAST($baseline_months AS INTEGER)
  AND base_kwh >= CAST($min_baseline_kwh AS DOUBLE)
  AND LEAST(month_kwh, COALESCE(next_kwh, month_kwh)) <= (1 - CAST($drop_pct AS DOUBLE)) * base_kwh
  AND ($period IS NULL OR period = $period)
