/*---
id: process_mid_check_overdue
title: {zh: 中间检查超时限, en: Mid-construction check past its working-day limit}
family: process
severity: medium
entity_type: work_order
tables: [work_orders, work_order_steps]
params:
  mid_check_days: {type: int, default: 5, doc: {zh: 中间检查时限（工作日）, en: Mid-construction check limit (working days)}}
description:
  zh: "环节 mid_checked 的用时超过时限：从中间检查环节开始（报验）时间（无则取设计审查完成时间）到该环节完成所经过的工作日（按国家法定节假日及调休日历计算，起始日不计）。缺少起点的工单不判。周期为环节完成的月份，责任人为该环节处理人。"
  en: "The mid_checked step took longer than its limit: working days from the mid-check step's start (the customer's request; or, when missing, the design review's finish) to the step's finish (official Chinese calendar with make-up working days; the start day is not counted). Orders with no start time are not judged. Period is the month the step finished; its handler is responsible."
basis: "DOMAIN §3 业扩时限 (SG186 assessment defaults); 国家电网公司业扩报装工作规范"
truth_kinds: [process_overdue_step]
---*/
WITH cal AS (
  SELECT day,
         SUM(CASE WHEN is_workday THEN 1 ELSE 0 END) OVER (ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS wd_idx
  FROM workday_calendar
),
span AS (
  SELECT cur.order_id,
         cur.handler_id,
         CAST(COALESCE(cur.started_at, prev1.finished_at) AS DATE) AS start_day,
         CAST(cur.finished_at AS DATE) AS end_day
  FROM work_order_steps cur
  JOIN work_orders o ON o.order_id = cur.order_id
  LEFT JOIN work_order_steps prev1 ON prev1.order_id = cur.order_id AND prev1.step = 'design_reviewed'
  WHERE cur.step = 'mid_checked'
),
counted AS (
  SELECT sp.order_id, sp.handler_id, sp.start_day, sp.end_day, ce.wd_idx - cs.wd_idx AS workdays
  FROM span sp
  JOIN cal cs ON cs.day = sp.start_day
  JOIN cal ce ON ce.day = sp.end_day
)
SELECT
  order_id                                                 AS entity_id,
  strftime(end_day, '%Y-%m')                               AS period,
  CAST(workdays - CAST($mid_check_days AS INTEGER) AS DOUBLE)     AS score,
  handler_id                                               AS responsible_staff_id,
  'mid_checked'                                                 AS ev_step,
  start_day                                                AS ev_start_day,
  end_day                                                  AS ev_end_day,
  workdays                                                 AS ev_workdays,
  CAST($mid_check_days AS INTEGER)                                AS ev_limit_workdays
FROM counted
WHERE workdays > CAST($mid_check_days AS INTEGER)
  AND ($period IS NULL OR strftime(end_day, '%Y-%m') = $period)
