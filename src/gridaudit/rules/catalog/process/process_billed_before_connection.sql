/*---
id: process_billed_before_connection
title: {zh: 未签合同或未送电先出账（流程倒序）, en: Billed before the contract was signed or supply energized (steps out of order)}
family: process
severity: medium
entity_type: work_order
tables: [work_orders, work_order_steps, bills]
lookback: all  # the first early bill of the order
params:
  min_kwh: {type: float, default: 0, doc: {zh: 只看计费电量大于该值的账单, en: Only bills with more billed kWh than this count}}
description:
  zh: "新装工单的用户在签订合同或送电所在月份之前的电费年月就有计费电量大于阈值的账单（或账单发行日期早于签合同/送电日期）：先出账后接电，可能是虚拟电量或补录流程。取最早一张这样的账单的电费年月为周期。"
  en: "A new connection's customer has a bill with more than the threshold kWh for a billing month before the month its contract was signed or it was energized (or a bill issued before that date): billed before connected — virtual quantity or a process filled in afterwards. Period is the earliest such bill's month."
basis: "DOMAIN §3 流程倒序 (billed before contract)"
truth_kinds: [process_out_of_order]
---*/
WITH conn AS (
  SELECT o.order_id, o.customer_id,
         MAX(CASE WHEN s.step = 'contract_signed' THEN s.finished_at END) AS contract_at,
         MAX(CASE WHEN s.step = 'energized' THEN s.finished_at END)       AS energized_at
  FROM work_orders o
  JOIN work_order_steps s ON s.order_id = o.order_id
  WHERE o.order_type = 'new_connection' AND o.customer_id IS NOT NULL
  GROUP BY o.order_id, o.customer_id
),
early AS (
  SELECT c.order_id, c.customer_id, c.contract_at, c.energized_at, b.bill_id, b.period, b.kwh, b.issued_on, b.clerk_id,
         ROW_NUMBER() OVER (PARTITION BY c.order_id ORDER BY b.period, b.bill_id) AS rn
  FROM conn c
  JOIN bills b ON b.customer_id = c.customer_id
  WHERE b.kwh > CAST($min_kwh AS DOUBLE)
    AND (b.period < strftime(c.contract_at, '%Y-%m')
         OR b.period < strftime(c.energized_at, '%Y-%m')
         OR CAST(b.issued_on AS TIMESTAMP) < CAST(CAST(c.contract_at AS DATE) AS TIMESTAMP)
         OR CAST(b.issued_on AS TIMESTAMP) < CAST(CAST(c.energized_at AS DATE) AS TIMESTAMP))
)
SELECT
  order_id                          AS entity_id,
  period                            AS period,
  kwh                               AS score,
  kwh                               AS kwh_at_stake,
  clerk_id                          AS responsible_staff_id,
  customer_id                       AS ev_customer_id,
  bill_id                           AS ev_bill_id,
  issued_on                         AS ev_bill_issued_on,
  contract_at                       AS ev_contract_signed_at,
  energized_at                      AS ev_energized_at
FROM early
WHERE rn = 1
  AND ($period IS NULL OR period = $period)
