/*---
id: collection_payment_unposted
title: {zh: 已收费未销账, en: Payment collected but never posted}
family: collection
severity: high
entity_type: customer
tables: [payments]
lookback: {months: 0}
params:
  grace_days: {type: float, default: 3.0, doc: {zh: 数据截止日前允许未销账的天数, en: Days before the data's last payment a payment may still be unposted}}
description:
  zh: 缴费记录没有销账时间，且缴费时间早于数据中最晚缴费时间若干天以上，说明款项已收而未入账（截留电费）。
  en: A payment with no posting time, collected more than the grace days before the latest payment in the data — money taken in and never posted.
basis: "DOMAIN §3 收费未解款"
truth_kinds: [staff_unposted_payment]
---*/
WITH latest AS (
  SELECT max(paid_at) AS last_paid FROM payments
)
SELECT
  p.customer_id AS entity_id,
  strftime(p.paid_at, '%Y-%m') AS period,
  sum(p.amount_yuan) AS score,
  sum(p.amount_yuan) AS yuan_at_stake,
  max(p.collector_id) AS responsible_staff_id,
  min(p.payment_id) AS ev_payment_id,
  count(*) AS ev_payments,
  max(l.last_paid) AS ev_data_until
FROM payments p
CROSS JOIN latest l
WHERE p.posted_at IS NULL
  AND (epoch(l.last_paid) - epoch(p.paid_at)) / 86400.0 > $grace_days
  AND ($period IS NULL OR strftime(p.paid_at, '%Y-%m') = $period)
GROUP BY p.customer_id, strftime(p.paid_at, '%Y-%m')
