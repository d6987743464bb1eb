/*---
id: contract_tariff_shop_profile_daily
title: {zh: 居民电价用户呈经营性用电特征（日电量：工作日高于休息日）, en: Residential tariff with a business profile (daily use higher on working days)}
family: contract
severity: medium
entity_type: customer
tables: [customers, meters, tariffs]
lookback: {months: window_months - 1}  # the rolling window of months ending at the period
derived: [meter_month_usage]
params:
  min_ratio: {type: float, default: 1.15, doc: {zh: 工作日日均电量与休息日日均电量之比下限, en: Minimum ratio of the working-day to the rest-day daily mean}}
  min_daily_kwh: {type: float, default: 20.0, doc: {zh: 窗口内日均电量下限（经营性用电量通常远高于普通居民）, en: Minimum daily mean over the window (a business uses far more than a household)}}
  window_months: {type: int, default: 3, doc: {zh: "比较窗口月数（截至当月，含当月）；单月噪声太大", en: "Months in the window ending with the month (a single month is too noisy)"}}
  min_rest_days: {type: int, default: 12, doc: {zh: 窗口内有数据的休息日天数下限, en: Minimum rest days with data in the window}}
description:
  zh: "执行居民电价（电价表或用户档案类别为居民）的用户，截至当月的若干个月（窗口）内工作日日均电量显著高于休息日（按国家法定节假日及调休日历区分），且日均电量高：居民家庭通常周末用电更多，工作日用电高是商铺、办公等经营性用电的特征，疑似高价低接。有负荷曲线时另见 contract_tariff_shop_profile_interval。"
  en: "A customer on a residential tariff (by the tariff table, or the customer's category) used clearly more per working day than per rest day over the months up to the month (the window) (official calendar with make-up working days), at a high daily level: households use more at weekends, while higher working-day use marks a shop or office — a cheap tariff for a business use (高价低接). See contract_tariff_shop_profile_interval where load curves exist."
basis: "DOMAIN §3 负荷特性与电价不符 → 高价低接; 《供电营业规则》第一百条第一项"
truth_kinds: [contract_tariff_misuse]
---*/
WITH tariff_cat AS (
  SELECT tariff_code, MIN(category) AS category FROM tariffs GROUP BY tariff_code
),
res AS (
  SELECT c.customer_id, c.tariff_code, m.meter_id, m.multiplier,
         COUNT(*) OVER (PARTITION BY c.customer_id) AS n_meters
  FROM customers c
  LEFT JOIN tariff_cat t ON t.tariff_code = c.tariff_code
  JOIN meters m ON m.customer_id = c.customer_id AND m.role = 'customer'
  WHERE COALESCE(t.category, c.category) = 'residential'
    AND c.status = 'active'
),
-- one row per customer and month, keyed by the integer month: a customer with one meter (most) has its meter's
-- row (meter_month_usage has one per meter and month, so the sums and maxima over the customer's meters are that
-- row's values); only customers with several meters are grouped (grouping every meter-month was the costliest
-- step). The tariff code (a string) is looked up for the findings alone.
cust_month AS (
  SELECT r.customer_id, mm.month_idx, mm.month,
         mm.work_kwh * r.multiplier AS work_kwh, mm.work_days,
         mm.rest_kwh * r.multiplier AS rest_kwh, mm.rest_days
  FROM meter_month_usage mm
  JOIN res r ON r.meter_id = mm.meter_id
  WHERE r.n_meters = 1
  UNION ALL
  SELECT r.customer_id, mm.month_idx, MIN(mm.month) AS month,
         SUM(mm.work_kwh * r.multiplier) AS work_kwh, MAX(mm.work_days) AS work_days,
         SUM(mm.rest_kwh * r.multiplier) AS rest_kwh, MAX(mm.rest_days) AS rest_days
  FROM meter_month_usage mm
  JOIN res r ON r.meter_id = mm.meter_id
  WHERE r.n_meters > 1
  GROUP BY r.customer_id, mm.month_idx
),
-- The window's mean daily energy, (Σ kWh) / (Σ days) over its months, reaches min_daily_kwh only if one of its
-- months does (Σ of kWh − min_daily_kwh × days ≥ 0 needs one term ≥ 0; the window's SUMs skip NULLs, hence the
-- COALESCE): only those customers' months go through the window frames (most households use far less). The
-- 1e-9 slack keeps a month the window's own float sums would round up to the threshold.
busy AS (
  SELECT DISTINCT customer_id
  FROM cust_month
  WHERE COALESCE(work_kwh, 0) + COALESCE(rest_kwh, 0)
        >= CAST($min_daily_kwh AS DOUBLE) * (COALESCE(work_days, 0) + COALESCE(rest_days, 0))
           - 1e-9 * (ABS(COALESCE(work_kwh, 0)) + ABS(COALESCE(rest_kwh, 0))
                     + ABS(CAST($min_daily_kwh AS DOUBLE) * (COALESCE(work_days, 0) + COALESCE(rest_days, 0))))
),
-- the window's months by a RANGE frame over the integer month (a join on the customer alone paired each month
-- with every other month of the customer before the window's filter)
rolling AS (
  SELECT customer_id, strftime(month, '%Y-%m') AS period,
         SUM(work_kwh) OVER (PARTITION BY customer_id ORDER BY month_idx
           RANGE BETWEEN CAST($window_months AS INTEGER) - 1 PRECEDING AND CURRENT ROW) AS work_kwh,
         SUM(rest_kwh) OVER (PARTITION BY customer_id ORDER BY month_idx
           RANGE BETWEEN CAST($window_months AS INTEGER) - 1 PRECEDING AND CURRENT ROW) AS rest_kwh,
         SUM(work_days) OVER (PARTITION BY customer_id ORDER BY month_idx
           RANGE BETWEEN CAST($window_months AS INTEGER) - 1 PRECEDING AND CURRENT ROW) AS work_days,
         SUM(rest_days) OVER (PARTITION BY customer_id ORDER BY month_idx
           RANGE BETWEEN CAST($window_months AS INTEGER) - 1 PRECEDING AND CURRENT ROW) AS rest_days,
         COUNT(*) OVER (PARTITION BY customer_id ORDER BY month_idx
           RANGE BETWEEN CAST($window_months AS INTEGER) - 1 PRECEDING AND CURRENT ROW) AS n_months
  FROM cust_month
  WHERE customer_id IN (SELECT customer_id FROM busy)
),
monthly AS (
  SELECT customer_id, period,
         (work_kwh + rest_kwh) / (work_days + rest_days) AS mean_kwh,
         work_kwh / work_days AS work_mean,
         rest_kwh / rest_days AS rest_mean,
         rest_days, n_months
  FROM rolling
  WHERE rest_days > 0 AND work_days > 0
)
SELECT
  m.customer_id                                AS entity_id,
  m.period                                     AS period,
  m.work_mean / m.rest_mean                    AS score,
  c.tariff_code                                AS ev_tariff_code,
  m.mean_kwh                                   AS ev_daily_mean_kwh,
  m.work_mean                                  AS ev_working_day_mean_kwh,
  m.rest_mean                                  AS ev_rest_day_mean_kwh,
  m.rest_days                                  AS ev_rest_days,
  m.n_months                                   AS ev_months
FROM monthly m
JOIN customers c ON c.customer_id = m.customer_id  -- the customer's tariff code (res took it from here)
WHERE m.rest_days >= CAST($min_rest_days AS INTEGER)
  AND m.rest_mean > 0
  AND m.mean_kwh >= CAST($min_daily_kwh AS DOUBLE)
  AND m.work_mean >= CAST($min_ratio AS DOUBLE) * m.rest_mean
  AND ($period IS NULL OR m.period = $period)
