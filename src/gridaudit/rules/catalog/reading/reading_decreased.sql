/*---
id: reading_decreased
title: {zh: 示数倒走（无换表、非翻转）, en: Reading decreased without a meter change or rollover}
family: reading
severity: high
entity_type: meter
tables: [readings]  # through reading_seq
lookback: {months: 3}  # the previous reading (a LAG); a meter unread for three cycles loses the comparison
derived: [reading_seq, reading_day_ami]   # readings in sequence; daily_usage rows on read days; each built once per run
params:
  register_digits: {type: int, default: 6, doc: {zh: 电能表整数位数（用于判断翻转）, en: Integer digits of the register (to recognise a rollover)}}
  ami_tolerance: {type: float, default: 0.5, doc: {zh: 本期示数与采集示数一致的容差（示数单位）, en: Tolerance for the reading to agree with the AMI register (register units)}}
  rollover_band: {type: float, default: 0.1, doc: {zh: 翻转判定带宽（占满量程比例）, en: "Rollover band as a share of full scale (previous above 1−band, current below band)"}}
description:
  zh: 同一电能表本期示数小于上期示数，且不属于满量程翻转；同一表号不变即未换表。若本期示数与同日采集示数一致，错在上期（由估抄/错抄规则报告），此处不报。可能是抄错、估抄后回调或计量装置被动过。
  en: The current reading of a meter is below its previous reading and the register did not roll over; the meter id is unchanged, so no meter change. When the current reading agrees with the AMI register of the day the fault lies in the previous read (reported by the estimate/wrong-read rules) and is not repeated here. A misread, a correction after estimating, or tampering.
basis: "DOMAIN §3 抄核收：示数倒走"
truth_kinds: [staff_wrong_read]
---*/
SELECT
  seq.meter_id AS entity_id,
  seq.period AS period,
  prev_reading - reading AS score,
  reader_id AS responsible_staff_id,
  reading AS ev_reading,
  prev_reading AS ev_prev_reading,
  prev_read_on AS ev_prev_read_on
FROM reading_seq seq  -- each reading with the previous one, sorted once per run
LEFT JOIN reading_day_ami d ON d.meter_id = seq.meter_id AND d.day = seq.read_on
WHERE prev_reading IS NOT NULL
  AND (d.register IS NULL OR abs(seq.reading - d.register) > $ami_tolerance)
  AND reading < prev_reading
  AND NOT (prev_reading >= (1 - $rollover_band) * power(10, $register_digits)
           AND reading <= $rollover_band * power(10, $register_digits))
  AND ($period IS NULL OR seq.period = $period)
