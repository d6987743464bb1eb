/*---
id: collection_payment_late_post
title: {zh: 收费后延迟解款销账, en: Payment posted late}
family: collection
severity: medium
entity_type: customer
tables: [payments]
lookback: {months: 0}
params:
  max_days: {type: float, default: 3.0, doc: {zh: 收费到销账允许的最长天数, en: Longest allowed time from payment to posting (days)}}
description:
  zh: 缴费时间到销账（解款入账）时间超过规定天数，收费员可能挪用或占压电费资金。按缴费月份、用户归集。
  en: A payment posted more than N days after it was collected — the collector may have used or held the money. Grouped per customer and month of payment.
basis: "DOMAIN §3 收费后超过 N 天解款或未解款"
truth_kinds: [staff_unposted_payment]
---*/
SELECT
  customer_id AS entity_id,
  strftime(paid_at, '%Y-%m') AS period,
  max((epoch(posted_at) - epoch(paid_at)) / 86400.0) AS score,
  sum(amount_yuan) AS yuan_at_stake,
  max(collector_id) AS responsible_staff_id,
  min(payment_id) AS ev_payment_id,
  count(*) AS ev_payments,
  max((epoch(posted_at) - epoch(paid_at)) / 86400.0) AS ev_days_to_post
FROM payments
WHERE posted_at IS NOT NULL
  AND (epoch(posted_at) - epoch(paid_at)) / 86400.0 > $max_days
  AND ($period IS NULL OR strftime(paid_at, '%Y-%m') = $period)
GROUP BY customer_id, strftime(paid_at, '%Y-%m')
