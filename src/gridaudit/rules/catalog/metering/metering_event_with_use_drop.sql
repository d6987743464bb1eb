/*---
id: metering_event_with_use_drop
title: {zh: 异常事件后用电量明显下降, en: Meter event followed by a drop in use}
family: metering
severity: critical
entity_type: customer
tables: [meter_events, meters, daily_usage]
lookback: {days: before_days}  # the days before an event in the period
params:
  before_days: {type: int, default: 30, doc: {zh: 事件前用于比较的天数, en: Days before the event used as the baseline}}
  after_days: {type: int, default: 30, doc: {zh: 事件后用于比较的天数, en: Days after the event compared with the baseline}}
  drop_pct: {type: float, default: 0.3, doc: {zh: 事件后日均电量比事件前至少下降的比例, en: Minimum fall of the daily mean after the event relative to before (0.3 = 30%)}}
  min_baseline_kwh: {type: float, default: 1.0, doc: {zh: 事件前日均电量下限（排除本来几乎不用电的户）, en: Minimum daily mean before the event (leaves out customers who hardly used any)}}
  vacancy_low_share: {type: float, default: 0.1, doc: {zh: 日电量低于事件前日均的该比例视为近乎零（空置迹象）, en: A day below this share of the daily mean before the event counts as near zero (a vacancy sign)}}
  max_vacancy_days: {type: float, default: 0.3, doc: {zh: 事件后近乎零的天数占比超过该值视为空置或搬迁、不判, en: "When more than this share of the days after the event are near zero, it looks like a vacancy or move and is not flagged"}}
  min_days: {type: int, default: 7, doc: {zh: 事件前后各自至少需要的有数据天数, en: Minimum days with data on each side of the event}}
description:
  zh: "用户表发生与窃电相关的事件（失压、断相、失流、功率反向、电流不平衡、开表盖/端钮盒、磁场干扰、停走、清零、参数变更）后，事件后若干天日均电量比事件前同样天数的日均电量下降至少给定比例。单个事件是弱证据，事件与电量下降同时出现是强证据（DOMAIN §4）。事件后多数天近乎零（空置、搬迁迹象）的不判。每个用户每月取降幅最大的事件日，周期为事件月份，评分为降幅。"
  en: "After a theft-related event on the customer's meter (voltage loss, phase break, current loss, reverse power, current imbalance, cover or terminal cover open, magnetic interference, meter stopped, cleared, parameters changed), the daily mean over the following days fell by at least the given share against the same number of days before. One event is weak evidence; an event with a drop in use is strong (DOMAIN §4). Drops where most days after the event are near zero (signs of a vacancy or move) are left out. Per customer and month the event day with the largest drop is kept; period is the event's month and the score is the drop."
basis: "DOMAIN §4 (co-occurring events with a consumption drop are strong evidence); 《供电营业规则》第一百零一条 窃电行为"
truth_kinds: [theft_ct_short, theft_cover_open, theft_reverse, theft_stopped_meter]
---*/
WITH cust_meters AS (
  SELECT meter_id, customer_id, multiplier FROM meters WHERE role = 'customer' AND customer_id IS NOT NULL
),
anchors AS (
  SELECT cm.customer_id, CAST(e.ts AS DATE) AS ev_day,
         MIN(e.event_type) AS event_type, COUNT(*) AS n_events
  FROM meter_events e
  JOIN cust_meters cm ON cm.meter_id = e.meter_id
  WHERE e.event_type IN ('voltage_loss', 'phase_break', 'current_loss', 'reverse_power', 'current_imbalance',
                         'cover_open', 'terminal_cover_open', 'magnetic', 'meter_stopped', 'meter_cleared',
                         'parameter_changed')
  GROUP BY cm.customer_id, CAST(e.ts AS DATE)
),
-- Days are cut into blocks of (before_days + after_days + 1) days: an event's window spans one block or two,
-- so only the customer's daily rows in those blocks are summed and compared (not every day of the customer).
anchor_blocks AS (
  SELECT customer_id, ev_day,
         CAST(FLOOR(CAST(date_diff('day', DATE '1970-01-01', ev_day) - CAST($before_days AS INTEGER) AS DOUBLE)
                    / (CAST($before_days AS INTEGER) + CAST($after_days AS INTEGER) + 1)) AS INTEGER) AS block
  FROM anchors
  UNION
  SELECT customer_id, ev_day,
         CAST(FLOOR(CAST(date_diff('day', DATE '1970-01-01', ev_day) + CAST($after_days AS INTEGER) AS DOUBLE)
                    / (CAST($before_days AS INTEGER) + CAST($after_days AS INTEGER) + 1)) AS INTEGER) AS block
  FROM anchors
),
blocks AS (
  SELECT DISTINCT customer_id, block FROM anchor_blocks
),
cust_daily AS (
  SELECT cm.customer_id, d.block, d.day, SUM(d.kwh * cm.multiplier) AS kwh
  FROM (
    SELECT meter_id, day, kwh,
           CAST(FLOOR(CAST(date_diff('day', DATE '1970-01-01', day) AS DOUBLE)
                      / (CAST($before_days AS INTEGER) + CAST($after_days AS INTEGER) + 1)) AS INTEGER) AS block
    FROM daily_usage
    WHERE meter_id IN (SELECT meter_id FROM cust_meters WHERE customer_id IN (SELECT customer_id FROM anchors))
  ) d
  JOIN cust_meters cm ON cm.meter_id = d.meter_id
  JOIN blocks b ON b.customer_id = cm.customer_id AND b.block = d.block
  GROUP BY cm.customer_id, d.block, d.day
),
windows AS (
  SELECT a.customer_id, a.ev_day, a.event_type, a.n_events,
         AVG(CASE WHEN c.day < a.ev_day THEN c.kwh END)  AS before_mean,
         AVG(CASE WHEN c.day > a.ev_day THEN c.kwh END)  AS after_mean,
         SUM(CASE WHEN c.day < a.ev_day THEN 1 ELSE 0 END) AS before_n,
         SUM(CASE WHEN c.day > a.ev_day THEN 1 ELSE 0 END) AS after_n
  FROM anchors a
  JOIN anchor_blocks ab ON ab.customer_id = a.customer_id AND ab.ev_day = a.ev_day
  JOIN cust_daily c ON c.customer_id = ab.customer_id AND c.block = ab.block
  WHERE (c.day < a.ev_day AND date_diff('day', c.day, a.ev_day) <= CAST($before_days AS INTEGER))
     OR (c.day > a.ev_day AND date_diff('day', a.ev_day, c.day) <= CAST($after_days AS INTEGER))
  GROUP BY a.customer_id, a.ev_day, a.event_type, a.n_events
),
dropped AS (
  SELECT w.*, 1 - w.after_mean / w.before_mean AS drop_share
  FROM windows w
  WHERE w.before_n >= CAST($min_days AS INTEGER)
    AND w.after_n >= CAST($min_days AS INTEGER)
    AND w.before_mean >= CAST($min_baseline_kwh AS DOUBLE)
    AND w.after_mean <= (1 - CAST($drop_pct AS DOUBLE)) * w.before_mean
),
vacancy AS (
  SELECT k.customer_id, k.ev_day,
         AVG(CASE WHEN c.kwh < CAST($vacancy_low_share AS DOUBLE) * k.before_mean THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END) AS low_share
  FROM dropped k
  JOIN anchor_blocks ab ON ab.customer_id = k.customer_id AND ab.ev_day = k.ev_day
  JOIN cust_daily c ON c.customer_id = ab.customer_id AND c.block = ab.block
  WHERE c.day > k.ev_day AND date_diff('day', k.ev_day, c.day) <= CAST($after_days AS INTEGER)
  GROUP BY k.customer_id, k.ev_day
),
hits AS (
  SELECT k.*, v.low_share,
         ROW_NUMBER() OVER (PARTITION BY k.customer_id, strftime(k.ev_day, '%Y-%m')
                            ORDER BY k.drop_share DESC, k.ev_day) AS rn
  FROM dropped k
  JOIN vacancy v ON v.customer_id = k.customer_id AND v.ev_day = k.ev_day
  WHERE v.low_share <= CAST($max_vacancy_days AS DOUBLE)
)
SELECT
  customer_id                                          AS entity_id,
  strftime(ev_day, '%Y-%m')                            AS period,
  drop_share                                           AS score,
  (before_mean - after_mean) * after_n                 AS kwh_at_stake,
  ev_day                                               AS ev_event_day,
  event_type                                           AS ev_event_type,
  n_events                                             AS ev_events_that_day,
  before_mean                                          AS ev_daily_mean_before,
  after_mean                                           AS ev_daily_mean_after,
  before_n                                             AS ev_days_before,
  after_n                                              AS ev_days_after,
  low_share                                            AS ev_near_zero_day_share
FROM hits
WHERE rn = 1
  AND ($period IS NULL OR strftime(ev_day, '%Y-%m') = $period)
