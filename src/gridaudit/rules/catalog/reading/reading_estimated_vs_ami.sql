/*---
id: reading_estimated_vs_ami
title: {zh: 人工抄表示数与采集示数不符（疑似估抄）, en: Manual reading differs from the AMI register (estimated read)}
family: reading
severity: medium
entity_type: meter
tables: [readings, meters]  # readings through reading_seq
lookback: all  # the meter's typical cycle is the median over its whole history
derived: [reading_seq, reading_day_ami]   # readings in sequence; daily_usage rows on read days; each built once per run
params:
  tolerance_kwh: {type: float, default: 1.0, doc: {zh: 允许的绝对偏差（kWh，乘倍率后）, en: Allowed absolute difference (kWh after the multiplier)}}
  tolerance_pct: {type: float, default: 0.005, doc: {zh: 允许的相对偏差（占本期示数差比例）, en: Allowed relative difference (share of the cycle's register difference)}}
  max_use_share: {type: float, default: 1.5, doc: {zh: 偏差超过本期电量（采集）与典型电量较大者的此倍数、且超过 wrong_min_dev 时归为错抄, en: "Deviations above this multiple of the larger of the cycle's AMI use and the typical use (and above wrong_min_dev) count as wrong reads"}}
  wrong_min_dev: {type: float, default: 10.0, doc: {zh: 归为错抄的最小偏差（示数单位）, en: Smallest deviation (register units) counted as a wrong read}}
description:
  zh: 抄表员人工抄见示数与同日采集系统日冻结示数相差超过容差（乘倍率后 1kWh，或本期示数差的 0.5%），说明抄表员未到现场而估抄。偏差大于该表典型月用量的（小数点错位等）以及偏差恰为 9×(a−b)×10^k 的（两位数字颠倒的特征）归错抄规则 reading_wrong_read。
  en: A reader's manual reading differs from the AMI daily frozen register of the same day beyond the tolerance (1 kWh after the multiplier, or 0.5 % of the cycle's register difference) — the reader did not visit and estimated. Deviations larger than the meter's typical cycle use (shifted decimal point) and deviations of exactly 9·(a−b)·10^k (the mark of two swapped digits) are left to reading_wrong_read.
basis: "DOMAIN §3 抄核收：人工抄表示数与采集示数比对"
truth_kinds: [staff_estimated_read]
---*/
WITH checked AS (
  SELECT
    s.meter_id, s.period, s.read_on, s.reading, s.read_type, s.reader_id, s.used,
    d.register, s.typical_used AS median_used,
    d.register - dp.register AS ami_used,
    abs(s.reading - d.register) AS dev,
    CASE WHEN d.register IS NOT NULL
          AND CAST(round(abs(s.reading - d.register) * 100) AS BIGINT) % 9 = 0
          AND regexp_matches(CAST(CAST(round(abs(s.reading - d.register) * 100) / 9 AS BIGINT) AS VARCHAR), '^[1-9]0*$')
         THEN 1 ELSE 0 END AS digit_swap,
    greatest(coalesce(d.register - dp.register, 0), coalesce(s.typical_used, 0)) AS scale
  -- each reading with the previous read day and the meter's typical (median) use, sorted once per run
  FROM reading_seq s
  JOIN reading_day_ami d ON d.meter_id = s.meter_id AND d.day = s.read_on
  LEFT JOIN reading_day_ami dp ON dp.meter_id = s.meter_id AND dp.day = s.prev_read_on
  WHERE d.register IS NOT NULL
)
SELECT
  c.meter_id AS entity_id,
  c.period AS period,
  c.dev * m.multiplier AS score,
  c.dev * m.multiplier AS kwh_at_stake,
  c.reader_id AS responsible_staff_id,
  c.reading AS ev_reading,
  c.register AS ev_ami_register,
  c.read_on AS ev_read_on,
  c.ami_used AS ev_ami_cycle_use
FROM checked c
JOIN meters m ON m.meter_id = c.meter_id
WHERE c.read_type = 'actual'
  AND c.dev * m.multiplier > $tolerance_kwh
  AND c.dev > $tolerance_pct * abs(coalesce(c.ami_used, c.used, 0))
  AND NOT (c.dev > $max_use_share * c.scale AND c.dev > $wrong_min_dev)
  AND c.digit_swap = 0
  AND ($period IS NULL OR c.period = $period)
