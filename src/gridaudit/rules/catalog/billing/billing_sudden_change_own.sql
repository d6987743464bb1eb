/*---
id: billing_sudden_change_own
title: {zh: 电量突变（与自身历史比）, en: Sudden change against the customer's own history}
family: billing
severity: medium
entity_type: customer
tables: [bills]
lookback: all  # the historic mean and the cycle count run over every earlier bill
params:
  change_pct: {type: float, default: 0.3, doc: {zh: 与前几期均值相比的变化比例, en: Change against the mean of the previous cycles}}
  mean_factor: {type: float, default: 2.0, doc: {zh: 超过历史均值的倍数, en: Multiple of the historic mean}}
  lookback: {type: int, default: 3, doc: {zh: 比较的前期数, en: Previous cycles compared}}
  min_kwh: {type: float, default: 100.0, doc: {zh: 忽略变化量小于此值的用户, en: Ignore changes smaller than this many kWh}}
description:
  zh: 本期结算电量与前几期（默认 3 期）均值相比变化超过 ±30%，或超过该户历史均值 2 倍，需复抄复核；变化量过小的不报。
  en: Billed kWh this cycle differ from the mean of the previous cycles (default 3) by more than ±30 %, or exceed twice the customer's historic mean — re-read and review; tiny changes are ignored.
basis: "DOMAIN §3 电量突变 ±30% 或 > 2× 历史均值"
truth_kinds: []
---*/
-- Each cycle against the cycles before it from one sort of the customer's cycles (two frames of one window),
-- not a join with every earlier cycle and a group-by of those pairs (12 cycles: 66 pairs per customer).
WITH monthly AS (
  SELECT customer_id, period, sum(kwh) AS kwh
  FROM bills GROUP BY customer_id, period
),
hist AS (
  SELECT
    customer_id, period, kwh,
    avg(kwh) OVER (PARTITION BY customer_id ORDER BY period
                   ROWS BETWEEN CAST($lookback AS INTEGER) PRECEDING AND 1 PRECEDING) AS recent_mean,
    avg(kwh) OVER (PARTITION BY customer_id ORDER BY period
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS hist_mean,
    row_number() OVER (PARTITION BY customer_id ORDER BY period) - 1 AS previous_cycles
  FROM monthly
)
SELECT
  customer_id AS entity_id,
  period AS period,
  abs(kwh - recent_mean) / greatest(recent_mean, 1.0) AS score,
  kwh - recent_mean AS kwh_at_stake,
  kwh AS ev_kwh,
  recent_mean AS ev_recent_mean,
  hist_mean AS ev_historic_mean
FROM hist
WHERE previous_cycles >= 1
  AND previous_cycles >= $lookback
  AND ($period IS NULL OR period = $period)
  AND abs(kwh - recent_mean) >= $min_kwh
  AND (abs(kwh - recent_mean) > $change_pct * recent_mean OR kwh > $mean_factor * hist_mean)
