/*---
id: billing_multiplier_mismatch
title: {zh: 倍率不符（结算电量/示数差 ≠ 档案倍率）, en: Multiplier mismatch (billed kWh / register difference ≠ meter multiplier)}
family: billing
severity: high
entity_type: meter
tables: [bills, readings, meters]
params:
  tolerance_pct: {type: float, default: 0.05, doc: {zh: 实际比值与档案倍率的允许相对偏差, en: Allowed relative difference between the billed ratio and the multiplier}}
  min_diff: {type: float, default: 5.0, doc: {zh: 参与计算的最小示数差, en: Smallest register difference used}}
  min_cycles: {type: int, default: 2, doc: {zh: 比值一致偏离所需的最少周期数, en: Cycles whose ratio must agree on the deviation}}
description:
  zh: 单表用户各期（结算电量 − 已批准退补）÷ 示数差 得到实际使用的倍率；多个周期的中位比值持续偏离电能表档案倍率，说明档案倍率或计费倍率有误（CT/PT 变比错误）。
  en: For single-meter customers, (billed kWh − approved adjustment) ÷ register difference is the multiplier actually applied; when its median over several cycles departs from the meter file's multiplier, the file or the billing uses a wrong CT/PT ratio.
basis: "DOMAIN §2 倍率 = CT 变比 × PT 变比；结算电量 = 示数差 × 倍率"
truth_kinds: [staff_wrong_multiplier]
---*/
WITH seq AS (
  SELECT
    meter_id, period,
    reading - lag(reading) OVER (PARTITION BY meter_id ORDER BY read_on, period) AS diff
  FROM readings
),
single AS (
  SELECT customer_id, min(meter_id) AS meter_id FROM meters WHERE role = 'customer' GROUP BY customer_id HAVING count(*) = 1
),
ratios AS (
  SELECT
    s.meter_id, b.period,
    (b.kwh - CASE WHEN b.adjustment_order_id IS NOT NULL THEN coalesce(b.adjustment_kwh, 0) ELSE 0 END) / s.diff AS ratio
  FROM seq s
  JOIN single g ON g.meter_id = s.meter_id
  JOIN bills b ON b.customer_id = g.customer_id AND b.period = s.period
  WHERE s.diff >= $min_diff
),
per_meter AS (
  SELECT meter_id, median(ratio) AS median_ratio, count(*) AS cycles, max(period) AS last_period
  FROM ratios GROUP BY meter_id
)
SELECT
  p.meter_id AS entity_id,
  CAST(NULL AS VARCHAR) AS period,
  abs(p.median_ratio - m.multiplier) / m.multiplier AS score,
  m.multiplier AS ev_file_multiplier,
  p.median_ratio AS ev_billed_ratio,
  p.cycles AS ev_cycles,
  p.last_period AS ev_last_period
FROM per_meter p
JOIN meters m ON m.meter_id = p.meter_id
WHERE p.cycles >= $min_cycles
  AND abs(p.median_ratio - m.multiplier) > $tolerance_pct * m.multiplier
  AND ($period IS NULL OR p.meter_id IN (SELECT meter_id FROM ratios WHERE period = $period))
