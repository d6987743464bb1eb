/*---
id: tariff_bill_code_mismatch
title: {zh: 账单电价与用户执行电价不符, en: Bill priced at a tariff other than the customer's}
family: tariff
severity: high
entity_type: bill
tables: [bills, customers, tariffs]
lookback: {months: 0}
params: {}
description:
  zh: 账单所用电价代码与用户档案执行电价代码不同，且账单电价类别与用户用电类别也不同（排除同类别内的合理电价调整），属电价执行错误。
  en: A bill uses a tariff code other than the customer's, and that tariff's category differs from the customer's category (legitimate changes within a category are left out) — the wrong tariff was applied.
basis: "DOMAIN §1 电价执行错误"
truth_kinds: [staff_wrong_tariff]
---*/
WITH bill_tariff AS (
  SELECT tariff_code, category, row_number() OVER (PARTITION BY tariff_code ORDER BY valid_from DESC) AS rk
  FROM tariffs
)
SELECT
  b.bill_id AS entity_id,
  b.period AS period,
  1.0 AS score,
  b.clerk_id AS responsible_staff_id,
  b.customer_id AS ev_customer_id,
  b.tariff_code AS ev_bill_tariff_code,
  c.tariff_code AS ev_customer_tariff_code,
  c.category AS ev_customer_category,
  t.category AS ev_bill_tariff_category
FROM bills b
JOIN customers c ON c.customer_id = b.customer_id
LEFT JOIN bill_tariff t ON t.tariff_code = b.tariff_code AND t.rk = 1
WHERE b.tariff_code <> c.tariff_code
  AND (t.category IS NULL OR t.category <> c.category)
  AND ($period IS NULL OR b.period = $period)
