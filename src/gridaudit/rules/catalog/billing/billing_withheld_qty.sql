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
description:
  zh: 账单结算电量小于（本期示数−上期示数）×倍率＋已批准退补电量，差额超出容差，属截留电量（常与用户串通）。
  en: Billed kWh fall short of (current − previous reading) × multiplier + approved adjustment beyond the tolerance — withheld quantity (often in collusion with the customer).
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
    met.metered_kwh + CASE WHEN b.adjustment_order_id IS NOT NULL THEN coalesce(b.adjustment_kwh, 0) ELSE 0 END
      AS expected_kwh
  FROM bills b
  JOIN metered met ON met.customer_id = b.customer_id AND met.period = b.period
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
WHERE x.expected_kwh - b.kwh > greatest($tolerance_kwh, $tolerance_pct * abs(x.expected_kwh))
  AND ($period IS NULL OR b.period = $period)
