/*---
id: process_energized_before_acceptance
title: {zh: 未竣工检验先送电（流程倒序）, en: Energized before completion acceptance (steps out of order)}
family: process
severity: high
entity_type: work_order
tables: [work_order_steps]
params:
  tolerance_minutes: {type: float, default: 0, doc: {zh: 时间容差（分钟），送电早于竣工检验不超过该值不判, en: "Tolerance in minutes: energizing earlier than the acceptance by no more than this is not flagged"}}
description:
  zh: "同一工单的送电环节完成时间早于竣工检验完成时间：未经验收即接电，存在安全和违规接电风险，也可能是补录流程。周期为送电月份，责任人为送电环节处理人。"
  en: "The order's energized step finished before its completion acceptance: the connection was energized before it was accepted (a safety and compliance risk, or a process filled in afterwards). Period is the month energized; the energizing handler is responsible."
basis: "DOMAIN §3 流程倒序; 《供电营业规则》第二十条 竣工检验合格后方可装表接电"
truth_kinds: [process_out_of_order]
---*/
SELECT
  e.order_id                                                        AS entity_id,
  strftime(e.finished_at, '%Y-%m')                                  AS period,
  (epoch(c.finished_at) - epoch(e.finished_at)) / 86400.0           AS score,
  e.handler_id                                                      AS responsible_staff_id,
  e.finished_at                                                     AS ev_energized_at,
  c.finished_at                                                     AS ev_completion_checked_at,
  c.handler_id                                                      AS ev_acceptance_handler_id
FROM work_order_steps e
JOIN work_order_steps c ON c.order_id = e.order_id AND c.step = 'completion_checked'
WHERE e.step = 'energized'
  AND (epoch(c.finished_at) - epoch(e.finished_at)) / 60.0 > CAST($tolerance_minutes AS DOUBLE)
  AND ($period IS NULL OR strftime(e.finished_at, '%Y-%m') = $period)
