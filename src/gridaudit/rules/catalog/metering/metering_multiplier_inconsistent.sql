/*---
id: metering_multiplier_inconsistent
title: {zh: 台区/线路考核表倍率与采集电量不符, en: Area or feeder meter multiplier inconsistent with its AMI energy}
family: metering
severity: medium
entity_type: meter
tables: [meters, daily_usage]
params:
  tolerance: {type: float, default: 0.05, doc: {zh: 推算倍率与档案倍率的允许相对偏差, en: Allowed relative difference between the implied and the recorded multiplier}}
  min_register_step: {type: float, default: 0.5, doc: {zh: 只用日示数差大于该值的日子推算倍率, en: Only days whose register advanced by more than this are used to infer the multiplier}}
  min_days: {type: int, default: 5, doc: {zh: 当月可用天数下限, en: Minimum usable days in the month}}
description:
  zh: "台区总表、线路首端表的日冻结电量除以日示数差得到推算倍率（取当月中位数），与档案倍率相差超过允许偏差：倍率错误会使台区供电量、线损率整体失真。采集主站与营销档案倍率不一致时常见。周期为月份。"
  en: "For area total and feeder head meters, daily AMI energy divided by the register advance gives the implied multiplier (the month's median); it differs from the meter file's multiplier by more than the tolerance. A wrong multiplier distorts the area's supply and loss rate; typical when the collection master station and the marketing file disagree. Period is the month."
basis: "DOMAIN §3 倍率错误; DL/T 448 电能计量装置技术管理规程"
truth_kinds: []
---*/
WITH steps AS (
  SELECT d.meter_id, d.day, d.kwh,
         d.register - LAG(d.register) OVER (PARTITION BY d.meter_id ORDER BY d.day) AS reg_step,
         date_diff('day', LAG(d.day) OVER (PARTITION BY d.meter_id ORDER BY d.day), d.day) AS gap_days
  FROM daily_usage d
  JOIN meters m ON m.meter_id = d.meter_id AND m.role IN ('area_total', 'feeder_head')
  WHERE d.register IS NOT NULL
),
implied AS (
  SELECT s.meter_id, strftime(s.day, '%Y-%m') AS period,
         median(s.kwh / s.reg_step) AS implied_multiplier, COUNT(*) AS n_days
  FROM steps s
  WHERE s.gap_days = 1 AND s.reg_step > CAST($min_register_step AS DOUBLE)
  GROUP BY s.meter_id, strftime(s.day, '%Y-%m')
)
SELECT
  i.meter_id                                                     AS entity_id,
  i.period                                                       AS period,
  abs(i.implied_multiplier / m.multiplier - 1)                   AS score,
  m.role                                                         AS ev_role,
  m.area_id                                                      AS ev_area_id,
  m.feeder_id                                                    AS ev_feeder_id,
  m.multiplier                                                   AS ev_file_multiplier,
  i.implied_multiplier                                           AS ev_implied_multiplier,
  i.n_days                                                       AS ev_days
FROM implied i
JOIN meters m ON m.meter_id = i.meter_id
WHERE i.n_days >= CAST($min_days AS INTEGER)
  AND abs(i.implied_multiplier / m.multiplier - 1) > CAST($tolerance AS DOUBLE)
  AND ($period IS NULL OR i.period = $period)
