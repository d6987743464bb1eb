/*---
id: billing_power_over_capacity
title: {zh: 功率×倍率超过合同容量（数据或倍率异常）, en: Power × multiplier beyond K × contract capacity}
family: billing
severity: medium
entity_type: customer
tables: [interval_usage, meters, customers]
params:
  k_factor: {type: float, default: 1.2, doc: {zh: 容量倍数 K, en: Capacity factor K}}
  interval_minutes: {type: float, default: 15.0, doc: {zh: 负荷曲线采集间隔（分钟）, en: Interval length of the load curve (minutes)}}
  power_factor: {type: float, default: 1.0, doc: {zh: 由 kVA 折算 kW 的功率因数, en: Power factor converting kVA capacity to kW}}
description:
  zh: 由负荷曲线计算每月最大功率 = 区间电量 × (60 ÷ 间隔分钟) × 倍率；超过 K 倍合同容量的用户，要么数据或倍率有误，要么私自增容。
  en: The month's peak power from the load curve = interval kWh × (60 ÷ interval minutes) × multiplier; above K × contract capacity means bad data, a wrong multiplier, or capacity used beyond the contract.
basis: "DOMAIN §3 抄核收：功率 × 倍率 > K × 合同容量（K ≈ 1.2）"
truth_kinds: [contract_capacity_overuse, staff_wrong_multiplier]
---*/
WITH peak AS (
  SELECT
    m.customer_id,
    strftime(i.ts, '%Y-%m') AS period,
    max(i.kwh * (60.0 / $interval_minutes) * m.multiplier) AS peak_kw
  FROM interval_usage i
  JOIN meters m ON m.meter_id = i.meter_id
  WHERE m.role = 'customer'
  GROUP BY m.customer_id, strftime(i.ts, '%Y-%m')
)
SELECT
  p.customer_id AS entity_id,
  p.period AS period,
  p.peak_kw / (c.contract_kva * $power_factor) AS score,
  p.peak_kw AS ev_peak_kw,
  c.contract_kva AS ev_contract_kva
FROM peak p
JOIN customers c ON c.customer_id = p.customer_id
WHERE c.contract_kva > 0
  AND p.peak_kw > $k_factor * c.contract_kva * $power_factor
  AND ($period IS NULL OR p.period = $period)
