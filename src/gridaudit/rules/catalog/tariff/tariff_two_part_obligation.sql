/*---
id: tariff_two_part_obligation
title: {zh: 应执行两部制电价而未执行, en: Two-part tariff obligation not met}
family: tariff
severity: high
entity_type: customer
tables: [customers, tariffs]
lookback: {months: 0}  # master data only
params:
  min_kva: {type: float, default: 315.0, doc: {zh: 应执行两部制的合同容量下限（kVA）, en: Contract capacity from which two-part pricing is due (kVA)}}
description:
  zh: 工业及大工业用户合同容量达到 315kVA 及以上，应执行两部制电价（电度电价 + 基本电价）；执行单一制电价则少收基本电费。
  en: Industrial and large-industrial customers with contract capacity of 315 kVA or more must be on a two-part tariff (energy + demand charge); a single-rate tariff loses the demand charge.
basis: "DOMAIN §3 合同容量 ≥ 315kVA 工业用户执行两部制"
truth_kinds: [staff_wrong_tariff]
---*/
WITH current_tariff AS (
  SELECT tariff_code, two_part,
         row_number() OVER (PARTITION BY tariff_code ORDER BY valid_from DESC) AS rk
  FROM tariffs
)
SELECT
  c.customer_id AS entity_id,
  CAST(NULL AS VARCHAR) AS period,
  c.contract_kva AS score,
  c.category AS ev_category,
  c.contract_kva AS ev_contract_kva,
  c.tariff_code AS ev_tariff_code
FROM customers c
JOIN current_tariff t ON t.tariff_code = c.tariff_code AND t.rk = 1
WHERE c.status <> 'closed'
  AND c.category IN ('industrial', 'large_industrial')
  AND c.contract_kva >= $min_kva
  AND NOT coalesce(t.two_part, false)
