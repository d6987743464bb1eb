/*---
id: loss_customer_drop_area_loss_rise
title: {zh: 用户电量下降而所在台区线损同步上升, en: Customer's use fell while its area's loss rose}
family: loss
severity: high
entity_type: customer
tables: [customers, meters, daily_usage]
lookback: all  # each customer is reported once, at the first month that qualifies: needs the whole history
derived: [customer_month_usage, area_day_usage]
params:
  drop_pct: {type: float, default: 0.3, doc: {zh: 用户当月日均电量比基准期至少下降的比例, en: Minimum fall of the customer's daily mean against the baseline}}
  min_rise: {type: float, default: 0.02, doc: {zh: 台区线损率比基准期至少上升（百分点，0.02 = 2个百分点）, en: Minimum rise of the area's loss rate against the baseline (0.02 = 2 percentage points)}}
  min_explained: {type: float, default: 0.3, doc: {zh: 用户日均减少电量至少占台区日均线损电量增加的比例, en: Minimum share of the area's added daily loss kWh that the customer's daily shortfall accounts for}}
  baseline_months: {type: int, default: 3, doc: {zh: 基准月数, en: Baseline months}}
  skip_categories: {type: str, default: "agricultural", doc: {zh: "强季节性用电类别不判（逗号分隔；排灌季结束时用电下降与台区线损率上升同时发生）", en: "Strongly seasonal categories are not judged (comma separated; at the end of irrigation their use falls just as the area's loss rate rises)"}}
  vacancy_low_share: {type: float, default: 0.1, doc: {zh: 日电量低于基准日均的该比例视为近乎零（空置迹象）, en: A day below this share of the baseline daily mean counts as near zero (a vacancy sign)}}
  max_vacancy_days: {type: float, default: 0.3, doc: {zh: 当月近乎零的天数占比超过该值视为空置或搬迁、不判, en: "When more than this share of the month's days are near zero, it looks like a vacancy or move and is not flagged"}}
  min_baseline_kwh: {type: float, default: 2.0, doc: {zh: 用户基准期日均电量下限, en: Minimum baseline daily mean of the customer}}
description:
  zh: "按台区逐日计算同期线损（台区总表日电量减去该台区用户日电量之和），按月汇总。某月用户日均电量比之前基准期下降至少给定比例，同时所在台区线损率上升至少给定百分点，且用户减少的电量能解释台区增加线损电量的相当部分：用户少计的电量变成了台区的损耗，窃电嫌疑大。强季节性类别（默认农业排灌）不判；当月多数天近乎零（空置、搬迁迹象）的不判。每户只报第一次出现的月份。台区线损的全面分析见 gridaudit lineloss。"
  en: "Synchronous loss per area and day (the area total meter's daily kWh minus the sum over the area's customers), summed per month. In a month the customer's daily mean fell by at least the given share against the baseline months while its area's loss rate rose by at least the given points, and the customer's shortfall accounts for a good part of the area's added loss kWh: energy the customer's meter stopped counting reappeared as area loss — a strong theft suspicion. Strongly seasonal categories (irrigation by default) are not judged; months where most days are near zero (signs of a vacancy or move) are left out. Each customer is reported once, at the first month it happens. The full line-loss analysis is gridaudit lineloss."
basis: "DOMAIN §3 线损 (a customer whose use falls while its area's loss rises is a theft suspect); 同期线损管理"
truth_kinds: [theft_bypass, theft_intermittent, theft_ct_short, theft_cover_open, theft_reverse, theft_stopped_meter]
---*/
WITH cm AS (
  SELECT m.meter_id, m.multiplier, c.customer_id, c.area_id
  FROM meters m
  JOIN customers c ON c.customer_id = m.customer_id
  WHERE m.role = 'customer' AND c.area_id IS NOT NULL
),
sales_day AS (
  SELECT area_id, day, sales_kwh AS kwh FROM area_day_usage WHERE sales_rows > 0
),
supply_day AS (
  SELECT area_id, day, supply_kwh AS kwh FROM area_day_usage WHERE supply_rows > 0
),
area_month AS (
  SELECT s.area_id, strftime(date_trunc('month', s.day), '%Y-%m') AS period,
         (SUM(s.kwh) - SUM(c.kwh)) / SUM(s.kwh) AS loss_rate,
         (SUM(s.kwh) - SUM(c.kwh)) / COUNT(*) AS loss_per_day
  FROM supply_day s
  JOIN sales_day c ON c.area_id = s.area_id AND c.day = s.day
  GROUP BY s.area_id, strftime(date_trunc('month', s.day), '%Y-%m')
  HAVING SUM(s.kwh) > 0
),
area_indexed AS (
  SELECT area_id, period, loss_rate, loss_per_day,
         CAST(substr(period, 1, 4) AS INTEGER) * 12 + CAST(substr(period, 6, 2) AS INTEGER) AS month_idx
  FROM area_month
),
area_judged AS (
  SELECT a.area_id, a.period, a.month_idx, a.loss_rate, a.loss_per_day,
         AVG(b.loss_rate) AS base_loss_rate, AVG(b.loss_per_day) AS base_loss_per_day, COUNT(*) AS base_months
  FROM area_indexed a
  JOIN area_indexed b ON b.area_id = a.area_id
                     AND b.month_idx < a.month_idx
                     AND b.month_idx >= a.month_idx - CAST($baseline_months AS INTEGER)
  GROUP BY a.area_id, a.period, a.month_idx, a.loss_rate, a.loss_per_day
),
cust_indexed AS (
  -- the customer-month daily means shared with the theft rules (customer_month_usage: the same customer meters,
  -- sum × multiplier over the most days), with the customer's area
  SELECT u.customer_id, c.area_id, u.period, u.mean_kwh, u.month_idx
  FROM customer_month_usage u
  JOIN customers c ON c.customer_id = u.customer_id AND c.area_id IS NOT NULL
),
cust_judged AS (
  SELECT c.customer_id, c.area_id, c.period, c.month_idx, c.mean_kwh,
         AVG(b.mean_kwh) AS base_kwh, COUNT(*) AS base_months
  FROM cust_indexed c
  JOIN cust_indexed b ON b.customer_id = c.customer_id
                     AND b.month_idx < c.month_idx
                     AND b.month_idx >= c.month_idx - CAST($baseline_months AS INTEGER)
  -- only in the area-months whose loss rose (the others' customers are never candidates)
  WHERE EXISTS (
    SELECT 1 FROM area_judged a
    WHERE a.area_id = c.area_id AND a.period = c.period
      AND a.base_months = CAST($baseline_months AS INTEGER)
      AND a.loss_rate - a.base_loss_rate >= CAST($min_rise AS DOUBLE)
      AND a.loss_per_day > a.base_loss_per_day
  )
  GROUP BY c.customer_id, c.area_id, c.period, c.month_idx, c.mean_kwh
),
candidates AS (
  SELECT c.customer_id, c.area_id, c.period, c.month_idx, c.mean_kwh, c.base_kwh,
         a.loss_rate, a.base_loss_rate, a.loss_per_day, a.base_loss_per_day,
         (c.base_kwh - c.mean_kwh) / (a.loss_per_day - a.base_loss_per_day) AS explained
  FROM cust_judged c
  JOIN area_judged a ON a.area_id = c.area_id AND a.period = c.period
  JOIN customers cu ON cu.customer_id = c.customer_id
  WHERE NOT ((',' || replace(CAST($skip_categories AS VARCHAR), ' ', '') || ',') LIKE ('%,' || cu.category || ',%'))
    AND c.base_months = CAST($baseline_months AS INTEGER)
    AND a.base_months = CAST($baseline_months AS INTEGER)
    AND c.base_kwh >= CAST($min_baseline_kwh AS DOUBLE)
    AND c.mean_kwh <= (1 - CAST($drop_pct AS DOUBLE)) * c.base_kwh
    AND a.loss_rate - a.base_loss_rate >= CAST($min_rise AS DOUBLE)
    AND a.loss_per_day > a.base_loss_per_day
    AND (c.base_kwh - c.mean_kwh) >= CAST($min_explained AS DOUBLE) * (a.loss_per_day - a.base_loss_per_day)
),
vacancy AS (
  SELECT k.customer_id, k.period,
         AVG(CASE WHEN d.kwh * cm.multiplier < CAST($vacancy_low_share AS DOUBLE) * k.base_kwh THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END) AS low_share
  FROM candidates k
  JOIN cm ON cm.customer_id = k.customer_id
  JOIN (SELECT meter_id, day, kwh FROM daily_usage WHERE meter_id IN (SELECT cm2.meter_id FROM cm cm2 JOIN candidates k2 ON k2.customer_id = cm2.customer_id)) d
    ON d.meter_id = cm.meter_id
  WHERE extract(year FROM d.day) * 12 + extract(month FROM d.day) = k.month_idx
  GROUP BY k.customer_id, k.period
),
hits AS (
  SELECT k.*, v.low_share,
         ROW_NUMBER() OVER (PARTITION BY k.customer_id ORDER BY k.month_idx) AS rn
  FROM candidates k
  JOIN vacancy v ON v.customer_id = k.customer_id AND v.period = k.period
  WHERE v.low_share <= CAST($max_vacancy_days AS DOUBLE)
)
SELECT
  customer_id                                AS entity_id,
  period                                     AS period,
  explained                                  AS score,
  area_id                                    AS ev_area_id,
  base_kwh                                   AS ev_baseline_daily_kwh,
  mean_kwh                                   AS ev_month_daily_kwh,
  base_loss_rate                             AS ev_area_baseline_loss_rate,
  loss_rate                                  AS ev_area_loss_rate,
  loss_per_day - base_loss_per_day           AS ev_area_added_loss_kwh_per_day,
  explained                                  AS ev_share_explained,
  low_share                                  AS ev_near_zero_day_share
FROM hits
WHERE rn = 1
  AND ($period IS NULL OR period = $period)
