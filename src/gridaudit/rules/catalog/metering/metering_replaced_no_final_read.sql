/*---
id: metering_replaced_no_final_read
title: {zh: 换表未抄录或未结算旧表止度, en: Meter replaced without the old meter's final reading billed}
family: metering
severity: high
entity_type: meter
tables: [meters, readings, bills, work_orders]
lookback: {months: 1}  # the final reading may belong to the previous cycle, and its bill
params:
  window_days: {type: int, default: 7, doc: {zh: 换表判定窗口：新表安装或换表工单受理与旧表拆除相差不超过该天数, en: "Replacement window: a new meter installed, or a meter_replacement order accepted, within this many days of the old meter's removal"}}
  final_read_days: {type: int, default: 1, doc: {zh: 拆表日前该天数内（含当天）的抄表视为旧表止度, en: A reading up to this many days before the removal (or on the day) counts as the old meter's final reading}}
description:
  zh: "用户表被拆除且确属换表（同一用户在拆除前后窗口内装了新表，或有换表工单），但旧表没有拆表止度（拆除当天或之前若干天的抄表示数），或止度所在电费年月该用户没有账单：旧表最后一段电量可能未结算。周期为拆表月份。"
  en: "A customer meter was removed as part of a replacement (the same customer got a new meter within the window, or has a meter_replacement order), but the old meter has no final reading (on or shortly before the removal day), or the customer has no bill for the final reading's billing month: the old meter's last stretch of energy may never be billed. Period is the month of removal."
basis: "DOMAIN §3 换表未结算止度; 《供电营业规则》第七十七条 (计量装置更换与电量退补)"
truth_kinds: [staff_replaced_no_final_read]
---*/
WITH removed AS (
  SELECT m.meter_id, m.customer_id, m.removed_on, m.multiplier
  FROM meters m
  WHERE m.role = 'customer' AND m.removed_on IS NOT NULL AND m.customer_id IS NOT NULL
),
successor AS (
  SELECT r.meter_id, MIN(n.meter_id) AS new_meter_id
  FROM removed r
  JOIN meters n ON n.customer_id = r.customer_id AND n.meter_id <> r.meter_id
  WHERE n.installed_on IS NOT NULL
    AND abs(date_diff('day', r.removed_on, n.installed_on)) <= CAST($window_days AS INTEGER)
  GROUP BY r.meter_id
),
ordered AS (
  SELECT r.meter_id, MIN(o.order_id) AS order_id
  FROM removed r
  JOIN work_orders o ON o.customer_id = r.customer_id AND o.order_type = 'meter_replacement'
  WHERE abs(date_diff('day', CAST(o.accepted_at AS DATE), r.removed_on)) <= CAST($window_days AS INTEGER)
  GROUP BY r.meter_id
),
final_read AS (
  SELECT r.meter_id, MAX(rd.read_on) AS read_on, MAX(rd.period) AS period
  FROM removed r
  JOIN readings rd ON rd.meter_id = r.meter_id
  WHERE rd.read_on <= r.removed_on
    AND date_diff('day', rd.read_on, r.removed_on) <= CAST($final_read_days AS INTEGER)
  GROUP BY r.meter_id
),
billed AS (
  SELECT f.meter_id, COUNT(b.bill_id) AS n_bills
  FROM final_read f
  JOIN removed r ON r.meter_id = f.meter_id
  JOIN bills b ON b.customer_id = r.customer_id AND b.period = f.period
  GROUP BY f.meter_id
)
SELECT
  r.meter_id                                            AS entity_id,
  strftime(r.removed_on, '%Y-%m')                       AS period,
  CASE WHEN f.meter_id IS NULL THEN 2.0 ELSE 1.0 END    AS score,
  r.customer_id                                         AS ev_customer_id,
  r.removed_on                                          AS ev_removed_on,
  s.new_meter_id                                        AS ev_new_meter_id,
  o.order_id                                            AS ev_replacement_order_id,
  f.read_on                                             AS ev_final_read_on,
  f.period                                              AS ev_final_read_period,
  CASE WHEN f.meter_id IS NULL THEN 'no_final_reading' ELSE 'final_reading_not_billed' END AS ev_problem
FROM removed r
LEFT JOIN successor s ON s.meter_id = r.meter_id
LEFT JOIN ordered o ON o.meter_id = r.meter_id
LEFT JOIN final_read f ON f.meter_id = r.meter_id
LEFT JOIN billed b ON b.meter_id = r.meter_id
WHERE (s.meter_id IS NOT NULL OR o.meter_id IS NOT NULL)
  AND (f.meter_id IS NULL OR b.meter_id IS NULL)
  AND ($period IS NULL OR strftime(r.removed_on, '%Y-%m') = $period)
