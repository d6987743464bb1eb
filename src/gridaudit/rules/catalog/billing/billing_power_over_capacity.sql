/*---
id: billing_power_over_capacity
title: {zh: 功率×倍率超过合同容量（数据或倍率异常）, en: Power × multiplier beyond K × contract capacity}
family: billing
severity: medium
entity_type: customer
tables: [meters, customers, daily_usage]
lookback: all  # growth is measured against the customer's first month of data
derived: [interval_meter_month, customer_month_usage]
params:
  k_factor: {type: float, default: 1.2, doc: {zh: 容量倍数 K, en: Capacity factor K}}
  min_growth: {type: float, default: 1.2, doc: {zh: "当月日均电量须达到该用户首月日均电量的倍数（私自增容是加了设备，用电随之上升；仅在当月有日电量时判断；0 为不要求）", en: "This month's mean daily energy must reach this multiple of the customer's first month's (unapproved extra capacity means added equipment, so use rises; judged only where the month has daily data; 0 = not required)"}}
  power_factor: {type: float, default: 1.0, doc: {zh: 由 kVA 折算 kW 的功率因数, en: Power factor converting kVA capacity to kW}}
description:
  zh: 由负荷曲线计算每月最大功率 = 区间电量 ÷ 区间小时数 × 倍率（区间长度由该表每日最多点数推得：24 点为 1 小时，96 点为 15 分钟）；超过 K 倍合同容量、且当月日均电量达到首月 min_growth 倍（负荷确有增长）的用户，疑似私自增容，或数据、倍率有误。
  en: The month's peak power from the load curve = interval kWh ÷ interval hours × multiplier (the interval length follows from the meter's most points in a day — 24 → 1 h, 96 → 15 min); above K × contract capacity, in a month whose mean daily energy is at least min_growth × the customer's first month's (the load did grow), suggests capacity used beyond the contract, or bad data or a wrong multiplier.
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
),
cust_month AS (
  -- each month's mean daily energy (customer_month_usage) of the customers judged here only (no other
  -- customer's growth is read); every month of theirs is kept, the first one being the reference
  SELECT customer_id, month, mean_kwh AS daily_kwh
  FROM customer_month_usage
  WHERE customer_id IN (SELECT customer_id FROM peak)
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
  AND (CAST($min_growth AS DOUBLE) <= 0 OR NOT EXISTS (  -- growth is judged where the month has daily data
    SELECT 1 FROM grown g WHERE g.customer_id = p.customer_id AND g.period = p.period
      AND g.growth < CAST($min_growth AS DOUBLE)
  ))
