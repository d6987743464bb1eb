/*---
id: process_complaint_overdue
title: {zh: 投诉工单办结超时限, en: Complaint order closed past its working-day limit}
family: process
severity: low
entity_type: work_order
tables: [work_orders, work_order_steps]
lookback: {months: 0}  # reads work orders only (never windowed)
params:
  complaint_limit_workdays: {type: int, default: null, doc: {zh: "投诉工单办结时限（工作日）；各单位自定，为空时本规则不启用", en: "Working-day limit to close a complaint order; each utility sets its own, the rule is inactive while empty"}}
description:
  zh: "投诉（如95598）工单从受理到办结（归档环节完成时间，无归档时取最后一个环节完成时间）所用工作日超过时限。时限由各单位设置，没有内置默认值：未设置时不产生任何结果。责任人为最后环节处理人。"
  en: "A complaint order (e.g. from the 95598 hotline) took more working days from acceptance to closing (the archived step, or the last finished step when there is none) than the limit. Each utility sets the limit; there is no built-in default, so the rule returns nothing until it is set. The last step's handler is responsible."
basis: "DOMAIN §3 customer-service orders (utility-specific limits, 95598 service standards)"
truth_kinds: []
---*/
WITH cal AS (
  SELECT day,
         SUM(CASE WHEN is_workday THEN 1 ELSE 0 END) OVER (ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS wd_idx
  FROM workday_calendar
),
steps AS (
  SELECT o.order_id, o.accepted_at, s.step, s.finished_at, s.handler_id,
         ROW_NUMBER() OVER (PARTITION BY o.order_id
                            ORDER BY CASE WHEN s.step = 'archived' THEN 0 ELSE 1 END, s.finished_at DESC, s.step) AS rn
  FROM work_orders o
  JOIN work_order_steps s ON s.order_id = o.order_id
  WHERE o.order_type = 'complaint'
    AND CAST($complaint_limit_workdays AS INTEGER) IS NOT NULL
),
counted AS (
  SELECT st.order_id, st.handler_id, st.step,
         CAST(st.accepted_at AS DATE) AS start_day,
         CAST(st.finished_at AS DATE) AS end_day,
         ce.wd_idx - cs.wd_idx AS workdays
  FROM steps st
  JOIN cal cs ON cs.day = CAST(st.accepted_at AS DATE)
  JOIN cal ce ON ce.day = CAST(st.finished_at AS DATE)
  WHERE st.rn = 1
)
SELECT
  order_id                                                              AS entity_id,
  strftime(end_day, '%Y-%m')                                            AS period,
  CAST(workdays - CAST($complaint_limit_workdays AS INTEGER) AS DOUBLE) AS score,
  handler_id                                                            AS responsible_staff_id,
  step                                                                  AS ev_closing_step,
  start_day                                                             AS ev_accepted_day,
  end_day                                                               AS ev_closed_day,
  workdays                                                              AS ev_workdays,
  CAST($complaint_limit_workdays AS INTEGER)                            AS ev_limit_workdays
FROM counted
WHERE workdays > CAST($complaint_limit_workdays AS INTEGER)
  AND ($period IS NULL OR strftime(end_day, '%Y-%m') = $period)
