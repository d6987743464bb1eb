/*---
id: process_completion_check_overdue
title: {zh: 竣工检验超时限, en: Completion acceptance past its working-day limit}
family: process
severity: medium
entity_type: work_order
tables: [work_orders, work_order_steps]
lookback: {months: 0}  # reads work orders only (never windowed)
derived: [work_order_step_days]   # the working days each step took, shared with the other step rules
params:
  completion_check_days: {type: int, default: 5, doc: {zh: 竣工检验时限（工作日）, en: Completion acceptance limit (working days)}}
description:
  zh: "环节 completion_checked 的用时超过时限：从竣工检验环节开始（报验）时间（无则取中间检查或设计审查完成时间）到该环节完成所经过的工作日（按国家法定节假日及调休日历计算，起始日不计）。缺少起点的工单不判。周期为环节完成的月份，责任人为该环节处理人。"
  en: "The completion_checked step took longer than its limit: working days from the completion step's start (the customer's request; or, when missing, the mid-check's or design review's finish) to the step's finish (official Chinese calendar with make-up working days; the start day is not counted). Orders with no start time are not judged. Period is the month the step finished; its handler is responsible."
basis: "DOMAIN §3 业扩时限 (SG186 assessment defaults); 国家电网公司业扩报装工作规范"
truth_kinds: [process_overdue_step]
---*/
SELECT
  order_id                                                     AS entity_id,
  strftime(end_day, '%Y-%m')                                   AS period,
  CAST(workdays - CAST($completion_check_days AS INTEGER) AS DOUBLE)  AS score,
  handler_id                                                   AS responsible_staff_id,
  step                                                         AS ev_step,
  start_day                                                    AS ev_start_day,
  end_day                                                      AS ev_end_day,
  workdays                                                     AS ev_workdays,
  CAST($completion_check_days AS INTEGER)                             AS ev_limit_workdays
FROM work_order_step_days
WHERE step = 'completion_checked'
  AND workdays > CAST($completion_check_days AS INTEGER)
  AND ($period IS NULL OR strftime(end_day, '%Y-%m') = $period)
