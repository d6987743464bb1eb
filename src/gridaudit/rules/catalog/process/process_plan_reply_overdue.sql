/*---
id: process_plan_reply_overdue
title: {zh: 供电方案答复超时限, en: Supply plan reply past its working-day limit}
family: process
severity: medium
entity_type: work_order
tables: [work_orders, work_order_steps]
lookback: {months: 0}  # reads work orders only (never windowed)
derived: [work_order_step_days]   # the working days each step took, shared with the other step rules
params:
  single_supply_days: {type: int, default: 15, doc: {zh: 单电源供电方案答复时限（工作日）, en: Plan reply limit for single-supply orders (working days)}}
  dual_supply_days: {type: int, default: 30, doc: {zh: 双电源供电方案答复时限（工作日）, en: Plan reply limit for dual-supply orders (working days)}}
description:
  zh: "从受理到供电方案答复所用工作日（按国家法定节假日及调休日历计算，受理当日不计）超过时限。未填供电方式的按单电源处理。周期为答复完成的月份，责任人为答复环节处理人。"
  en: "Working days from acceptance to the supply plan reply (official Chinese calendar with make-up working days; the acceptance day itself is not counted) exceed the limit. Orders without a supply type count as single supply. Period is the month of the reply; the reply step's handler is responsible."
basis: "DOMAIN §3 业扩时限 (SG186 assessment defaults); 《供电营业规则》第十八条 供电方案答复期限"
truth_kinds: [process_overdue_step]
---*/
SELECT
  order_id                                    AS entity_id,
  strftime(end_day, '%Y-%m')                  AS period,
  CAST(workdays - limit_days AS DOUBLE)       AS score,
  handler_id                                  AS responsible_staff_id,
  step                                        AS ev_step,
  start_day                                   AS ev_start_day,
  end_day                                     AS ev_end_day,
  workdays                                    AS ev_workdays,
  limit_days                                  AS ev_limit_workdays
FROM (SELECT d.*, CASE WHEN d.supply = 'dual' THEN CAST($dual_supply_days AS INTEGER)
                       ELSE CAST($single_supply_days AS INTEGER) END AS limit_days
      FROM work_order_step_days d WHERE d.step = 'plan_replied') s
WHERE workdays > limit_days
  AND ($period IS NULL OR strftime(end_day, '%Y-%m') = $period)
