/*---
id: billing_sudden_change_peers
title: {zh: 电量突变（与同类用户比）, en: Sudden change against peers}
family: billing
severity: medium
entity_type: customer
tables: [bills, customers]
lookback: {months: 2}  # the previous bill (a LAG); a customer unbilled for two months in a row loses the comparison
params:
  z_score: {type: float, default: 3.0, doc: {zh: 与同类用户变化率相比的标准分阈值, en: z-score threshold against the peers' change ratios}}
  min_peers: {type: int, default: 10, doc: {zh: 同类用户最少户数, en: Fewest peers for a comparison}}
  min_kwh: {type: float, default: 50.0, doc: {zh: 忽略前期电量低于此值的用户, en: Ignore customers whose previous use is below this}}
description:
  zh: 以同一台区（无台区时同一单位）、同一用电类别的用户为同类，比较本期电量与上期电量的比值；偏离同类比值均值超过若干个标准差的用户，变化不能用季节或天气解释，需复核。
  en: Peers are customers of the same area (else the same unit) and category; a customer whose ratio of this cycle's kWh to the previous cycle's departs from the peers' mean ratio by more than z standard deviations changed in a way season or weather does not explain.
basis: "DOMAIN §3 电量突变（同类比较）"
truth_kinds: []
---*/
WITH monthly AS (
  SELECT customer_id, period, sum(kwh) AS kwh FROM bills GROUP BY customer_id, period
),
change AS (
  SELECT
    m.customer_id, m.period, m.kwh,
    lag(m.kwh) OVER (PARTITION BY m.customer_id ORDER BY m.period) AS prev_kwh,
    coalesce(c.area_id, c.unit_id) AS peer_group, c.category
  FROM monthly m
  JOIN customers c ON c.customer_id = m.customer_id
),
ratios AS (
  SELECT *, kwh / prev_kwh AS ratio FROM change WHERE prev_kwh >= $min_kwh
),
peers AS (
  SELECT peer_group, category, period, avg(ratio) AS mean_ratio, stddev_samp(ratio) AS sd_ratio, count(*) AS n
  FROM ratios GROUP BY peer_group, category, period
)
SELECT
  r.customer_id AS entity_id,
  r.period AS period,
  abs(r.ratio - p.mean_ratio) / p.sd_ratio AS score,
  abs(r.kwh - r.prev_kwh * p.mean_ratio) AS kwh_at_stake,  -- the size of the gap to the peers, rise or drop
  r.kwh AS ev_kwh,
  r.prev_kwh AS ev_prev_kwh,
  r.ratio AS ev_ratio,
  p.mean_ratio AS ev_peer_mean_ratio,
  p.sd_ratio AS ev_peer_sd_ratio,
  p.n AS ev_peers
FROM ratios r
JOIN peers p ON p.peer_group = r.peer_group AND p.category = r.category AND p.period = r.period
WHERE p.n >= $min_peers
  AND p.sd_ratio > 0
  AND abs(r.ratio - p.mean_ratio) > $z_score * p.sd_ratio
  AND ($period IS NULL OR r.period = $period)
