/*---
template: metering_event_count   # one SQL, one rule per instance below (each with its own id, metadata and fixtures)
family: metering
entity_type: customer
tables: [meter_events, meters]
lookback: {months: 0}
params:   # shared declarations; an instance sets its own defaults
  event_types: {type: str, default: "", doc: {zh: "计入的事件类型（逗号分隔，meter_events.event_type）", en: "Event types counted (comma separated, meter_events.event_type)"}}
  min_count: {type: int, default: 1, doc: {zh: "当月事件次数达到该值即判定", en: "Flag when the month has at least this many events"}}
  min_hours: {type: float, default: null, doc: {zh: "当月事件累计持续小时数达到该值也判定；为空不按时长判定", en: "Also flag when the events last this many hours in total in the month; empty disables the duration test"}}
basis: "DOMAIN §4 电能表事件 (DL/T 645, DL/T 698.45 typical triggers)"
truth_kinds: []   # one event is weak evidence (DOMAIN §4): the theft kinds are claimed by metering_event_with_use_drop
instances:
  - id: metering_event_clock_error
    title: {zh: "时钟异常事件", en: "Meter clock error"}
    severity: low
    params: {event_types: {default: "clock_error"}, min_count: {default: 1}, min_hours: {default: null}}
    description:
      zh: "电能表时钟偏差超过限值（默认300秒）：分时电价计费和日冻结数据会错位，需要校时或换表。按用户（其全部用户表）每月汇总事件次数与累计持续时间（缺结束时间的按0计），次数或时长达到阈值即判定。评分为次数加累计天数。单个事件是弱证据，与电量下降同时出现时见 metering_event_with_use_drop。"
      en: "The meter clock is off by more than the limit (300 s by default): time-of-use billing and daily freezes shift; the clock needs setting or the meter replacing. Events are summed per customer and month over the customer's meters (count, and total duration with a missing end counted as zero); the meter is flagged when either reaches its threshold. Score is the count plus the total days. One event is weak evidence; see metering_event_with_use_drop for events followed by a drop in use."
  - id: metering_event_current_loss
    title: {zh: "失流事件", en: "Current loss events"}
    severity: medium
    params: {event_types: {default: "current_loss"}, min_count: {default: 2}, min_hours: {default: 1.0}}
    description:
      zh: "电能表记录失流（电压正常而电流低于0.5%Ib）事件：常见于电流互感器二次短接（短接CT窃电）或接线松脱。按用户（其全部用户表）每月汇总事件次数与累计持续时间（缺结束时间的按0计），次数或时长达到阈值即判定。评分为次数加累计天数。单个事件是弱证据，与电量下降同时出现时见 metering_event_with_use_drop。"
      en: "The meter logged current loss events (voltage present, current below 0.5% Ib): typical of a shorted CT secondary (CT-short theft) or a loose connection. Events are summed per customer and month over the customer's meters (count, and total duration with a missing end counted as zero); the meter is flagged when either reaches its threshold. Score is the count plus the total days. One event is weak evidence; see metering_event_with_use_drop for events followed by a drop in use."
  - id: metering_event_imbalance
    title: {zh: "电流/电压不平衡事件", en: "Current / voltage imbalance events"}
    severity: low
    params: {event_types: {default: "current_imbalance,voltage_imbalance"}, min_count: {default: 5}, min_hours: {default: 24.0}}
    description:
      zh: "三相电能表长时间或频繁记录电流、电压不平衡（电流不平衡默认30%，严重90%）：可能一相被绕越计量，或负荷分配不当。按用户（其全部用户表）每月汇总事件次数与累计持续时间（缺结束时间的按0计），次数或时长达到阈值即判定。评分为次数加累计天数。单个事件是弱证据，与电量下降同时出现时见 metering_event_with_use_drop。"
      en: "A three-phase meter logged current or voltage imbalance often or for long (30% imbalance, severe 90%): one phase may bypass the meter, or the load is badly distributed. Events are summed per customer and month over the customer's meters (count, and total duration with a missing end counted as zero); the meter is flagged when either reaches its threshold. Score is the count plus the total days. One event is weak evidence; see metering_event_with_use_drop for events followed by a drop in use."
  - id: metering_event_magnetic
    title: {zh: "恒定磁场干扰事件", en: "Constant magnetic field interference"}
    severity: high
    params: {event_types: {default: "magnetic"}, min_count: {default: 1}, min_hours: {default: null}}
    description:
      zh: "电能表记录恒定磁场干扰事件：以强磁铁干扰计量是常见窃电手法。任何一次都应核查。按用户（其全部用户表）每月汇总事件次数与累计持续时间（缺结束时间的按0计），次数或时长达到阈值即判定。评分为次数加累计天数。单个事件是弱证据，与电量下降同时出现时见 metering_event_with_use_drop。"
      en: "The meter logged constant magnetic field interference: strong magnets are a common way to slow a meter. Any occurrence is worth checking. Events are summed per customer and month over the customer's meters (count, and total duration with a missing end counted as zero); the meter is flagged when either reaches its threshold. Score is the count plus the total days. One event is weak evidence; see metering_event_with_use_drop for events followed by a drop in use."
  - id: metering_event_reverse_power
    title: {zh: "功率反向事件", en: "Reverse power events"}
    severity: medium
    params: {event_types: {default: "reverse_power"}, min_count: {default: 2}, min_hours: {default: 1.0}}
    description:
      zh: "电能表记录功率（潮流）反向事件：无发电并网的用户出现反向功率，多为接线错误或倒接窃电。按用户（其全部用户表）每月汇总事件次数与累计持续时间（缺结束时间的按0计），次数或时长达到阈值即判定。评分为次数加累计天数。单个事件是弱证据，与电量下降同时出现时见 metering_event_with_use_drop。"
      en: "The meter logged reverse power flow events: for a customer with no generation this means a wiring error or reversed connection to steal energy. Events are summed per customer and month over the customer's meters (count, and total duration with a missing end counted as zero); the meter is flagged when either reaches its threshold. Score is the count plus the total days. One event is weak evidence; see metering_event_with_use_drop for events followed by a drop in use."
  - id: metering_event_stopped_racing
    title: {zh: "电能表停走/飞走事件", en: "Meter stopped / racing"}
    severity: high
    params: {event_types: {default: "meter_stopped,meter_racing"}, min_count: {default: 1}, min_hours: {default: null}}
    description:
      zh: "采集系统判定电能表停走（有负荷而示数不变）或飞走（示数异常快速增长）：停走少计电量（可能人为），飞走多计电量引起投诉。按用户（其全部用户表）每月汇总事件次数与累计持续时间（缺结束时间的按0计），次数或时长达到阈值即判定。评分为次数加累计天数。单个事件是弱证据，与电量下降同时出现时见 metering_event_with_use_drop。"
      en: "The collection system found the meter stopped (load but no register advance) or racing (register climbing abnormally fast): a stopped meter under-records (possibly tampered), a racing one over-bills. Events are summed per customer and month over the customer's meters (count, and total duration with a missing end counted as zero); the meter is flagged when either reaches its threshold. Score is the count plus the total days. One event is weak evidence; see metering_event_with_use_drop for events followed by a drop in use."
  - id: metering_event_voltage_loss
    title: {zh: "失压/断相事件", en: "Voltage loss / phase break events"}
    severity: medium
    params: {event_types: {default: "voltage_loss,phase_break"}, min_count: {default: 3}, min_hours: {default: 4.0}}
    description:
      zh: "电能表记录失压（电压低于78%Un而有电流）或断相事件。失压期间该相电量少计，是常见的窃电手法（断开电压连接片）也可能是接线故障。按用户（其全部用户表）每月汇总事件次数与累计持续时间（缺结束时间的按0计），次数或时长达到阈值即判定。评分为次数加累计天数。单个事件是弱证据，与电量下降同时出现时见 metering_event_with_use_drop。"
      en: "The meter logged voltage loss (a phase below 78% Un while current flows) or phase break events. Energy on that phase goes unmetered while it lasts: a common theft method (opening the voltage link) or a wiring fault. Events are summed per customer and month over the customer's meters (count, and total duration with a missing end counted as zero); the meter is flagged when either reaches its threshold. Score is the count plus the total days. One event is weak evidence; see metering_event_with_use_drop for events followed by a drop in use."
---*/
WITH ev0 AS (
  SELECT m.customer_id, e.meter_id, e.event_type, e.ts,
         COALESCE(epoch(e.ended_at) - epoch(e.ts), 0) / 3600.0 AS hours
  FROM meter_events e
  JOIN meters m ON m.meter_id = e.meter_id AND m.role = 'customer' AND m.customer_id IS NOT NULL
  WHERE (',' || replace(CAST($event_types AS VARCHAR), ' ', '') || ',') LIKE ('%,' || e.event_type || ',%')
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
