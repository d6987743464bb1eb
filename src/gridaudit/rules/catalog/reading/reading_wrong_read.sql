/*---
id: reading_wrong_read
title: {zh: 错抄（示数跳变且与采集示数不符）, en: Wrong read (huge jump against history and AMI)}
family: reading
severity: high
entity_type: meter
tables: [readings]  # through reading_seq
lookback: all  # the meter's typical cycle is the median over its whole history
derived: [reading_seq, reading_day_ami]   # readings in sequence; daily_usage rows on read days; each built once per run
params:
  use_factor: {type: float, default: 1.5, doc: {zh: 与采集示数偏差超过本期采集电量与典型电量较大者的倍数即为错抄, en: A deviation from the AMI register above this multiple of the larger of the cycle's AMI use and the typical use is a wrong read}}
  jump_factor: {type: float, default: 3.0, doc: {zh: 无采集示数时，本期电量超过历史中位电量的倍数, en: "Without AMI: cycle use above this multiple of the meter's median use"}}
  min_dev: {type: float, default: 10.0, doc: {zh: 认定错抄的最小偏差（示数单位）, en: Smallest deviation counted as a wrong read (register units)}}
description:
  zh: 示数与同日采集示数的偏差超过本期采集电量与该表典型月用量较大者的 1.5 倍（且不小于最小偏差）（小数点错位的典型特征，估抄偏差通常小于一个月用量），或偏差恰为 9×(a−b)×10^k（两位数字颠倒的特征）；没有同日采集示数时，本期示数差为负或超过历史中位电量的 3 倍、且下期示数差反向跳回（单点尖峰，而不是错读之后的恢复期）亦视为错抄。
  en: The reading departs from the AMI register of the same day by more than 1.5 × the larger of the cycle's AMI use and the meter's typical use (and at least the minimum deviation) (the mark of a shifted decimal point; estimates stay within a cycle's use), or by exactly 9·(a−b)·10^k (the mark of two swapped digits); without an AMI register that day, a negative cycle use or one above 3 × the median counts too when the next cycle jumps back the other way (a single spike, not the recovery after a wrong read).
basis: "DOMAIN §1 错抄；§3 示数与采集比对"
truth_kinds: [staff_wrong_read]
---*/
WITH checked AS (
  SELECT
    s.meter_id, s.period, s.reading, s.read_type, s.reader_id, s.used, s.next_used,
    d.register, s.typical_used AS median_used,
    d.register - dp.register AS ami_used,
    abs(s.reading - d.register) AS dev,
    CASE WHEN d.register IS NOT NULL
          AND CAST(round(abs(s.reading - d.register) * 100) AS BIGINT) % 9 = 0
          AND regexp_matches(CAST(CAST(round(abs(s.reading - d.register) * 100) / 9 AS BIGINT) AS VARCHAR), '^[1-9]0*$')
         THEN 1 ELSE 0 END AS digit_swap,
    greatest(coalesce(d.register - dp.register, 0), coalesce(s.typical_used, 0)) AS scale
  -- each reading with the previous read day, the next cycle's use and the meter's typical (median) use,
  -- sorted once per run
  FROM reading_seq s
  LEFT JOIN reading_day_ami d ON d.meter_id = s.meter_id AND d.day = s.read_on
  LEFT JOIN reading_day_ami dp ON dp.meter_id = s.meter_id AND dp.day = s.prev_read_on
)
SELECT
  meter_id AS entity_id,
  period AS period,
  coalesce(dev, abs(used - median_used)) AS score,
  reader_id AS responsible_staff_id,
  reading AS ev_reading,
  register AS ev_ami_register,
  used AS ev_used,
  ami_used AS ev_ami_cycle_use,
  median_used AS ev_typical_use
FROM checked
WHERE read_type IN ('actual', 'estimated', 'customer')
  AND (
    (register IS NOT NULL AND dev > $use_factor * scale AND dev > $min_dev)
    OR (register IS NOT NULL AND digit_swap = 1 AND dev > 0)
    OR (register IS NULL AND used IS NOT NULL AND median_used IS NOT NULL
      AND abs(used - median_used) >= $min_dev
      AND (used < 0 OR used > $jump_factor * median_used)
      AND (next_used IS NULL OR (next_used - median_used) * (used - median_used) < 0
           AND abs(next_used - median_used) >= $min_dev))
  )
  AND ($period IS NULL OR period = $period)
