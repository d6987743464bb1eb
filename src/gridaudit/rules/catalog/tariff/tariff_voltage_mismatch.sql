/*---
id: tariff_voltage_mismatch
title: {zh: 电价电压等级与供电电压不符, en: Tariff voltage level inconsistent with the supply voltage}
family: tariff
severity: medium
entity_type: customer
tables: [customers, tariffs]
lookback: {months: 0}  # master data only
params:
  tolerance_kv: {type: float, default: 0.05, doc: {zh: 电压比较的容差（kV）, en: Tolerance when comparing voltages (kV)}}
description:
  zh: 执行电价规定了电压等级，但与用户档案的供电电压不一致（例如 10kV 用户执行不满 1kV 电价），会导致电价执行错误。
  en: The customer's tariff is defined for a voltage level other than the customer's supply voltage (e.g. a 10 kV customer on a below-1 kV price) — the wrong price is charged.
basis: "DOMAIN §3 电价与电压等级不一致"
truth_kinds: []
---*/
WITH current_tariff AS (
  SELECT tariff_code, voltage_kv,
         row_number() OVER (PARTITION BY tariff_code ORDER BY valid_from DESC) AS rk
  FROM tariffs
)
SELECT
  c.customer_id AS entity_id,
  CAST(NULL AS VARCHAR) AS period,
  abs(c.voltage_kv - t.voltage_kv) AS score,
  c.voltage_kv AS ev_supply_kv,
  c.tariff_code AS ev_tariff_code,
  t.voltage_kv AS ev_tariff_kv
FROM customers c
JOIN current_tariff t ON t.tariff_code = c.tariff_code AND t.rk = 1
WHERE c.status <> 'closed'
  AND t.voltage_kv IS NOT NULL
  AND abs(c.voltage_kv - t.voltage_kv) > $tolerance_kv
