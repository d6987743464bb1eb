/*---
id: billing_zero_use_ami
title: {zh: 在运用户零电量而采集有电量, en: Zero billed use on an active account while AMI shows use}
family: billing
severity: high
entity_type: bill
tables: [bills, meters, customers]
lookback: {months: 0}
derived: [meter_month_usage]
params:
  max_billed_kwh: {type: float, default: 0.0, doc: {zh: 视为零电量的结算电量上限, en: Billed kWh up to this count as zero}}
  min_ami_kwh: {type: float, default: 10.0, doc: {zh: 采集电量（乘倍率后）下限, en: Smallest AMI use (after the multiplier) to flag}}
description:
  zh: 状态正常的用户本期结算电量为零（或接近零），而采集系统日冻结电量在该月累计（乘倍率后）明显大于零，说明电量被截留或抄表、计费环节出错。
  en: An active customer is billed zero (or almost) for the period while the AMI daily usage of that month (times the multiplier) is clearly above zero — use withheld, or a reading/billing error.
basis: "DOMAIN §3 零电量而采集有电量"
truth_kinds: [staff_withheld_qty]
---*/
WITH ami AS (
  SELECT m.customer_id, strftime(mm.month, '%Y-%m') AS period, sum(mm.kwh * m.multiplier) AS ami_kwh
  FROM meter_month_usage mm
  JOIN meters m ON m.meter_id = mm.meter_id
  WHERE m.role = 'customer'
  GROUP BY m.customer_id, strftime(mm.month, '%Y-%m')
)
SELECT
  b.bill_id AS entity_id,
  b.period AS period,
  a.ami_kwh - b.kwh AS score,
  a.ami_kwh - b.kwh AS kwh_at_stake,
  b.clerk_id AS responsible_staff_id,
  b.customer_id AS ev_customer_id,
  b.kwh AS ev_billed_kwh,
  a.ami_kwh AS ev_ami_kwh
FROM bills b
JOIN customers c ON c.customer_id = b.customer_id
JOIN ami a ON a.customer_id = b.customer_id AND a.period = b.period
WHERE c.status = 'active'
  AND abs(b.kwh) <= $max_billed_kwh
  AND a.ami_kwh >= $min_ami_kwh
  AND ($period IS NULL OR b.period = $period)
