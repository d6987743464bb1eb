/*---
id: process_energized_no_bill
title: {zh: 有电无费（送电后未出账而采集有电量）, en: Energized with no billing (有电无费)}
family: process
severity: high
entity_type: customer
tables: [customers, meters, daily_usage, bills, work_orders, work_order_steps]
lookback: all  # any bill and all AMI use since the customer was energized
params:
  grace_days: {type: int, default: 45, doc: {zh: 送电后允许的首次出账天数, en: Days after energizing allowed before the first bill}}
  min_kwh: {type: float, default: 10.0, doc: {zh: 送电后采集电量合计超过该值才判定, en: Flag only when AMI energy since energizing exceeds this many kWh}}
description:
  zh: "用户已送电（新装工单送电环节完成时间，无工单时取用户档案的送电日期），采集系统在送电后记录到超过阈值的电量，但从送电月份起没有任何电费账单，且采集数据在送电后已超过宽限天数。典型成因是新装流程归档后未建立计费关系。"
  en: "The customer was energized (the new connection order's energized step, or the customer file's connected_on when there is no order), AMI recorded more than the threshold energy since, yet there is no bill for the energizing month or later, although the AMI data runs more than the grace days past energizing. Typically the billing relation was never set up after the connection."
basis: "DOMAIN §3 有电无费; 国家电网公司营销稽查工作规范"
truth_kinds: [contract_no_bill]
---*/
WITH energized AS (
  SELECT o.customer_id, MIN(s.finished_at) AS energized_at
  FROM work_orders o
  JOIN work_order_steps s ON s.order_id = o.order_id AND s.step = 'energized'
  WHERE o.order_type = 'new_connection' AND o.customer_id IS NOT NULL
  GROUP BY o.customer_id
),
data_end AS (
  SELECT MAX(day) AS last_day FROM daily_usage
),
start AS (
  SELECT c.customer_id, c.reader_id,
         COALESCE(CAST(e.energized_at AS DATE), c.connected_on) AS start_day
  FROM customers c
  LEFT JOIN energized e ON e.customer_id = c.customer_id
  WHERE c.status = 'active'
),
billed AS (
  SELECT DISTINCT s.customer_id
  FROM start s
  JOIN bills b ON b.customer_id = s.customer_id AND b.period >= strftime(s.start_day, '%Y-%m')
),
candidates AS (
  SELECT s.customer_id, s.reader_id, s.start_day, de.last_day
  FROM start s
  CROSS JOIN data_end de
  LEFT JOIN billed b ON b.customer_id = s.customer_id
  WHERE s.start_day IS NOT NULL
    AND b.customer_id IS NULL
    AND date_diff('day', s.start_day, de.last_day) > CAST($grace_days AS INTEGER)
),
used AS (
  SELECT k.customer_id, SUM(d.kwh * m.multiplier) AS ami_kwh, COUNT(*) AS ami_days
  FROM candidates k
  JOIN meters m ON m.customer_id = k.customer_id AND m.role = 'customer'
  JOIN (SELECT meter_id, day, kwh FROM daily_usage WHERE meter_id IN (SELECT m2.meter_id FROM meters m2 JOIN candidates k2 ON k2.customer_id = m2.customer_id)) d
    ON d.meter_id = m.meter_id AND d.day >= k.start_day
  GROUP BY k.customer_id
)
SELECT
  k.customer_id                                AS entity_id,
  strftime(k.start_day, '%Y-%m')               AS period,
  u.ami_kwh                                    AS score,
  u.ami_kwh                                    AS kwh_at_stake,
  k.reader_id                                  AS responsible_staff_id,
  k.start_day                                  AS ev_energized_on,
  k.last_day                                   AS ev_data_until,
  u.ami_kwh                                    AS ev_ami_kwh_since,
  u.ami_days                                   AS ev_ami_days
FROM candidates k
JOIN used u ON u.customer_id = k.customer_id
WHERE u.ami_kwh > CAST($min_kwh AS DOUBLE)
  AND ($period IS NULL OR strftime(k.start_day, '%Y-%m') = $period)
