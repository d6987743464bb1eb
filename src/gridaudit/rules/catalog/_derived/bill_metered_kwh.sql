/*---
id: bill_metered_kwh
description:
  zh: "每张账单的表计电量：该用户各用户表本期与上期示数之差乘倍率之和（示数倒退的周期不计），以及加上账单退补电量后的应结算电量。结算电量核对规则（虚拟电量、截留电量）共用，每次运行只算一次。"
  en: "Metered energy behind each bill: the sum over the customer's meters of (this cycle's reading − the previous one) × multiplier (cycles where the register went back are left out), and the energy the bill should then carry once its recorded adjustment is added. Shared by the billed-vs-metered rules (virtual and withheld quantity) and computed once per run."
tables: [bills, readings, meters]  # readings through reading_seq
derived: [reading_seq]  # each reading's register difference from the previous one, sorted once per run
lookback: {months: 3}  # the previous reading behind each cycle (a LAG); a meter unread for longer loses its first cycle
---*/
WITH metered AS (
  -- used = reading − previous reading: NULL without a previous one, negative where the register went back
  SELECT m.customer_id, s.period, sum(s.used * m.multiplier) AS metered_kwh
  FROM reading_seq s
  JOIN meters m ON m.meter_id = s.meter_id
  WHERE m.role = 'customer' AND s.used >= 0
  GROUP BY m.customer_id, s.period
)
-- the bill's own columns ride along, so its two readers (the metered-quantity template) join no bills again
SELECT
  b.bill_id, b.customer_id, b.period, b.clerk_id, b.kwh, b.adjustment_kwh, met.metered_kwh,
  met.metered_kwh + coalesce(b.adjustment_kwh, 0) AS expected_kwh
FROM bills b
JOIN metered met ON met.customer_id = b.customer_id AND met.period = b.period
