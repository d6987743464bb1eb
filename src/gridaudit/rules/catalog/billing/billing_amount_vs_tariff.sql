/*---
id: billing_amount_vs_tariff
title: {zh: 电费金额与执行电价不符, en: Bill amount differs from the tariff version in force}
family: billing
severity: high
entity_type: bill
tables: [bills, tariffs, customers]
lookback: {months: 0}
params:
  tolerance_yuan: {type: float, default: 1.0, doc: {zh: 允许的绝对偏差（元）, en: Allowed absolute difference (yuan)}}
  tolerance_pct: {type: float, default: 0.01, doc: {zh: 允许的相对偏差, en: Allowed relative difference}}
description:
  zh: 按账单电价代码在发行日（无发行日时取账期首日）有效的电价版本重算电费：阶梯电价按月度档位逐档计算（一档上限内按电度电价，二档、三档按各档电价）；峰谷分时电价按账单的峰、谷电量与峰、谷电价计算，其余电量（平段）按电度电价；其他电价为结算电量（含退补电量）× 电度电价；两部制再加基本电费 = 合同容量 × 基本电价。与应收金额相差超过容差即为计费差错（如仍按已失效的旧电价计费、阶梯未分档）。
  en: Recompute the bill with the version of its tariff in force on the issue day (else the first day of the period) — tiered tariffs tier by tier on the monthly bounds (up to tier1_kwh at the price, then the tier-2 and tier-3 prices); time-of-use bills with peak and valley quantities at the peak and valley prices, the rest (flat) at the price; otherwise billed kWh (adjustment included) × price; plus for two-part tariffs the demand charge = contract kVA × demand price. A difference beyond the tolerance is a billing error (e.g. a stale price version still used, tiers not applied).
basis: "DOMAIN §3 抄核收：电费 = 电量 × 电价（按执行的电价版本）；居民阶梯电价、峰谷分时电价；两部制基本电费"
truth_kinds: [staff_wrong_tariff]
---*/
WITH b AS (
  SELECT bills.*, coalesce(issued_on, CAST(period || '-01' AS DATE)) AS price_day FROM bills
),
-- the tariff version in force on each (code, price day) that occurs: the latest valid_from among those valid then
-- (tariffs are keyed by code and valid_from). A few thousand keys, looked up by equality below: not a pick per bill,
-- which carried every column of every bill through a row_number.
in_force AS (
  SELECT k.tariff_code, k.price_day, MAX(t.valid_from) AS valid_from
  FROM (SELECT DISTINCT tariff_code, coalesce(issued_on, CAST(period || '-01' AS DATE)) AS price_day FROM bills) k
  JOIN tariffs t ON t.tariff_code = k.tariff_code
    AND t.valid_from <= k.price_day AND (t.valid_to IS NULL OR t.valid_to >= k.price_day)
  GROUP BY k.tariff_code, k.price_day
),
priced AS (
  SELECT
    b.bill_id, b.customer_id, b.period, b.kwh, b.amount_yuan, b.clerk_id, b.tariff_code,
    t.price_yuan_kwh, t.valid_from,
    CASE
      WHEN t.tier1_kwh IS NOT NULL THEN
        least(b.kwh, t.tier1_kwh) * t.price_yuan_kwh
        + greatest(least(b.kwh, coalesce(t.tier2_kwh, b.kwh)) - t.tier1_kwh, 0)
          * coalesce(t.tier2_price_yuan_kwh, t.price_yuan_kwh)
        + CASE WHEN t.tier2_kwh IS NOT NULL THEN greatest(b.kwh - t.tier2_kwh, 0) ELSE 0 END
          * coalesce(t.tier3_price_yuan_kwh, t.tier2_price_yuan_kwh, t.price_yuan_kwh)
      WHEN b.peak_kwh IS NOT NULL OR b.valley_kwh IS NOT NULL THEN
        coalesce(b.peak_kwh, 0) * coalesce(t.peak_price_yuan_kwh, t.price_yuan_kwh)
        + coalesce(b.valley_kwh, 0) * coalesce(t.valley_price_yuan_kwh, t.price_yuan_kwh)
        + (b.kwh - coalesce(b.peak_kwh, 0) - coalesce(b.valley_kwh, 0)) * t.price_yuan_kwh
      ELSE b.kwh * t.price_yuan_kwh
    END
      + CASE WHEN t.two_part THEN coalesce(c.contract_kva, 0) * coalesce(t.demand_price_yuan_kva, 0) ELSE 0 END
      AS expected_yuan
  FROM b
  JOIN in_force f ON f.tariff_code = b.tariff_code AND f.price_day = b.price_day
  JOIN tariffs t ON t.tariff_code = f.tariff_code AND t.valid_from = f.valid_from
  JOIN customers c ON c.customer_id = b.customer_id
)
SELECT
  bill_id AS entity_id,
  period AS period,
  abs(amount_yuan - expected_yuan) AS score,
  abs(amount_yuan - expected_yuan) AS yuan_at_stake,
  clerk_id AS responsible_staff_id,
  customer_id AS ev_customer_id,
  tariff_code AS ev_tariff_code,
  valid_from AS ev_tariff_valid_from,
  price_yuan_kwh AS ev_price_yuan_kwh,
  kwh AS ev_billed_kwh,
  amount_yuan AS ev_amount_yuan,
  expected_yuan AS ev_expected_yuan
FROM priced
WHERE abs(amount_yuan - expected_yuan) > greatest($tolerance_yuan, $tolerance_pct * abs(expected_yuan))
  AND ($period IS NULL OR period = $period)
