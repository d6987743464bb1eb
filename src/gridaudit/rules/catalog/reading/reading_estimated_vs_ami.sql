/*---
id: reading_estimated_vs_ami
title: {zh: 人工抄表示数与采集示数不符（疑似估抄）, en: Manual reading differs from the AMI register (estimated read)}
family: reading
severity: medium
entity_type: meter
tables: [readings, daily_usage]
params:
  tolerance_kwh: {type: float, default: 1.0, doc: {zh: 允许的绝对偏差（示数单位）, en: Allowed absolute difference (register units)}}
  tolerance_pct: {type: float, default: 0.005, doc: {zh: 允许的相对偏差（占采集示数比例）, en: Allowed relative difference (share of the AMI register)}}
description:
  zh: 抄表员现场抄见示数与同日采集系统日冻结示数相差超过容差，说明抄表员可能未到现场而估抄，或抄错。
  en: A reader's manual reading differs from the AMI daily frozen register of the same day beyond the tolerance — the reader probably did not visit and estimated the value, or misread it.
basis: "DOMAIN §3 抄核收：人工抄表示数与采集示数比对"
truth_kinds: [staff_estimated_read]
---*/
SELECT
  r.meter_id AS entity_id,
  r.period AS period,
  abs(r.reading - d.register) AS score,
  r.reader_id AS responsible_staff_id,
  r.reading AS ev_reading,
  d.register AS ev_ami_register,
  r.read_on AS ev_read_on,
  r.read_type AS ev_read_type
FROM readings r
JOIN daily_usage d ON d.meter_id = r.meter_id AND d.day = r.read_on
WHERE r.read_type = 'actual'
  AND d.register IS NOT NULL
  AND abs(r.reading - d.register) > greatest($tolerance_kwh, $tolerance_pct * d.register)
  AND ($period IS NULL OR r.period = $period)
