/*---
id: billing_power_over_capacity
title: {zh: 功率×倍率超过合同容量（数据或倍率异常）, en: Power × multiplier beyond K × contract capacity}
family: billing
severity: medium
entity_type: customer
tables: [meters, customers]
derived: [interval_meter_month]
params:
  k_factor: {type: float, default: 1.2, doc: {zh: 容量倍数 K, en: Capacity factor K}}
  power_factor: {type: float, default: 1.0, doc: {zh: 由 kVA 折算 kW 的功率因数, en: Power factor converting kVA capacity to kW}}
description:
  zh: 由负荷曲线计算每月最大功率 = 区间电量 ÷ 区间小时数 × 倍率（区间长度由该表每日最多点数推得：24 点为 1 小时，96 点为 15 分钟）；超过 K 倍合同容量的用户，要么数据或倍率有误，要么私自增容。
  en: The month's peak power from the load curve = interval kWh ÷ interval hours × multiplier (the interval length follows from the meter's most points in a day — 24 → 1 h, 96 → 15 min); above K × contract capacity means bad data, a wrong multiplier, or capacity used beyond the contract.
basis: "DOMAIN §3 抄核收：功率 × 倍率 > K × 合同容量（K ≈ 1.2）"
truth_kinds: [contract_capacity_overuse]
---*/
WITH peak AS (
  SELECT
    m.customer_id,
    strftime(i.month, '%Y-%m') AS period,
    max(i.max_kwh * (CAST(i.points_per_day AS DOUBLE) / 24.0) * m.multiplier) AS peak_kw
  FROM interval_meter_month i
  JOIN meters m ON m.meter_id = i.meter_id
  WHERE m.role = 'customer'
  GROUP BY m.customer_id, strftime(i.month, '%Y-%m')
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
