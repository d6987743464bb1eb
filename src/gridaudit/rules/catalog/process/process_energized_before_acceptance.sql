/*---
id: process_energized_before_acceptance
title: {zh: 未竣工检验先送电（流程倒序）, en: Energized before completion acceptance (steps out of order)}
family: process
severity: high
entity_type: work_order
tables: [work_order_steps]
lookback: {months: 0}  # reads work orders only (never windowed)
params:
  tolerance_days: {type: int, default: 0, doc: {zh: "容差（天）：按日期比较，早于前一环节不超过该天数的不判；同一天内的先后不判（系统录入时刻不可靠）", en: "Tolerance in days: steps are compared by date, earlier by no more than this is not flagged; order within the same day is not judged (entry times are unreliable)"}}
description:
  zh: "同一工单的送电环节完成日期早于竣工检验完成日期（按日期比较，同一天内不判）：未经验收即接电，存在安全和违规接电风险，也可能是补录流程。周期为送电月份，责任人为送电环节处理人。"
  en: "The order's energized step finished on an earlier date than its completion acceptance (compared by date; the same day is not judged): the connection was energized before it was accepted (a safety and compliance risk, or a process filled in afterwards). Period is the month energized; the energizing handler is responsible."
basis: "DOMAIN §3 流程倒序; 《供电营业规则》第二十条 竣工检验合格后方可装表接电"
truth_kinds: [process_out_of_order]
---*/
SELECT
  e.order_id                                                        AS entity_id,
  strftime(e.finished_at, '%Y-%m')                                  AS period,
  CAST(date_diff('day', CAST(e.finished_at AS DATE), CAST(c.finished_at AS DATE)) AS DOUBLE) AS score,
  e.handler_id                                                      AS responsible_staff_id,
  e.finished_at                                                     AS ev_energized_at,
  c.finished_at                                                     AS ev_completion_checked_at,
  c.handler_id                                                      AS ev_acceptance_handler_id
FROM work_order_steps e
JOIN work_order_steps c ON c.order_id = e.order_id AND c.step = 'completion_checked'
WHERE e.step = 'energized'
  AND date_diff('day', CAST(e.finished_at AS DATE), CAST(c.finished_at AS DATE)) > CAST($tolerance_days AS INTEGER)
  AND ($period IS NULL OR strftime(e.finished_at, '%Y-%m') = $period)
