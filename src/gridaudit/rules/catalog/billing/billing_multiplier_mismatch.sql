/*---
id: billing_multiplier_mismatch
title: {zh: 倍率不符（结算电量/示数差 ≠ 档案倍率）, en: Multiplier mismatch (billed kWh / register difference ≠ meter multiplier)}
family: billing
severity: high
entity_type: meter
tables: [bills, readings, meters]
params:
  tolerance_pct: {type: float, default: 0.05, doc: {zh: 实际比值与档案倍率的允许相对偏差, en: Allowed relative difference between the billed ratio and the multiplier}}
  min_diff: {type: float, default: 1.0, doc: {zh: 参与计算的最小示数差, en: Smallest register difference used}}
  min_cycles: {type: int, default: 3, doc: {zh: 参与判断的最少周期数, en: Fewest cycles compared}}
  min_share: {type: float, default: 0.75, doc: {zh: 比值偏离倍率的周期所占最低比例, en: Smallest share of cycles whose ratio departs from the multiplier}}
description:
  zh: 单表用户各期（结算电量 − 退补电量）÷ 示数差 即实际使用的倍率；多数周期（默认 ≥75%、至少 3 期）都偏离电能表档案倍率，说明计费倍率与档案不符（CT/PT 变比错误）。个别周期偏离属虚拟/截留电量，不在此列。
  en: For single-meter customers, (billed kWh − adjustment) ÷ register difference is the multiplier actually applied; when most cycles (default ≥ 75 %, at least 3) depart from the meter file's multiplier, billing uses another CT/PT ratio than the file. Single odd cycles are virtual/withheld quantity, not this.
basis: "DOMAIN §2 倍率 = CT 变比 × PT 变比；结算电量 = 示数差 × 倍率"
truth_kinds: [staff_wrong_multiplier]
---*/
WITH seq AS (
  SELECT
    meter_id, period,
    reading - lag(reading) OVER (PARTITION BY meter_id ORDER BY read_on, period) AS diff
  FROM readings
),
per_period AS (
  SELECT meter_id, period, sum(diff) AS diff FROM seq WHERE diff IS NOT NULL GROUP BY meter_id, period
),
single AS (
  SELECT customer_id, min(meter_id) AS meter_id FROM meters WHERE role = 'customer' GROUP BY customer_id HAVING count(*) = 1
),
ratios AS (
  SELECT s.meter_id, b.period, (b.kwh - coalesce(b.adjustment_kwh, 0)) / s.diff AS ratio
  FROM per_period s
  JOIN single g ON g.meter_id = s.meter_id
  JOIN bills b ON b.customer_id = g.customer_id AND b.period = s.period
  WHERE s.diff >= $min_diff
),
per_meter AS (
  SELECT
    r.meter_id, m.multiplier,
    count(*) AS cycles,
    sum(CASE WHEN abs(r.ratio - m.multiplier) > $tolerance_pct * m.multiplier THEN 1 ELSE 0 END) AS off_cycles,
    avg(r.ratio) AS mean_ratio,
    max(r.period) AS last_period
  FROM ratios r
  JOIN meters m ON m.meter_id = r.meter_id
  GROUP BY r.meter_id, m.multiplier
)
SELECT
  meter_id AS entity_id,
  CAST(NULL AS VARCHAR) AS period,
  CAST(off_cycles AS DOUBLE) / cycles AS score,
  multiplier AS ev_file_multiplier,
  mean_ratio AS ev_mean_billed_ratio,
  cycles AS ev_cycles,
  off_cycles AS ev_cycles_off,
  last_period AS ev_last_period
FROM per_meter
WHERE cycles >= $min_cycles
  AND CAST(off_cycles AS DOUBLE) / cycles >= $min_share
  AND ($period IS NULL OR meter_id IN (SELECT meter_id FROM ratios WHERE period = $period))
