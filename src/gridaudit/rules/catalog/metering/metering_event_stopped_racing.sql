/*---
id: metering_event_stopped_racing
title: {zh: 电能表停走/飞走事件, en: Meter stopped / racing}
family: metering
severity: high
entity_type: customer
tables: [meter_events, meters]
params:
  min_count: {type: int, default: 1, doc: {zh: 当月事件次数达到该值即判定, en: Flag when the month has at least this many events}}
  min_hours: {type: float, default: null, doc: {zh: "当月事件累计持续小时数达到该值也判定；为空不按时长判定", en: "Also flag when the events last this many hours in total in the month; empty disables the duration test"}}
description:
  zh: "采集系统判定电能表停走（有负荷而示数不变）或飞走（示数异常快速增长）：停走少计电量（可能人为），飞走多计电量引起投诉。按用户（其全部用户表）每月汇总事件次数与累计持续时间（缺结束时间的按0计），次数或时长达到阈值即判定。评分为次数加累计天数。单个事件是弱证据，与电量下降同时出现时见 metering_event_with_use_drop。"
  en: "The collection system found the meter stopped (load but no register advance) or racing (register climbing abnormally fast): a stopped meter under-records (possibly tampered), a racing one over-bills. Events are summed per customer and month over the customer's meters (count, and total duration with a missing end counted as zero); the meter is flagged when either reaches its threshold. Score is the count plus the total days. One event is weak evidence; see metering_event_with_use_drop for events followed by a drop in use."
basis: "DOMAIN §4 电能表事件 (DL/T 645, DL/T 698.45 typical triggers)"
truth_kinds: []   # one event is weak evidence (DOMAIN §4): the kinds are claimed by metering_event_with_use_drop
---*/
WITH ev0 AS (
  SELECT m.customer_id, e.meter_id, e.event_type, e.ts,
         COALESCE(epoch(e.ended_at) - epoch(e.ts), 0) / 3600.0 AS hours
  FROM meter_events e
  JOIN meters m ON m.meter_id = e.meter_id AND m.role = 'customer' AND m.customer_id IS NOT NULL
  WHERE e.event_type IN ('meter_stopped', 'meter_racing')
),
ev AS (
  SELECT * FROM ev0
),
monthly AS (
  SELECT customer_id, strftime(ts, '%Y-%m') AS period,
         MIN(meter_id) AS meter_id, COUNT(DISTINCT meter_id) AS n_meters,
         COUNT(*) AS n_events, SUM(hours) AS total_hours, MIN(ts) AS first_ts, MAX(ts) AS last_ts,
         MIN(event_type) AS first_type, MAX(event_type) AS last_type
  FROM ev
  GROUP BY customer_id, strftime(ts, '%Y-%m')
)
SELECT
  customer_id                                  AS entity_id,
  period                                       AS period,
  n_events + total_hours / 24.0                AS score,
  meter_id                                     AS ev_meter_id,
  n_meters                                     AS ev_meters,
  n_events                                     AS ev_events,
  total_hours                                  AS ev_total_hours,
  first_ts                                     AS ev_first_at,
  last_ts                                      AS ev_last_at,
  first_type                                   AS ev_event_type_min,
  last_type                                    AS ev_event_type_max
FROM monthly
WHERE (n_events >= CAST($min_count AS INTEGER)
       OR (CAST($min_hours AS DOUBLE) IS NOT NULL AND total_hours >= CAST($min_hours AS DOUBLE)))
  AND ($period IS NULL OR period = $period)
