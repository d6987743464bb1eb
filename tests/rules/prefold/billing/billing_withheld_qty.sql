/*---
id: billing_withheld_qty
title: {zh: 截留电量（结算电量小于表计电量）, en: Withheld quantity (billed kWh below metered)}
family: billing
severity: high
entity_type: bill
tables: [bills, readings, meters]
params:
  tolerance_kwh: {type: float, default: 1.0, doc: {zh: 允许的绝对偏差（kWh）, en: Allowed absolute difference (kWh)}}
  tolerance_pct: {type: float, default: 0.02, doc: {zh: 允许的相对偏差（占表计电量比例）, en: Allowed relative difference (share of metered kWh)}}
  multiplier_share: {type: float, default: 0.75, doc: {zh: 用户多数账单（此比例以上、至少 3 张）都偏离时视为倍率问题而不报, en: "When at least this share of a customer's bills (3 or more) deviate, it is a multiplier problem (billing_multiplier_mismatch), not reported here"}}
description:
  zh: 账单结算电量小于（本期示数−上期示数）×倍率＋退补电量，差额超出容差，属截留电量（常与用户串通）。退补是否经审批由 billing_adjustment_unapproved 检查。
  en: Billed kWh fall short of (current − previous reading) × multiplier + recorded adjustment beyond the tolerance — withheld quantity (often in collusion with the customer). Whether the adjustment was approved is billing_adjustment_unapproved's job.
basis: "DOMAIN §3 抄核收：结算电量 = (本期示数 − 上期示数) × 倍率 + 退补电量"
truth_kinds: [staff_withheld_qty]
---*/
WITH seq AS (
  SELECT
    r.meter_id, r.period, r.reading,
    lag(r.reading) OVER (PARTITION BY r.meter_id ORDER BY r.read_on, r.period) AS prev_reading
  FROM readings r
),
metered AS (
  SELECT m.customer_id, s.period, sum((s.reading - s.prev_reading) * m.multiplier) AS metered_kwh
  FROM seq s
  JOIN meters m ON m.meter_id = s.meter_id
  WHERE m.role = 'customer' AND s.prev_reading IS NOT NULL AND s.reading >= s.prev_reading
  GROUP BY m.customer_id, s.period
),
x AS (
  SELECT
    b.bill_id, met.metered_kwh,
    met.metered_kwh + coalesce(b.adjustment_kwh, 0) AS expected_kwh
  FROM bills b
  JOIN metered met ON met.customer_id = b.customer_id AND met.period = b.period
),
pattern AS (
  SELECT
    x.bill_id,
    count(*) OVER (PARTITION BY b.customer_id) AS bills,
    sum(CASE WHEN abs(b.kwh - x.expected_kwh) > greatest($tolerance_kwh, $tolerance_pct * abs(x.expected_kwh))
             THEN 1 ELSE 0 END) OVER (PARTITION BY b.customer_id) AS deviating
  FROM x JOIN bills b ON b.bill_id = x.bill_id
)
SELECT
  b.bill_id AS entity_id,
  b.period AS period,
  x.expected_kwh - b.kwh AS score,
  x.expected_kwh - b.kwh AS kwh_at_stake,
  b.clerk_id AS responsible_staff_id,
  b.customer_id AS ev_customer_id,
  b.kwh AS ev_billed_kwh,
  x.metered_kwh AS ev_metered_kwh,
  x.expected_kwh AS ev_expected_kwh,
  b.adjustment_kwh AS ev_adjustment_kwh
FROM bills b
JOIN x ON x.bill_id = b.bill_id
JOIN pattern p ON p.bill_id = b.bill_id
WHERE NOT (p.bills >= 3 AND CAST(p.deviating AS DOUBLE) / p.bills >= $multiplier_share)
  AND x.expected_kwh - b.kwh > greatest($tolerance_kwh, $tolerance_pct * abs(x.expected_kwh))
  AND ($period IS NULL OR b.period = $period)
