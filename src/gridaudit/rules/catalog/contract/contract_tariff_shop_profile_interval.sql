/*---
id: contract_tariff_shop_profile_interval
title: {zh: 居民电价用户呈经营性负荷曲线（工作日白天用电占比高）, en: Residential tariff with a business load curve (high working-day daytime share)}
family: contract
severity: medium
entity_type: customer
tables: [customers, meters, interval_usage, tariffs]
lookback: {months: 0}
params:
  day_start_hour: {type: int, default: 9, doc: {zh: 营业时段开始（时）, en: Business hours start (hour)}}
  day_end_hour: {type: int, default: 18, doc: {zh: "营业时段结束（时，不含）", en: "Business hours end (hour, exclusive)"}}
  min_day_share: {type: float, default: 0.55, doc: {zh: 工作日营业时段电量占工作日电量的比例下限, en: Minimum share of working-day energy used in business hours}}
  min_daily_kwh: {type: float, default: 10.0, doc: {zh: 工作日日均电量下限, en: Minimum working-day daily mean}}
  min_days: {type: int, default: 3, doc: {zh: 当月有曲线的工作日天数下限, en: Minimum working days with load curve in the month}}
description:
  zh: "执行居民电价的用户，当月工作日（按法定节假日及调休日历）营业时段（默认9时至18时，按曲线点时刻的小时计）的电量占工作日电量的比例很高，且用电量较大：居民家庭用电集中在早晚，白天占比高是商铺、办公的特征，疑似高价低接。"
  en: "A customer on a residential tariff used a large share of its working-day energy in business hours (9:00-18:00 by default, by the hour of each load-curve point; working days by the official calendar with make-up days), at a substantial level: households use power mornings and evenings, a high daytime share marks a shop or office — a cheap tariff for a business use (高价低接)."
basis: "DOMAIN §3 负荷特性与电价不符 (residential tariff with a shop's weekday 9-to-18 profile) → 高价低接; 《供电营业规则》第一百条第一项"
truth_kinds: [contract_tariff_misuse]
---*/
WITH tariff_cat AS (
  SELECT tariff_code, MIN(category) AS category FROM tariffs GROUP BY tariff_code
),
res AS (
  SELECT c.customer_id, c.tariff_code, m.meter_id, m.multiplier
  FROM customers c
  LEFT JOIN tariff_cat t ON t.tariff_code = c.tariff_code
  JOIN meters m ON m.customer_id = c.customer_id AND m.role = 'customer'
  WHERE COALESCE(t.category, c.category) = 'residential'
    AND c.status = 'active'
),
-- grouped by customer alone (the tariff code, a string key on every curve point's row, is one value per customer
-- and is looked up for the findings at the end)
pts AS (
  SELECT r.customer_id, CAST(i.ts AS DATE) AS day, i.kwh * r.multiplier AS kwh,
         CASE WHEN extract(hour FROM i.ts) >= CAST($day_start_hour AS INTEGER)
                   AND extract(hour FROM i.ts) < CAST($day_end_hour AS INTEGER) THEN i.kwh * r.multiplier ELSE 0 END AS day_kwh
  FROM interval_usage i
  JOIN res r ON r.meter_id = i.meter_id
  WHERE ($period IS NULL OR strftime(i.ts, '%Y-%m') = $period)
),
workdays AS (
  SELECT p.customer_id, p.day, SUM(p.kwh) AS kwh, SUM(p.day_kwh) AS day_kwh
  FROM pts p
  JOIN workday_calendar w ON w.day = p.day AND w.is_workday
  GROUP BY p.customer_id, p.day
),
monthly AS (
  SELECT customer_id, strftime(day, '%Y-%m') AS period,
         SUM(day_kwh) / SUM(kwh) AS day_share, AVG(kwh) AS mean_kwh, COUNT(*) AS n_days
  FROM workdays
  GROUP BY customer_id, strftime(day, '%Y-%m')
  HAVING SUM(kwh) > 0
)
SELECT
  m.customer_id                       AS entity_id,
  m.period                            AS period,
  m.day_share                         AS score,
  c.tariff_code                       AS ev_tariff_code,
  m.day_share                         AS ev_business_hours_share,
  m.mean_kwh                          AS ev_working_day_mean_kwh,
  m.n_days                            AS ev_working_days
FROM monthly m
JOIN customers c ON c.customer_id = m.customer_id  -- the customer's tariff code (res took it from here)
WHERE m.n_days >= CAST($min_days AS INTEGER)
  AND m.mean_kwh >= CAST($min_daily_kwh AS DOUBLE)
  AND m.day_share >= CAST($min_day_share AS DOUBLE)
