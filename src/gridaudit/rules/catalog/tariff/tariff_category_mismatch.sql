/*---
id: tariff_category_mismatch
title: {zh: 电价类别与用户用电类别不符, en: Tariff category inconsistent with the customer category}
family: tariff
severity: medium
entity_type: customer
tables: [customers, tariffs]
lookback: {months: 0}  # master data only
params: {}
description:
  zh: 用户档案执行电价代码（当前有效版本）的电价类别与用户用电类别不一致，例如居民用户执行商业电价，或工商业用户执行居民电价。
  en: The category of the customer's tariff (its current version) differs from the customer's category, e.g. a commercial customer on a residential tariff.
basis: "DOMAIN §3 电价与用户类别不一致"
truth_kinds: [contract_tariff_misuse]
---*/
WITH current_tariff AS (
  SELECT tariff_code, category, voltage_kv, two_part,
         row_number() OVER (PARTITION BY tariff_code ORDER BY valid_from DESC) AS rk
  FROM tariffs
)
SELECT
  c.customer_id AS entity_id,
  CAST(NULL AS VARCHAR) AS period,
  1.0 AS score,
  c.category AS ev_customer_category,
  c.tariff_code AS ev_tariff_code,
  t.category AS ev_tariff_category
FROM customers c
JOIN current_tariff t ON t.tariff_code = c.tariff_code AND t.rk = 1
WHERE c.status <> 'closed'
  AND t.category <> c.category
