/*---
id: billing_clerk_adjustments
title: {zh: 核算员退补集中（疑似串通）, en: Clerk concentrating adjustments (collusion pattern)}
family: billing
severity: high
entity_type: staff
tables: [bills]
lookback: {months: 0}
params:
  min_adjustments: {type: int, default: 5, doc: {zh: 最少退补笔数, en: Fewest adjustments to flag a clerk}}
  ratio: {type: float, default: 3.0, doc: {zh: 退补率超过全体平均的倍数, en: Clerk's adjustment rate above this multiple of the overall rate}}
  min_unapproved: {type: int, default: 1, doc: {zh: 其中无工单退补的最少笔数, en: Fewest adjustments without an order among them}}
description:
  zh: 某核算员经手账单中的退补比例超过全体平均的若干倍、笔数足够、且其中有无工单的退补，提示核算员与用户串通或违规退补。期间为空表示全部期间。
  en: A clerk whose share of adjusted bills is several times the overall share, with enough adjustments and some without an order — a collusion pattern. Period is empty (whole range) unless --period is given.
basis: "DOMAIN §3 一名核算员大量退补 → 串通"
truth_kinds: []
---*/
WITH scope AS (
  SELECT * FROM bills WHERE clerk_id IS NOT NULL AND ($period IS NULL OR period = $period)
),
per_clerk AS (
  SELECT
    clerk_id,
    count(*) AS bills,
    sum(CASE WHEN coalesce(adjustment_kwh, 0) <> 0 OR coalesce(adjustment_yuan, 0) <> 0 THEN 1 ELSE 0 END) AS adjustments,
    sum(CASE WHEN (coalesce(adjustment_kwh, 0) <> 0 OR coalesce(adjustment_yuan, 0) <> 0)
              AND adjustment_order_id IS NULL THEN 1 ELSE 0 END) AS unapproved
  FROM scope GROUP BY clerk_id
),
overall AS (
  SELECT CAST(sum(adjustments) AS DOUBLE) / sum(bills) AS rate FROM per_clerk
)
SELECT
  p.clerk_id AS entity_id,
  $period AS period,
  (CAST(p.adjustments AS DOUBLE) / p.bills) / o.rate AS score,
  p.clerk_id AS responsible_staff_id,
  p.bills AS ev_bills,
  p.adjustments AS ev_adjustments,
  p.unapproved AS ev_without_order,
  o.rate AS ev_overall_rate
FROM per_clerk p
CROSS JOIN overall o
WHERE o.rate > 0
  AND p.adjustments >= $min_adjustments
  AND p.unapproved >= $min_unapproved
  AND CAST(p.adjustments AS DOUBLE) / p.bills > $ratio * o.rate
