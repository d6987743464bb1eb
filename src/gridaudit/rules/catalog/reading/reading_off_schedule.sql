/*---
id: reading_off_schedule
title: {zh: 未按抄表例日抄表, en: Read off the scheduled read day}
family: reading
severity: low
entity_type: meter
tables: [readings, meters]
lookback: all  # the meter's usual read day is taken over its whole history
params:
  tolerance_days: {type: int, default: 2, doc: {zh: 允许偏离例日的天数, en: Days a read may fall from the scheduled day}}
  min_cycles: {type: int, default: 3, doc: {zh: 推定例日所需的最少抄表次数, en: Reads needed to infer a meter's scheduled day}}
description:
  zh: 以每块表最常见的抄表日（日号）作为抄表例日，人工抄表日期偏离例日超过容差天数的记录视为未按例日抄表（可能补抄、估抄或漏抄后补录）。装表、拆表当天的示数（装拆示数）本就不在例日，不计入。
  en: A meter's scheduled read day is the day of month it is most often read on; a manual read more than the tolerance away from that day is off schedule (a late catch-up, an estimate or a missed read filled in later). Install and final readings (on the meter's installed_on / removed_on day) are off-cycle by nature and not counted.
basis: "DOMAIN §3 抄核收：抄表例日 ±2 天"
truth_kinds: []
---*/
WITH manual AS (
  SELECT r.meter_id, r.period, r.read_on, r.reader_id, CAST(extract(day FROM r.read_on) AS INTEGER) AS dom
  FROM readings r
  LEFT JOIN meters mt ON mt.meter_id = r.meter_id
  WHERE r.read_type IN ('actual', 'estimated')
    AND (mt.installed_on IS NULL OR r.read_on <> mt.installed_on)
    AND (mt.removed_on IS NULL OR r.read_on <> mt.removed_on)
),
counts AS (
  SELECT meter_id, dom, count(*) AS n FROM manual GROUP BY meter_id, dom
),
ranked AS (
  SELECT meter_id, dom, n, row_number() OVER (PARTITION BY meter_id ORDER BY n DESC, dom) AS rk FROM counts
),
totals AS (
  SELECT meter_id, count(*) AS reads FROM manual GROUP BY meter_id
),
schedule AS (
  SELECT r.meter_id, r.dom AS scheduled_day
  FROM ranked r JOIN totals t ON t.meter_id = r.meter_id
  WHERE r.rk = 1 AND t.reads >= $min_cycles
)
SELECT
  m.meter_id AS entity_id,
  m.period AS period,
  CAST(abs(m.dom - s.scheduled_day) AS DOUBLE) AS score,
  m.reader_id AS responsible_staff_id,
  m.read_on AS ev_read_on,
  s.scheduled_day AS ev_scheduled_day
FROM manual m
JOIN schedule s ON s.meter_id = m.meter_id
WHERE abs(m.dom - s.scheduled_day) > $tolerance_days
  AND ($period IS NULL OR m.period = $period)
