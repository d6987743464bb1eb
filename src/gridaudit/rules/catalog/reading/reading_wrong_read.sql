/*---
id: reading_wrong_read
title: {zh: 错抄（示数跳变且与采集示数不符）, en: Wrong read (huge jump against history and AMI)}
family: reading
severity: high
entity_type: meter
tables: [readings, daily_usage]
params:
  jump_factor: {type: float, default: 3.0, doc: {zh: 本期电量超过历史中位电量的倍数, en: Cycle use above this multiple of the meter's median use}}
  min_kwh: {type: float, default: 50.0, doc: {zh: 认定跳变的最小电量偏差, en: Smallest deviation from the median counted as a jump}}
  ami_rel_diff: {type: float, default: 0.05, doc: {zh: 与采集示数的相对偏差下限, en: Smallest relative difference from the AMI register}}
description:
  zh: 本期示数差远离该表历史中位电量（超过倍数或为负），且示数与同日采集示数相差明显，说明示数被抄错、录错（数字颠倒、小数点错位）。
  en: The cycle's register difference is far from the meter's median (beyond the factor, or negative) and the reading is well off the AMI register of the same day — a misread or mistyped reading (swapped digits, shifted decimal point).
basis: "DOMAIN §1 错抄；§3 示数与采集比对"
truth_kinds: [staff_wrong_read]
---*/
WITH seq AS (
  SELECT
    meter_id, period, read_on, reading, reader_id, read_type,
    reading - lag(reading) OVER (PARTITION BY meter_id ORDER BY read_on, period) AS used
  FROM readings
),
typical AS (
  SELECT meter_id, median(used) AS median_used FROM seq WHERE used IS NOT NULL GROUP BY meter_id
)
SELECT
  s.meter_id AS entity_id,
  s.period AS period,
  abs(s.reading - d.register) AS score,
  s.reader_id AS responsible_staff_id,
  s.reading AS ev_reading,
  d.register AS ev_ami_register,
  s.used AS ev_used,
  t.median_used AS ev_median_used
FROM seq s
JOIN typical t ON t.meter_id = s.meter_id
JOIN daily_usage d ON d.meter_id = s.meter_id AND d.day = s.read_on
WHERE s.read_type IN ('actual', 'estimated', 'customer')
  AND d.register IS NOT NULL
  AND abs(s.reading - d.register) > $ami_rel_diff * greatest(d.register, 1.0)
  AND abs(s.used - t.median_used) >= $min_kwh
  AND (s.used < 0 OR s.used > $jump_factor * greatest(t.median_used, 1.0))
  AND ($period IS NULL OR s.period = $period)
