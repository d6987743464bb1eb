/*---
id: metering_verification_overdue
title: {zh: 电能表超周期未检定/轮换仍在运行, en: Meter past its verification date still in service}
family: metering
severity: medium
entity_type: meter
tables: [meters, readings]
lookback: all  # the finding's period is the first period read after the due date
params:
  grace_days: {type: int, default: 0, doc: {zh: 到期后的宽限天数, en: Days of grace after the verification date}}
description:
  zh: "电能表检定（轮换）到期日已过（加宽限天数），未拆除（或拆除日期晚于到期日），且到期后仍有抄表示数：超期运行的计量装置准确性无保证，应安排轮换。每块表一条结果，周期为到期后首次抄表的月份；指定周期时只看该月有抄表的表。"
  en: "The meter's verification (rotation) date plus grace has passed, it was not removed before then, and it was still read afterwards: its accuracy is no longer assured and it should be rotated. One finding per meter, with the period of the first reading after the due date; with a period given, only meters read in that period."
basis: "DOMAIN §3 计量; JJG 596 电子式交流电能表检定规程; DL/T 448 电能计量装置技术管理规程 (rotation periods)"
truth_kinds: [meter_verification_overdue]
---*/
WITH late AS (
  SELECT m.meter_id, m.customer_id, m.verification_due, r.period, r.read_on, r.reader_id
  FROM meters m
  JOIN readings r ON r.meter_id = m.meter_id
  WHERE m.verification_due IS NOT NULL
    AND date_diff('day', m.verification_due, r.read_on) > CAST($grace_days AS INTEGER)
    AND (m.removed_on IS NULL OR m.removed_on > r.read_on)
),
per_meter AS (
  SELECT meter_id, customer_id, verification_due,
         MIN(period) AS first_period, MAX(read_on) AS last_read_on, COUNT(*) AS n_reads,
         MAX(CASE WHEN $period IS NULL OR period = $period THEN 1 ELSE 0 END) AS in_period
  FROM late
  GROUP BY meter_id, customer_id, verification_due
)
SELECT
  meter_id                                                        AS entity_id,
  first_period                                                    AS period,
  CAST(date_diff('day', verification_due, last_read_on) AS DOUBLE) AS score,
  customer_id                                                     AS ev_customer_id,
  verification_due                                                AS ev_verification_due,
  last_read_on                                                    AS ev_last_read_on,
  n_reads                                                         AS ev_reads_after_due
FROM per_meter
WHERE in_period = 1
