/*---
id: contract_two_part_demand_over_contract
title: {zh: 两部制用户最大需量超过合同容量, en: Two-part tariff customer with demand above contract capacity}
family: contract
severity: high
entity_type: customer
tables: [customers, meters, interval_usage, tariffs]
lookback: {months: 0}
derived: [interval_meter_month]
params:
  k: {type: float, default: 1.0, doc: {zh: 需量超过合同容量的倍数, en: Multiple of the contract capacity the demand must exceed}}
  power_factor: {type: float, default: 1.0, doc: {zh: "kW 折算 kVA 的功率因数；1.0最保守", en: "Power factor to turn kW into kVA; 1.0 is the most cautious"}}
  penalty_multiple: {type: float, default: 3.0, doc: {zh: 违约使用电费为补交基本电费的倍数（供电营业规则第一百条：两部制私自增容为3倍）, en: "Penalty as a multiple of the basic charge owed (Supply Business Rules art. 100: 3× for unapproved capacity on a two-part tariff)"}}
description:
  zh: "执行两部制电价（电价表 two_part 为真）的用户，当月负荷曲线最大需量（kVA，计算方法同 contract_capacity_overuse_interval）超过 k × 合同容量：按容量计收基本电费时少收了超出部分的基本电费，且属私自增容。涉及金额 = 超出容量 × 基本电价 ×（1 + 违约倍数），一个月。"
  en: "A customer on a two-part tariff (two_part true in the tariff table) had a monthly maximum demand from its load curve (kVA, computed as in contract_capacity_overuse_interval) above k × its contract capacity: with the basic charge billed on capacity, the excess went unbilled, and it is unapproved extra capacity. Yuan at stake = excess kVA × demand price × (1 + penalty multiple), for one month."
basis: "DOMAIN §3 两部制, 私自增容; §5 penalties (two-part: back-pay basic charge plus 3×); 《供电营业规则》第一百条第二项"
truth_kinds: [contract_capacity_overuse]
---*/
WITH two_part AS (
  SELECT tariff_code, MAX(demand_price_yuan_kva) AS demand_price
  FROM tariffs
  WHERE two_part
  GROUP BY tariff_code
),
cm AS (
  SELECT c.customer_id, c.contract_kva, t.demand_price, m.meter_id, m.multiplier
  FROM customers c
  JOIN two_part t ON t.tariff_code = c.tariff_code
  JOIN meters m ON m.customer_id = c.customer_id AND m.role = 'customer'
  WHERE c.contract_kva > 0
),
step AS (
  SELECT meter_id, MIN(step_minutes) AS minutes FROM interval_meter_month WHERE step_minutes > 0 GROUP BY meter_id
),
maybe AS (
  -- a customer-month's demand can exceed k x capacity only if the sum of its meters' monthly peaks does
  SELECT cm.customer_id
  FROM interval_meter_month mm
  JOIN cm ON cm.meter_id = mm.meter_id
  JOIN step s ON s.meter_id = mm.meter_id
  GROUP BY cm.customer_id, cm.contract_kva, mm.month
  HAVING SUM(mm.max_kwh * cm.multiplier * 60.0 / s.minutes) / CAST($power_factor AS DOUBLE)
         > CAST($k AS DOUBLE) * cm.contract_kva
),
pts AS (
  SELECT cm.customer_id, cm.contract_kva, cm.demand_price, i.meter_id, i.ts, i.kwh * cm.multiplier AS kwh
  FROM interval_usage i
  JOIN cm ON cm.meter_id = i.meter_id
  WHERE cm.customer_id IN (SELECT customer_id FROM maybe)
),
demand AS (
  SELECT p.customer_id, p.contract_kva, p.demand_price, p.ts,
         SUM(p.kwh * 60.0 / s.minutes) / CAST($power_factor AS DOUBLE) AS kva
  FROM pts p
  JOIN step s ON s.meter_id = p.meter_id
  WHERE ($period IS NULL OR strftime(p.ts, '%Y-%m') = $period)
  GROUP BY p.customer_id, p.contract_kva, p.demand_price, p.ts
),
monthly AS (
  SELECT customer_id, contract_kva, demand_price, strftime(ts, '%Y-%m') AS period, MAX(kva) AS max_kva
  FROM demand
  GROUP BY customer_id, contract_kva, demand_price, strftime(ts, '%Y-%m')
)
SELECT
  customer_id                                                                    AS entity_id,
  period                                                                         AS period,
  max_kva / contract_kva                                                         AS score,
  (max_kva - contract_kva) * demand_price * (1 + CAST($penalty_multiple AS DOUBLE)) AS yuan_at_stake,
  contract_kva                                                                   AS ev_contract_kva,
  max_kva                                                                        AS ev_max_demand_kva,
  demand_price                                                                   AS ev_demand_price_yuan_kva
FROM monthly
WHERE max_kva > CAST($k AS DOUBLE) * contract_kva
