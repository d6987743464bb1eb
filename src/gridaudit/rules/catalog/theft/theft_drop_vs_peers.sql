/*---
id: theft_drop_vs_peers
title: {zh: 用电量变化明显低于同台区同类用户, en: Drop in use against peers in the same area and category}
family: theft
severity: high
entity_type: customer
tables: [customers, meters, daily_usage]
lookback: all  # each customer is reported once, at the first month that qualifies: needs the whole history
derived: [customer_month_usage]  # each customer's monthly daily mean, shared by both drop rules
params:
  drop_vs_peers: {type: float, default: 0.4, doc: {zh: 用户变化比比同类中位数至少低的比例, en: How far below the peers' median change ratio the customer's must be (0.4 = 40% lower)}}
  min_own_drop: {type: float, default: 0.25, doc: {zh: 用户自身至少下降的比例, en: Minimum fall of the customer's own use}}
  baseline_months: {type: int, default: 3, doc: {zh: "基准期月数（紧挨最近两个月之前）", en: "Months in the baseline, just before the two recent months"}}
  min_baseline_kwh: {type: float, default: 2.0, doc: {zh: 基准期日均电量下限, en: Minimum baseline daily mean}}
  min_peers: {type: int, default: 5, doc: {zh: 同台区同类别可比用户数下限, en: Minimum comparable customers in the same area and category}}
  vacancy_low_share: {type: float, default: 0.1, doc: {zh: 日电量低于基准日均的该比例视为近乎零（空置迹象）, en: A day below this share of the baseline daily mean counts as near zero (a vacancy sign)}}
  max_vacancy_days: {type: float, default: 0.3, doc: {zh: 最近两个月近乎零的天数占比超过该值视为空置或搬迁、不判, en: "When more than this share of the two recent months' days are near zero, it looks like a vacancy or move and is not flagged"}}
  min_days: {type: int, default: 10, doc: {zh: 每个月有数据的天数下限, en: Minimum days with data in each month used}}
description:
  zh: "变化比 = 最近两个月中较高一个月的日均电量 ÷ 之前基准期日均电量。用户的变化比比同台区、同用电类别用户变化比的中位数低至少给定比例，且用户自身也明显下降：排除了季节、气温、节假日等共同因素后的异常下降，窃电嫌疑比单看自身历史更可信。最近两个月近乎零的天数占比高（空置、搬迁的迹象）的不判。每户只报第一次满足条件的月份。"
  en: "Change ratio = the higher of the two recent months' daily means ÷ the baseline daily mean. The customer's ratio is below the median ratio of customers of the same category in the same area by at least the given share, and its own use clearly fell: a drop that season, weather and holidays shared by the peers do not explain, a more credible theft sign than own history alone. Months where many recent days are near zero (signs of a vacancy or move) are left out. Each customer is reported once, at the first month that qualifies."
basis: "DOMAIN §3 突变 against peers; DOMAIN §6 (data-driven targeting); 《供电营业规则》第一百零一条"
truth_kinds: [theft_bypass, theft_ct_short, theft_cover_open, theft_reverse, theft_stopped_meter]
---*/
WITH cust_month AS (
  SELECT customer_id, period, month_idx, mean_kwh, n_days FROM customer_month_usage
  WHERE n_days >= CAST($min_days AS INTEGER)
),
indexed AS (
  SELECT customer_id, period, mean_kwh, n_days, month_idx FROM cust_month
),
series AS (
  SELECT i.customer_id, i.period, i.month_idx, i.mean_kwh,
         LAG(i.mean_kwh, 1) OVER (PARTITION BY i.customer_id ORDER BY i.month_idx) AS prev_kwh,
         LAG(i.month_idx, 1) OVER (PARTITION BY i.customer_id ORDER BY i.month_idx) AS prev_idx,
         -- the baseline (the baseline_months before the month before) by a RANGE frame over the integer month in
         -- the same sort as the LAGs (a join on the customer alone paired each month with every other month of it)
         AVG(i.mean_kwh) OVER (PARTITION BY i.customer_id ORDER BY i.month_idx
           RANGE BETWEEN CAST($baseline_months AS INTEGER) + 1 PRECEDING AND 2 PRECEDING) AS w_base_kwh,
         COUNT(*) OVER (PARTITION BY i.customer_id ORDER BY i.month_idx
           RANGE BETWEEN CAST($baseline_months AS INTEGER) + 1 PRECEDING AND 2 PRECEDING) AS w_base_months
  FROM indexed i
),
baseline AS (
  -- the baseline rides on the month's own row of series (one row per customer and month): no join back to it
  -- (at 1 M a hash join of the 11.6 M customer-months with themselves)
  SELECT customer_id, period, month_idx, mean_kwh, prev_kwh, prev_idx,
         w_base_kwh AS base_kwh, w_base_months AS base_months
  FROM series WHERE w_base_months > 0
),
ratios AS (
  SELECT b.customer_id, c.area_id, c.category, c.status, b.period, b.month_idx, b.mean_kwh, b.prev_kwh, b.base_kwh,
         GREATEST(b.mean_kwh, b.prev_kwh) / b.base_kwh AS ratio
  FROM baseline b
  JOIN customers c ON c.customer_id = b.customer_id
  WHERE b.prev_idx = b.month_idx - 1
    AND b.base_months = CAST($baseline_months AS INTEGER)
    AND b.base_kwh >= CAST($min_baseline_kwh AS DOUBLE)
    AND c.area_id IS NOT NULL
),
peers AS (
  SELECT area_id, category, period, median(ratio) AS peer_ratio, COUNT(*) AS n_peers
  FROM ratios
  GROUP BY area_id, category, period
),
candidates AS (
  SELECT r.*, p.peer_ratio, p.n_peers
  FROM ratios r
  JOIN peers p ON p.area_id = r.area_id AND p.category = r.category AND p.period = r.period
  WHERE r.status = 'active'
    AND p.n_peers >= CAST($min_peers AS INTEGER)
    AND r.ratio <= (1 - CAST($drop_vs_peers AS DOUBLE)) * p.peer_ratio
    AND r.ratio <= 1 - CAST($min_own_drop AS DOUBLE)
),
vacancy AS (
  SELECT c.customer_id, c.period,
         AVG(CASE WHEN d.kwh * m.multiplier < CAST($vacancy_low_share AS DOUBLE) * c.base_kwh THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END) AS low_share
  FROM candidates c
  JOIN meters m ON m.customer_id = c.customer_id AND m.role = 'customer'
  JOIN (SELECT meter_id, day, kwh FROM daily_usage WHERE meter_id IN (SELECT m2.meter_id FROM meters m2 JOIN candidates c2 ON c2.customer_id = m2.customer_id)) d
    ON d.meter_id = m.meter_id
  WHERE extract(year FROM d.day) * 12 + extract(month FROM d.day) >= c.month_idx - 1
    AND extract(year FROM d.day) * 12 + extract(month FROM d.day) <= c.month_idx
  GROUP BY c.customer_id, c.period
),
hits AS (
  SELECT c.*, v.low_share,
         ROW_NUMBER() OVER (PARTITION BY c.customer_id ORDER BY c.month_idx) AS rn
  FROM candidates c
  JOIN vacancy v ON v.customer_id = c.customer_id AND v.period = c.period
  WHERE v.low_share <= CAST($max_vacancy_days AS DOUBLE)
)
SELECT
  customer_id                                   AS entity_id,
  period                                        AS period,
  1 - ratio / peer_ratio                        AS score,
  area_id                                       AS ev_area_id,
  category                                      AS ev_category,
  base_kwh                                      AS ev_baseline_daily_kwh,
  low_share                                     AS ev_near_zero_day_share,
  prev_kwh                                      AS ev_previous_month_daily_kwh,
  mean_kwh                                      AS ev_month_daily_kwh,
  ratio                                         AS ev_change_ratio,
  peer_ratio                                    AS ev_peer_median_ratio,
  n_peers                                       AS ev_peers
FROM hits
WHERE rn = 1
  AND ($period IS NULL OR period = $period)
