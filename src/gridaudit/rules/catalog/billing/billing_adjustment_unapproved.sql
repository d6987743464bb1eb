/*---
id: billing_adjustment_unapproved
title: {zh: 退补电费无审批工单, en: Bill adjustment without an approved order}
family: billing
severity: high
entity_type: bill
tables: [bills, work_orders]
lookback: {months: 0}
params:
  min_kwh: {type: float, default: 0.0, doc: {zh: 忽略的最小退补电量绝对值, en: Adjustments up to this many kWh (absolute) are ignored}}
  min_yuan: {type: float, default: 0.0, doc: {zh: 忽略的最小退补金额绝对值, en: Adjustments up to this many yuan (absolute) are ignored}}
description:
  zh: 账单有退补电量或退补电费，但没有退补工单编号，或工单在业务工单中不存在、或工单处于撤销/未完成状态，属未经审批的退补。
  en: A bill carries an adjustment (kWh or yuan) but no adjustment order, or the order is not in the work orders, or it is cancelled / not completed — an adjustment nobody approved.
basis: "DOMAIN §1 退补须经审批；§3 退补无审批工单"
truth_kinds: [staff_unapproved_adjustment]
---*/
SELECT
  b.bill_id AS entity_id,
  b.period AS period,
  abs(coalesce(b.adjustment_yuan, 0)) + abs(coalesce(b.adjustment_kwh, 0)) AS score,
  abs(b.adjustment_kwh) AS kwh_at_stake,    -- a refund is money at stake too: the size, not the sign
  abs(b.adjustment_yuan) AS yuan_at_stake,
  b.clerk_id AS responsible_staff_id,
  b.customer_id AS ev_customer_id,
  b.adjustment_kwh AS ev_adjustment_kwh,
  b.adjustment_yuan AS ev_adjustment_yuan,
  b.adjustment_order_id AS ev_order_id,
  w.status AS ev_order_status,
  CASE WHEN b.adjustment_order_id IS NULL THEN 'no_order'
       WHEN w.order_id IS NULL THEN 'order_not_found'
       ELSE 'order_not_completed' END AS ev_reason
FROM bills b
LEFT JOIN work_orders w ON w.order_id = b.adjustment_order_id
WHERE (abs(coalesce(b.adjustment_kwh, 0)) > $min_kwh OR abs(coalesce(b.adjustment_yuan, 0)) > $min_yuan)
  AND (b.adjustment_order_id IS NULL OR w.order_id IS NULL
       OR lower(coalesce(w.status, '')) IN ('cancelled', 'canceled', 'rejected', 'open', 'pending', '撤销', '作废', '驳回'))
  AND ($period IS NULL OR b.period = $period)
