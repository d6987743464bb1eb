/*---
id: area_day_usage
description:
  zh: "每个台区每天的供电量（台区总表，乘倍率；另给未乘倍率的合计）与售电量（台区内用户表，乘倍率），以及各自参与的表日记录数。每次运行只从 daily_usage 计算一次，供线损类与停走类规则共用。"
  en: "Per area and day, the supply (area total meters, after the multiplier; also the register-unit total) and the sales (the area's customer meters, after the multiplier), with the number of meter-day rows behind each. Computed once per run from daily_usage, shared by the loss and stopped-meter rules."
tables: [daily_usage, meters, customers]
lookback: {days: 0}
window_column: day
window_kind: date
---*/
WITH roles AS (
  SELECT m.meter_id, c.area_id, m.multiplier, 0 AS is_supply
  FROM meters m
  JOIN customers c ON c.customer_id = m.customer_id
  WHERE m.role = 'customer' AND c.area_id IS NOT NULL
  UNION ALL
  SELECT meter_id, area_id, multiplier, 1 AS is_supply
  FROM meters
  WHERE role = 'area_total' AND area_id IS NOT NULL
)
SELECT
  r.area_id                                                         AS area_id,
  d.day                                                             AS day,
  SUM(CASE WHEN r.is_supply = 1 THEN d.kwh * r.multiplier END)      AS supply_kwh,
  SUM(CASE WHEN r.is_supply = 1 THEN d.kwh END)                     AS supply_register_kwh,
  SUM(r.is_supply)                                                  AS supply_rows,
  SUM(CASE WHEN r.is_supply = 0 THEN d.kwh * r.multiplier END)      AS sales_kwh,
  SUM(1 - r.is_supply)                                              AS sales_rows
FROM daily_usage d
JOIN roles r ON r.meter_id = d.meter_id
GROUP BY r.area_id, d.day
