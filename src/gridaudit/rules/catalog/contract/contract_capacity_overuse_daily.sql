/*---
id: contract_capacity_overuse_daily
title: {zh: 日电量折算负荷超过合同容量（私自增容）, en: Daily energy implies load above contract capacity (capacity overuse)}
family: contract
severity: high
entity_type: customer
tables: [customers, meters, daily_usage]
lookback: all  # a month without overuse before, and growth against the first month of data
derived: [meter_month_usage]
params:
  k: {type: float, default: 1.0, doc: {zh: 折算负荷超过合同容量的倍数, en: Multiple of the contract capacity the implied load must exceed}}
  load_factor: {type: float, default: 1.0, doc: {zh: "假定日负荷率（平均负荷/最大负荷）；1.0最保守：只有全天平均负荷都超过容量才判定", en: "Assumed daily load factor (mean / peak load); 1.0 is the most cautious: only a whole-day mean above capacity is flagged"}}
  min_days: {type: int, default: 2, doc: {zh: 当月超容天数下限, en: Minimum days over capacity in the month}}
  min_growth: {type: float, default: 1.2, doc: {zh: "当月日均电量须达到该用户首月日均电量的倍数（私自增容是加了设备，用电随之上升；0 为不要求）", en: "This month's mean daily energy must reach this multiple of the customer's first month's (unapproved extra capacity means added equipment, so use rises; 0 = not required)"}}
  min_days_before: {type: int, default: 20, doc: {zh: "此前须有一个月（有采集数据的天数不少于该值）没有一天超容：超容始于数据期内，不是一直如此（一直超容多为容量或倍率档案错误，见其他规则）", en: "An earlier month with at least this many AMI days must have had no day over: the overuse began within the data rather than always being there (always over usually means a wrong capacity or multiplier on file, see the other rules)"}}
description:
  zh: "用户（其全部用户表）日电量 ÷ 24 ÷ 假定负荷率得到估算最大负荷（kW），超过 k × 合同容量（kVA）的天数达到下限，且此前有一个整月没有一天超容（超容始于数据期内）、当月日均电量达到首月的 min_growth 倍（负荷增长）：用电负荷长期超过合同容量，疑似私自增容，或合同容量、倍率档案错误。无负荷曲线时用本规则；有曲线时见 contract_capacity_overuse_interval。每户每月一条，评分为最大倍数。"
  en: "The customer's daily energy (all its meters) ÷ 24 ÷ the assumed load factor gives an estimated peak load (kW); it exceeds k × the contract capacity (kVA) on at least min_days days of the month, after an earlier full month with no day over (the overuse began within the data), in a month whose mean daily energy is at least min_growth × the customer's first month's (the load grew): the load runs above contract, suggesting unapproved extra capacity (私自增容) or a wrong capacity or multiplier on file. Use this where there are no load curves; see contract_capacity_overuse_interval otherwise. One finding per customer and month; the score is the largest multiple."
basis: "DOMAIN §3 私自增容; 《供电营业规则》第一百条第二项"
truth_kinds: [contract_capacity_overuse]
---*/
WITH cm0 AS (
  SELECT c.customer_id, c.contract_kva, m.meter_id, m.multiplier,
         COUNT(*) OVER (PARTITION BY c.customer_id) AS n_meters
  FROM customers c
  JOIN meters m ON m.customer_id = c.customer_id AND m.role = 'customer'
  WHERE c.contract_kva > 0
),
maybe AS (
  -- a customer-month can have a day over the limit only if the sum of its meters' largest days is over it; for a
  -- customer with one meter that sum is the meter-month's own row (meter_month_usage has one per meter and
  -- month), so only customers with several meters are grouped (grouping every meter-month was this rule's
  -- costliest step)
  SELECT cm.customer_id
  FROM meter_month_usage mm
  JOIN cm0 cm ON cm.meter_id = mm.meter_id
  WHERE cm.n_meters = 1
    AND mm.max_kwh * cm.multiplier / 24.0 / CAST($load_factor AS DOUBLE) > CAST($k AS DOUBLE) * cm.contract_kva
  UNION ALL
  SELECT cm.customer_id
  FROM meter_month_usage mm
  JOIN cm0 cm ON cm.meter_id = mm.meter_id
  WHERE cm.n_meters > 1
  GROUP BY cm.customer_id, cm.contract_kva, mm.month
  HAVING SUM(mm.max_kwh * cm.multiplier) / 24.0 / CAST($load_factor AS DOUBLE) > CAST($k AS DOUBLE) * cm.contract_kva
),
cm AS (
  SELECT * FROM cm0
  WHERE customer_id IN (SELECT customer_id FROM maybe) OR CAST($min_days AS INTEGER) <= 0
),
daily AS (
  SELECT cm.customer_id, cm.contract_kva, d.day, d.kwh * cm.multiplier AS kwh
  FROM (SELECT meter_id, day, kwh FROM daily_usage WHERE meter_id IN (SELECT meter_id FROM cm)) d
  JOIN cm ON cm.meter_id = d.meter_id
  WHERE cm.n_meters = 1
  UNION ALL
  SELECT cm.customer_id, cm.contract_kva, d.day, SUM(d.kwh * cm.multiplier) AS kwh
  FROM (SELECT meter_id, day, kwh FROM daily_usage WHERE meter_id IN (SELECT meter_id FROM cm)) d
  JOIN cm ON cm.meter_id = d.meter_id
  WHERE cm.n_meters > 1
  GROUP BY cm.customer_id, cm.contract_kva, d.day
),
grown AS (
  -- the load rose: this month's mean daily energy against the customer's first month with AMI data (the first
  -- month's value from a window over the same monthly means, not from a second copy of them joined back)
  SELECT customer_id, month, daily_kwh / first_kwh AS growth
  FROM (
    SELECT customer_id, month, daily_kwh,
           FIRST_VALUE(daily_kwh) OVER (PARTITION BY customer_id ORDER BY month) AS first_kwh
    FROM (
      SELECT customer_id, month, AVG(kwh) AS daily_kwh FROM (
        SELECT customer_id, day, date_trunc('month', day) AS month, SUM(kwh) AS kwh FROM daily GROUP BY customer_id, day
      ) x GROUP BY customer_id, month
    ) g
  ) m
  WHERE first_kwh > 0
),
monthly AS (
  SELECT customer_id, contract_kva, date_trunc('month', day) AS month,
         MAX(kwh) AS max_kwh, COUNT(*) AS n_days,
         SUM(CASE WHEN kwh / 24.0 / CAST($load_factor AS DOUBLE) > CAST($k AS DOUBLE) * contract_kva
                  THEN 1 ELSE 0 END) AS over_days
  FROM daily
  GROUP BY customer_id, contract_kva, date_trunc('month', day)
)
SELECT
  customer_id                                                   AS entity_id,
  strftime(month, '%Y-%m')                                      AS period,
  max_kwh / 24.0 / CAST($load_factor AS DOUBLE) / contract_kva  AS score,
  contract_kva                                                  AS ev_contract_kva,
  max_kwh                                                       AS ev_max_daily_kwh,
  max_kwh / 24.0 / CAST($load_factor AS DOUBLE)                 AS ev_estimated_peak_kw,
  over_days                                                     AS ev_days_over
FROM monthly
WHERE over_days >= CAST($min_days AS INTEGER)
  AND EXISTS (
    SELECT 1 FROM monthly b
    WHERE b.customer_id = monthly.customer_id AND b.month < monthly.month
      AND b.over_days = 0 AND b.n_days >= CAST($min_days_before AS INTEGER)
  )
  AND (CAST($min_growth AS DOUBLE) <= 0 OR EXISTS (
    SELECT 1 FROM grown g WHERE g.customer_id = monthly.customer_id AND g.month = monthly.month
      AND g.growth >= CAST($min_growth AS DOUBLE)
  ))
  AND ($period IS NULL OR strftime(month, '%Y-%m') = $period)
