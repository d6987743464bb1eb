/*---
id: contract_capacity_overuse_interval
title: {zh: 负荷曲线最大需量超过合同容量（私自增容）, en: Load-curve demand above contract capacity (capacity overuse)}
family: contract
severity: high
entity_type: customer
tables: [customers, meters, interval_usage, daily_usage]
lookback: all  # growth is measured against the customer's first month of data
derived: [interval_meter_month, customer_month_usage]
params:
  k: {type: float, default: 1.2, doc: {zh: "需量超过合同容量的倍数（DOMAIN §3 K≈1.2）", en: "Multiple of the contract capacity the demand must exceed (DOMAIN §3 K ≈ 1.2)"}}
  power_factor: {type: float, default: 1.0, doc: {zh: "由有功功率折算视在功率的功率因数（kVA = kW ÷ 功率因数）；1.0最保守", en: "Power factor to turn kW into kVA (kVA = kW ÷ power factor); 1.0 is the most cautious"}}
  min_growth: {type: float, default: 1.2, doc: {zh: "当月日均电量须达到该用户首月日均电量的倍数（私自增容是加了设备，用电随之上升；仅在当月有日电量时判断；0 为不要求）", en: "This month's mean daily energy must reach this multiple of the customer's first month's (unapproved extra capacity means added equipment, so use rises; judged only where the month has daily data; 0 = not required)"}}
  min_intervals: {type: int, default: 3, doc: {zh: 当月超容的曲线点数下限（排除单点冲击）, en: Minimum load-curve points over capacity in the month (ignores single spikes)}}
description:
  zh: "由负荷曲线计算用户需量：每个曲线点电量 × 60 ÷ 该表曲线间隔（分钟，取相邻点最小间隔）得到 kW，多表按时刻相加，再除以功率因数得到 kVA；当月超过 k × 合同容量的点数达到下限，且当月日均电量达到首月的 min_growth 倍（负荷增长）：实际负荷超过合同容量，疑似私自增容。每户每月一条，评分为最大需量与合同容量之比。"
  en: "Demand from the load curve: each point's kWh × 60 ÷ the meter's interval in minutes (its smallest gap between points) gives kW, summed over the customer's meters per timestamp and divided by the power factor for kVA; at least min_intervals points of the month exceed k × the contract capacity, and the month's mean daily energy is at least min_growth × the customer's first month's (the load grew): the load is above contract, suggesting unapproved extra capacity (私自增容). One finding per customer and month; the score is max demand over contract capacity."
basis: "DOMAIN §3 实测最大需量超过合同容量 → 私自增容; 《供电营业规则》第一百条第二项"
truth_kinds: [contract_capacity_overuse]
---*/
WITH cm AS (
  SELECT c.customer_id, c.contract_kva, m.meter_id, m.multiplier
  FROM customers c
  JOIN meters m ON m.customer_id = c.customer_id AND m.role = 'customer'
  WHERE c.contract_kva > 0
),
step AS (
  SELECT meter_id, MIN(step_minutes) AS minutes FROM interval_meter_month WHERE step_minutes > 0 GROUP BY meter_id
),
maybe AS (
  -- a customer-month can exceed k x capacity only if the sum of its meters' monthly peaks does
  SELECT cm.customer_id
  FROM interval_meter_month mm
  JOIN cm ON cm.meter_id = mm.meter_id
  JOIN step s ON s.meter_id = mm.meter_id
  GROUP BY cm.customer_id, cm.contract_kva, mm.month
  HAVING SUM(mm.max_kwh * cm.multiplier * 60.0 / s.minutes) / CAST($power_factor AS DOUBLE)
         > CAST($k AS DOUBLE) * cm.contract_kva
),
pts AS (
  SELECT cm.customer_id, cm.contract_kva, i.meter_id, i.ts, i.kwh * cm.multiplier AS kwh
  FROM interval_usage i
  JOIN cm ON cm.meter_id = i.meter_id
  WHERE cm.customer_id IN (SELECT customer_id FROM maybe) OR CAST($min_intervals AS INTEGER) <= 0
),
demand AS (
  SELECT p.customer_id, p.contract_kva, p.ts,
         SUM(p.kwh * 60.0 / s.minutes) / CAST($power_factor AS DOUBLE) AS kva
  FROM pts p
  JOIN step s ON s.meter_id = p.meter_id
  WHERE ($period IS NULL OR strftime(p.ts, '%Y-%m') = $period)
  GROUP BY p.customer_id, p.contract_kva, p.ts
),
monthly AS (
  SELECT customer_id, contract_kva, strftime(ts, '%Y-%m') AS period,
         MAX(kva) AS max_kva,
         SUM(CASE WHEN kva > CAST($k AS DOUBLE) * contract_kva THEN 1 ELSE 0 END) AS over_points,
         MIN(CASE WHEN kva > CAST($k AS DOUBLE) * contract_kva THEN ts END) AS first_over_at
  FROM demand
  GROUP BY customer_id, contract_kva, strftime(ts, '%Y-%m')
),
cust_month AS (
  -- each month's mean daily energy (customer_month_usage) of the customers judged here only (no other
  -- customer's growth is read); every month of theirs is kept, the first one being the reference
  SELECT customer_id, month, mean_kwh AS daily_kwh
  FROM customer_month_usage
  WHERE customer_id IN (SELECT customer_id FROM monthly)
),
grown AS (
  -- the load rose: this month's mean daily energy against the customer's first month with AMI data
  SELECT g.customer_id, strftime(g.month, '%Y-%m') AS period, g.daily_kwh / f.daily_kwh AS growth
  FROM cust_month g
  JOIN (
    SELECT customer_id, daily_kwh, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY month) AS rk
    FROM cust_month
  ) f ON f.customer_id = g.customer_id AND f.rk = 1 AND f.daily_kwh > 0
)
SELECT
  customer_id                        AS entity_id,
  period                             AS period,
  max_kva / contract_kva             AS score,
  contract_kva                       AS ev_contract_kva,
  max_kva                            AS ev_max_demand_kva,
  over_points                        AS ev_points_over,
  first_over_at                      AS ev_first_over_at
FROM monthly
WHERE over_points >= CAST($min_intervals AS INTEGER)
  AND (CAST($min_growth AS DOUBLE) <= 0 OR NOT EXISTS (  -- growth is judged where the month has daily data
    SELECT 1 FROM grown g WHERE g.customer_id = monthly.customer_id AND g.period = monthly.period
      AND g.growth < CAST($min_growth AS DOUBLE)
  ))
