/*---
id: reading_day_ami
description:
  zh: "抄表日的采集数据：每块表在其每个抄表日（readings.read_on）的日冻结示数（读它的规则不用日电量，故不取，少读一列）。每次运行只从 daily_usage 取一次，供抄表与采集比对的规则共用（比对只看抄表日，无需扫描全部日数据）。"
  en: "AMI data on read days: each meter's daily register on each of its read days (readings.read_on; its readers use no daily kWh, so that column is not read). Taken once per run from daily_usage and shared by the rules comparing reads with AMI (they only look at read days, so they need not scan every daily row)."
tables: [daily_usage, readings]
lookback: {days: 0}
window_column: day
window_kind: date
---*/
SELECT d.meter_id, d.day, d.register
FROM daily_usage d
WHERE EXISTS (SELECT 1 FROM readings r WHERE r.meter_id = d.meter_id AND r.read_on = d.day)
