/*---
id: contract_use_on_suspended_account
title: {zh: 暂停期间仍有用电（擅自使用已暂停设备）, en: Use on a suspended account}
family: contract
severity: high
entity_type: customer
tables: [customers, meters, daily_usage, work_orders, work_order_steps]
lookback: {months: 0}
params:
  min_day_kwh: {type: float, default: 0.5, doc: {zh: 日电量超过该值才算有用电, en: A day counts as used when its kWh exceed this}}
  min_days: {type: int, default: 3, doc: {zh: 当月有用电天数下限, en: Minimum days with use in the month}}
  min_kwh: {type: float, default: 5.0, doc: {zh: 当月暂停后电量合计下限, en: Minimum total kWh after the suspension in the month}}
  recent_days: {type: int, default: 30, doc: {zh: "找不到暂停工单时，只看采集数据最后这些天", en: "When no suspension order is found, only the last this many days of AMI data are judged"}}
description:
  zh: "用户状态为暂停，暂停生效（最近一张暂停工单的最后环节完成时间，其后没有恢复工单）之后采集系统仍记录到用电；找不到暂停工单时只看采集数据最后若干天。当月有用电天数与电量均超过阈值即判定：擅自使用已暂停的设备，或暂停未真正执行。每户每月一条。"
  en: "The account is suspended, yet AMI records use after the suspension took effect (the last step of its latest suspension order with no resumption order after it); with no suspension order on file only the last recent_days of AMI data are judged. Flagged when both the days with use and the energy in the month exceed their thresholds: suspended equipment used without permission, or a suspension never carried out. One finding per customer and month."
basis: "DOMAIN §3 擅自使用已暂停设备; 《供电营业规则》第一百条第三项"
truth_kinds: [contract_suspended_use]
---*/
WITH orders AS (
  SELECT o.customer_id, o.order_type, MAX(s.finished_at) AS done_at
  FROM work_orders o
  JOIN work_order_steps s ON s.order_id = o.order_id
  WHERE o.order_type IN ('suspension', 'resumption') AND o.customer_id IS NOT NULL
  GROUP BY o.order_id, o.customer_id, o.order_type
),
last_susp AS (
  SELECT customer_id,
         MAX(CASE WHEN order_type = 'suspension' THEN done_at END) AS suspended_at,
         MAX(CASE WHEN order_type = 'resumption' THEN done_at END) AS resumed_at
  FROM orders
  GROUP BY customer_id
),
data_end AS (
  SELECT MAX(day) AS last_day FROM daily_usage
),
suspended AS (
  SELECT c.customer_id, c.reader_id,
         CASE WHEN l.suspended_at IS NOT NULL THEN CAST(l.suspended_at AS DATE) END AS since_day,
         CASE WHEN l.suspended_at IS NULL THEN 'no_order' ELSE 'order' END AS since_source
  FROM customers c
  LEFT JOIN last_susp l ON l.customer_id = c.customer_id
  WHERE c.status = 'suspended'
    AND (l.resumed_at IS NULL OR l.suspended_at IS NULL OR l.resumed_at < l.suspended_at)
),
after AS (
  SELECT s.customer_id, s.reader_id, s.since_day, s.since_source, d.day, SUM(d.kwh * m.multiplier) AS kwh
  FROM suspended s
  CROSS JOIN data_end de
  JOIN meters m ON m.customer_id = s.customer_id AND m.role = 'customer'
  JOIN (SELECT meter_id, day, kwh FROM daily_usage WHERE meter_id IN (SELECT m2.meter_id FROM meters m2 JOIN suspended s2 ON s2.customer_id = m2.customer_id)) d
    ON d.meter_id = m.meter_id
  WHERE (s.since_day IS NOT NULL AND d.day > s.since_day)
     OR (s.since_day IS NULL AND date_diff('day', d.day, de.last_day) < CAST($recent_days AS INTEGER))
  GROUP BY s.customer_id, s.reader_id, s.since_day, s.since_source, d.day
),
monthly AS (
  SELECT customer_id, reader_id, since_day, since_source, strftime(day, '%Y-%m') AS period,
         SUM(kwh) AS kwh, SUM(CASE WHEN kwh > CAST($min_day_kwh AS DOUBLE) THEN 1 ELSE 0 END) AS used_days,
         MIN(CASE WHEN kwh > CAST($min_day_kwh AS DOUBLE) THEN day END) AS first_used_day
  FROM after
  GROUP BY customer_id, reader_id, since_day, since_source, strftime(day, '%Y-%m')
)
SELECT
  customer_id                AS entity_id,
  period                     AS period,
  kwh                        AS score,
  kwh                        AS kwh_at_stake,
  reader_id                  AS responsible_staff_id,
  since_day                  AS ev_suspended_since,
  since_source               AS ev_since_source,
  first_used_day             AS ev_first_used_day,
  used_days                  AS ev_used_days,
  kwh                        AS ev_kwh
FROM monthly
WHERE used_days >= CAST($min_days AS INTEGER)
  AND kwh >= CAST($min_kwh AS DOUBLE)
  AND ($period IS NULL OR period = $period)
