/*---
template: metering_event_unauthorised   # one SQL, one rule per instance below (each with its own id, metadata and fixtures)
family: metering
entity_type: customer
tables: [meter_events, meters, work_orders, work_order_steps]
lookback: {months: 0}
params:   # shared declarations; an instance sets its own defaults
  event_types: {type: str, default: "", doc: {zh: "计入的事件类型（逗号分隔，meter_events.event_type）", en: "Event types counted (comma separated, meter_events.event_type)"}}
  min_count: {type: int, default: 1, doc: {zh: "当月事件次数达到该值即判定", en: "Flag when the month has at least this many events"}}
  min_hours: {type: float, default: null, doc: {zh: "当月事件累计持续小时数达到该值也判定；为空不按时长判定", en: "Also flag when the events last this many hours in total in the month; empty disables the duration test"}}
  window_days: {type: int, default: 3, doc: {zh: "事件前后该天数内有用户工单环节即视为授权作业、不判定", en: "Events within this many days of a work order step of the customer count as authorised work and are not flagged"}}
basis: "DOMAIN §4 电能表事件 (DL/T 645, DL/T 698.45 typical triggers)"
truth_kinds: []   # one event is weak evidence (DOMAIN §4): the theft kinds are claimed by metering_event_with_use_drop
instances:
  - id: metering_event_cover_open
    title: {zh: "开表盖/开端钮盒事件", en: "Meter cover / terminal cover opened"}
    severity: high
    params: {event_types: {default: "cover_open,terminal_cover_open"}, min_count: {default: 1}, min_hours: {default: null}, window_days: {default: 3}}
    description:
      zh: "电能表记录开表盖或开端钮盒事件，且事件前后若干天内该用户没有任何工单环节（无授权的现场作业）。任何一次都应核查。按用户（其全部用户表）每月汇总事件次数与累计持续时间（缺结束时间的按0计），次数或时长达到阈值即判定。事件前后 window_days 天内有该用户工单环节的视为授权作业，不计入。评分为次数加累计天数。单个事件是弱证据，与电量下降同时出现时见 metering_event_with_use_drop。"
      en: "The meter logged a cover or terminal cover opening with no work order step of the customer within the window around it (no authorised field work). Any occurrence is worth checking. Events are summed per customer and month over the customer's meters (count, and total duration with a missing end counted as zero); the meter is flagged when either reaches its threshold. Events within window_days of a work order step of the customer count as authorised work and are left out. Score is the count plus the total days. One event is weak evidence; see metering_event_with_use_drop for events followed by a drop in use."
  - id: metering_event_cleared_param
    title: {zh: "电能表清零/参数变更事件", en: "Meter cleared / parameters changed"}
    severity: high
    params: {event_types: {default: "meter_cleared,parameter_changed"}, min_count: {default: 1}, min_hours: {default: null}, window_days: {default: 3}}
    description:
      zh: "电能表记录清零或参数（编程）变更事件，且事件前后若干天内该用户没有任何工单环节（无授权的编程）。可能被篡改示数或倍率、费率参数。按用户（其全部用户表）每月汇总事件次数与累计持续时间（缺结束时间的按0计），次数或时长达到阈值即判定。事件前后 window_days 天内有该用户工单环节的视为授权作业，不计入。评分为次数加累计天数。单个事件是弱证据，与电量下降同时出现时见 metering_event_with_use_drop。"
      en: "The meter logged a register clear or a parameter (programming) change with no work order step of the customer within the window around it (unauthorised programming): the register, multiplier or tariff settings may have been tampered with. Events are summed per customer and month over the customer's meters (count, and total duration with a missing end counted as zero); the meter is flagged when either reaches its threshold. Events within window_days of a work order step of the customer count as authorised work and are left out. Score is the count plus the total days. One event is weak evidence; see metering_event_with_use_drop for events followed by a drop in use."
---*/
WITH ev0 AS (
  SELECT m.customer_id, e.meter_id, e.event_type, e.ts,
         COALESCE(epoch(e.ended_at) - epoch(e.ts), 0) / 3600.0 AS hours
  FROM meter_events e
  JOIN meters m ON m.meter_id = e.meter_id AND m.role = 'customer' AND m.customer_id IS NOT NULL
  WHERE (',' || replace(CAST($event_types AS VARCHAR), ' ', '') || ',') LIKE ('%,' || e.event_type || ',%')
),
authorised AS (
  SELECT DISTINCT e.meter_id, e.ts, e.event_type
  FROM ev0 e
  JOIN work_orders o ON o.customer_id = e.customer_id
  JOIN work_order_steps s ON s.order_id = o.order_id
  WHERE abs(date_diff('day', CAST(s.finished_at AS DATE), CAST(e.ts AS DATE))) <= CAST($window_days AS INTEGER)
),
ev AS (
  SELECT e.*
  FROM ev0 e
  LEFT JOIN authorised a ON a.meter_id = e.meter_id AND a.ts = e.ts AND a.event_type = e.event_type
  WHERE a.meter_id IS NULL
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
