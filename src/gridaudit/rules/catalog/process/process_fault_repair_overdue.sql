/*---
id: process_fault_repair_overdue
title: {zh: 故障报修工单处理超时限, en: Fault repair order finished past its hour limit}
family: process
severity: low
entity_type: work_order
tables: [work_orders, work_order_steps]
lookback: {months: 0}  # reads work orders only (never windowed)
params:
  fault_repair_limit_hours: {type: float, default: null, doc: {zh: "故障报修从受理到修复完成的时限（小时）；各单位自定，为空时本规则不启用", en: "Hours allowed from accepting a fault repair to finishing it; each utility sets its own, the rule is inactive while empty"}}
description:
  zh: "故障报修（如95598）工单从受理到最后一个环节完成所用小时数超过时限（报修按自然时间计，不扣节假日）。时限由各单位设置，没有内置默认值：未设置时不产生任何结果。责任人为最后环节处理人。"
  en: "A fault repair order (e.g. from the 95598 hotline) took more clock hours from acceptance to its last finished step than the limit (repairs run on clock time, holidays included). Each utility sets the limit; there is no built-in default, so the rule returns nothing until it is set. The last step's handler is responsible."
basis: "DOMAIN §3 customer-service orders (utility-specific limits, 95598 service standards)"
truth_kinds: []
---*/
WITH steps AS (
  SELECT o.order_id, o.accepted_at, s.step, s.finished_at, s.handler_id,
         ROW_NUMBER() OVER (PARTITION BY o.order_id ORDER BY s.finished_at DESC, s.step) AS rn
  FROM work_orders o
  JOIN work_order_steps s ON s.order_id = o.order_id
  WHERE o.order_type = 'fault_repair'
    AND CAST($fault_repair_limit_hours AS DOUBLE) IS NOT NULL
),
timed AS (
  SELECT order_id, handler_id, step, accepted_at, finished_at,
         (epoch(finished_at) - epoch(accepted_at)) / 3600.0 AS hours
  FROM steps
  WHERE rn = 1
)
SELECT
  order_id                                                      AS entity_id,
  strftime(finished_at, '%Y-%m')                                AS period,
  hours - CAST($fault_repair_limit_hours AS DOUBLE)             AS score,
  handler_id                                                    AS responsible_staff_id,
  step                                                          AS ev_last_step,
  accepted_at                                                   AS ev_accepted_at,
  finished_at                                                   AS ev_finished_at,
  hours                                                         AS ev_hours,
  CAST($fault_repair_limit_hours AS DOUBLE)                     AS ev_limit_hours
FROM timed
WHERE hours > CAST($fault_repair_limit_hours AS DOUBLE)
  AND ($period IS NULL OR strftime(finished_at, '%Y-%m') = $period)
