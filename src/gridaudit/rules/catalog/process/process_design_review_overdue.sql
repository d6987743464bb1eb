/*---
id: process_design_review_overdue
title: {zh: 设计审查超时限, en: Design review past its working-day limit}
family: process
severity: medium
entity_type: work_order
tables: [work_orders, work_order_steps]
lookback: {months: 0}  # reads work orders only (never windowed)
derived: [work_order_step_days]   # the working days each step took, shared with the other step rules
params:
  design_review_days: {type: int, default: 10, doc: {zh: 设计审查时限（工作日）, en: Design review limit (working days)}}
description:
  zh: "环节 design_reviewed 的用时超过时限：从设计审查环节开始时间（无则取方案答复完成时间）到该环节完成所经过的工作日（按国家法定节假日及调休日历计算，起始日不计）。缺少起点的工单不判。周期为环节完成的月份，责任人为该环节处理人。"
  en: "The design_reviewed step took longer than its limit: working days from the design review step's start (or, when missing, the plan reply's finish) to the step's finish (official Chinese calendar with make-up working days; the start day is not counted). Orders with no start time are not judged. Period is the month the step finished; its handler is responsible."
basis: "DOMAIN §3 业扩时限 (SG186 assessment defaults); 国家电网公司业扩报装工作规范"
truth_kinds: [process_overdue_step]
---*/
SELECT
  order_id                                                     AS entity_id,
  strftime(end_day, '%Y-%m')                                   AS period,
  CAST(workdays - CAST($design_review_days AS INTEGER) AS DOUBLE)  AS score,
  handler_id                                                   AS responsible_staff_id,
  step                                                         AS ev_step,
  start_day                                                    AS ev_start_day,
  end_day                                                      AS ev_end_day,
  workdays                                                     AS ev_workdays,
  CAST($design_review_days AS INTEGER)                             AS ev_limit_workdays
FROM work_order_step_days
WHERE step = 'design_reviewed'
  AND workdays > CAST($design_review_days AS INTEGER)
  AND ($period IS NULL OR strftime(end_day, '%Y-%m') = $period)
