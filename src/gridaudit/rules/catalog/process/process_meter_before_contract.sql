/*---
id: process_meter_before_contract
title: {zh: 未签合同先装表（流程倒序）, en: Meter installed before the supply contract was signed (steps out of order)}
family: process
severity: medium
entity_type: work_order
tables: [work_order_steps]
params:
  tolerance_minutes: {type: float, default: 0, doc: {zh: 时间容差（分钟）, en: Tolerance in minutes}}
description:
  zh: "同一工单的装表环节完成时间早于签订供用电合同的完成时间：未签合同即装表，合同关系不清，易形成有电无费或电价执行错误。周期为装表月份，责任人为装表环节处理人。"
  en: "The order's meter_installed step finished before its contract_signed step: a meter went in with no supply contract, which invites unbilled supply or a wrong tariff. Period is the month of the installation; its handler is responsible."
basis: "DOMAIN §3 流程倒序; 《供电营业规则》第九十二条 供用电合同"
truth_kinds: [process_out_of_order]
---*/
SELECT
  m.order_id                                                        AS entity_id,
  strftime(m.finished_at, '%Y-%m')                                  AS period,
  (epoch(k.finished_at) - epoch(m.finished_at)) / 86400.0           AS score,
  m.handler_id                                                      AS responsible_staff_id,
  m.finished_at                                                     AS ev_meter_installed_at,
  k.finished_at                                                     AS ev_contract_signed_at
FROM work_order_steps m
JOIN work_order_steps k ON k.order_id = m.order_id AND k.step = 'contract_signed'
WHERE m.step = 'meter_installed'
  AND (epoch(k.finished_at) - epoch(m.finished_at)) / 60.0 > CAST($tolerance_minutes AS DOUBLE)
  AND ($period IS NULL OR strftime(m.finished_at, '%Y-%m') = $period)
