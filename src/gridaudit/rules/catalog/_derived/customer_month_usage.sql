/*---
id: customer_month_usage
description:
  zh: "每个用户（其全部用户表，乘倍率）每月的日均电量与有数据天数（各表天数取最大），以及表数与整数月序号。由 meter_month_usage 每次运行计算一次，供按自身历史与按同类比较下降的两条窃电规则、零电量规则、线损上升用户规则及两条超容规则（负荷增长）共用。"
  en: "Per customer (all its customer meters, after the multiplier) and month, the daily mean kWh and the days with data (the most of its meters), its meter-months and an integer month index. Computed once per run from meter_month_usage and shared by the two theft rules that compare a month with the customer's baseline (own history, peers), the zero-use rule, the loss-rise rule and the two capacity rules (load growth)."
tables: [meters]
derived: [meter_month_usage]
lookback: {days: 0}
window_column: month
window_kind: date
---*/
SELECT
  m.customer_id                                                 AS customer_id,
  mm.month                                                      AS month,
  strftime(mm.month, '%Y-%m')                                   AS period,
  MIN(mm.month_idx)                                             AS month_idx,
  SUM(mm.kwh * m.multiplier) / MAX(mm.n_days)                   AS mean_kwh,
  MAX(mm.n_days)                                                AS n_days,
  CAST(COUNT(*) AS INTEGER)                                     AS n_meters
FROM meter_month_usage mm
JOIN meters m ON m.meter_id = mm.meter_id AND m.role = 'customer' AND m.customer_id IS NOT NULL
GROUP BY m.customer_id, mm.month
