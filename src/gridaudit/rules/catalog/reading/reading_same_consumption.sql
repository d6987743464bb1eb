/*---
id: reading_same_consumption
title: {zh: 连续多期电量相同（疑似估抄）, en: Same consumption three or more cycles in a row (estimated reads)}
family: reading
severity: medium
entity_type: meter
tables: [readings, meters, customers]  # readings through reading_seq
lookback: {months: 4}  # three earlier cycles (LAGs of the consumption) and the reading before them
derived: [reading_seq]  # readings in sequence with their use, built once per run
params:
  min_kwh: {type: float, default: 1.0, doc: {zh: 参与判断的最小单期示数差, en: Smallest per-cycle register difference considered}}
description:
  zh: 人工抄表的在运电能表连续三个及以上抄表周期的示数差完全相同，真实用电很少如此，通常是抄表员按固定电量估抄。
  en: A manually read in-service meter shows exactly the same register difference for three or more cycles in a row — real use rarely does that; the reader is usually estimating a fixed amount.
basis: "DOMAIN §3 抄核收：连续三期及以上电量相同"
truth_kinds: [staff_estimated_read]
---*/
SELECT
  x.meter_id AS entity_id,
  x.period AS period,
  x.used AS score,
  x.reader_id AS responsible_staff_id,
  x.used AS ev_used,
  x.used_1 AS ev_used_previous,
  x.used_2 AS ev_used_before
FROM reading_seq x  -- each reading's use and the two cycles' before it, sorted once per run
JOIN meters m ON m.meter_id = x.meter_id
JOIN customers c ON c.customer_id = m.customer_id
WHERE x.read_type IN ('actual', 'estimated')
  AND c.status = 'active'
  AND x.used >= $min_kwh
  AND x.used = x.used_1 AND x.used = x.used_2
  AND ($period IS NULL OR x.period = $period)
