/*---
id: process_meter_before_contract
title: {zh: 未签合同先装表（流程倒序）, en: Meter installed before the supply contract was signed (steps out of order)}
family: process
severity: medium
entity_type: work_order
tables: [work_order_steps]
lookback: {months: 0}  # reads work orders only (never windowed)
params:
  tolerance_days: {type: int, default: 0, doc: {zh: "容差（天）：按日期比较，早于前一环节不超过该天数的不判；同一天内的先后不判（系统录入时刻不可靠）", en: "Tolerance in days: steps are compared by date, earlier by no more than this is not flagged; order within the same day is not judged (entry times are unreliable)"}}
description:
  zh: "同一工单的装表环节完成日期早于签订供用电合同的日期（按日期比较，同一天内不判）：未签合同即装表，合同关系不清，易形成有电无费或电价执行错误。周期为装表月份，责任人为装表环节处理人。"
  en: "The order's meter_installed step finished on an earlier date than its contract_signed step (compared by date; the same day is not judged): a meter went in with no supply contract, which invites unbilled supply or a wrong tariff. Period is the month of the installation; its handler is responsible."
basis: "DOMAIN §3 流程倒序; 《供电营业规则》第九十二条 供用电合同"
truth_kinds: [process_out_of_order]
---*/
SELECT
  m.order_id                                                        AS entity_id,
  strftime(m.finished_at, '%Y-%m')                                  AS period,
  CAST(date_diff('day', CAST(m.finished_at AS DATE), CAST(k.finished_at AS DATE)) AS DOUBLE) AS score,
  m.handler_id                                                      AS responsible_staff_id,
  m.finished_at                                                     AS ev_meter_installed_at,
  k.finished_at                                                     AS ev_contract_signed_at
FROM work_order_steps m
JOIN work_order_steps k ON k.order_id = m.order_id AND k.step = 'contract_signed'
WHERE m.step = 'meter_installed'
  AND date_diff('day', CAST(m.finished_at AS DATE), CAST(k.finished_at AS DATE)) > CAST($tolerance_days AS INTEGER)
  AND ($period IS NULL OR strftime(m.finished_at, '%Y-%m') = $period)
