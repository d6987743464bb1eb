/*---
id: reading_missed
title: {zh: 漏抄（在运电能表本期无示数）, en: "Missed reading (active meter, no reading in the cycle)"}
family: reading
severity: medium
entity_type: meter
tables: [readings, meters, customers]
lookback: {months: 0}
params: {}
description:
  zh: 在运用户电能表（用户状态正常，整个抄表周期前已装表、未拆表）在某个抄表周期没有任何示数记录，属漏抄。周期取数据中出现过的抄表年月。
  en: An in-service customer meter (customer active, meter installed before the cycle and not removed) has no reading at all in a billing cycle — a missed read. Cycles are the periods that appear in the readings.
basis: "DOMAIN §3 抄核收：漏抄"
truth_kinds: [staff_missed_read]
---*/
WITH periods AS (
  SELECT DISTINCT period, CAST(period || '-01' AS DATE) AS first_day FROM readings
),
active AS (
  SELECT m.meter_id, p.period, c.reader_id
  FROM meters m
  JOIN customers c ON c.customer_id = m.customer_id
  CROSS JOIN periods p
  WHERE m.role = 'customer'
    AND c.status = 'active'
    AND (m.installed_on IS NULL OR m.installed_on < p.first_day)
    AND (c.connected_on IS NULL OR c.connected_on < p.first_day)
    AND (m.removed_on IS NULL OR m.removed_on >= p.first_day + INTERVAL 1 MONTH)
    AND ($period IS NULL OR p.period = $period)
)
SELECT
  a.meter_id AS entity_id,
  a.period AS period,
  1.0 AS score,
  a.reader_id AS responsible_staff_id,
  a.period AS ev_period_without_reading
FROM active a
LEFT JOIN readings r ON r.meter_id = a.meter_id AND r.period = a.period
WHERE r.meter_id IS NULL
