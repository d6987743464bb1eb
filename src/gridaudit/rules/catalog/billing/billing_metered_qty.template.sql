/*---
template: billing_metered_qty   # billed kWh against (readings × multiplier + adjustment): one SQL, two directions
family: billing
entity_type: bill
tables: [bills, readings, meters]
lookback: all  # a customer whose bills deviate in most cycles (a multiplier pattern) is judged over all its bills
derived: [bill_metered_kwh]     # the metered and expected kWh of each bill, shared by both instances
params:
  tolerance_kwh: {type: float, default: 1.0, doc: {zh: 允许的绝对偏差（kWh）, en: Allowed absolute difference (kWh)}}
  tolerance_pct: {type: float, default: 0.02, doc: {zh: 允许的相对偏差（占表计电量比例）, en: Allowed relative difference (share of metered kWh)}}
  multiplier_share: {type: float, default: 0.75, doc: {zh: 用户多数账单（此比例以上、至少 3 张）都偏离时视为倍率问题而不报, en: "When at least this share of a customer's bills (3 or more) deviate, it is a multiplier problem (billing_multiplier_mismatch), not reported here"}}
basis: "DOMAIN §3 抄核收：结算电量 = (本期示数 − 上期示数) × 倍率 + 退补电量"
instances:
  - id: billing_virtual_qty
    title: {zh: 虚拟电量（结算电量大于表计电量）, en: Virtual quantity (billed kWh above metered)}
    severity: high
    fixed: {excess: billed}   # which side exceeds the other
    description:
      zh: 账单结算电量大于（本期示数−上期示数）×倍率＋退补电量，超出容差，属虚拟电量（虚增售电量、粉饰线损）。退补是否经审批由 billing_adjustment_unapproved 检查。
      en: Billed kWh exceed (current − previous reading) × multiplier + recorded adjustment beyond the tolerance — virtual quantity (inflating sales or dressing up line loss). Whether the adjustment was approved is billing_adjustment_unapproved's job.
    truth_kinds: [staff_virtual_qty]
  - id: billing_withheld_qty
    title: {zh: 截留电量（结算电量小于表计电量）, en: Withheld quantity (billed kWh below metered)}
    severity: high
    fixed: {excess: metered}   # which side exceeds the other
    description:
      zh: 账单结算电量小于（本期示数−上期示数）×倍率＋退补电量，差额超出容差，属截留电量（常与用户串通）。退补是否经审批由 billing_adjustment_unapproved 检查。
      en: Billed kWh fall short of (current − previous reading) × multiplier + recorded adjustment beyond the tolerance — withheld quantity (often in collusion with the customer). Whether the adjustment was approved is billing_adjustment_unapproved's job.
    truth_kinds: [staff_withheld_qty]
---*/
-- The bills with their metered kWh (bill_metered_kwh carries the bill's own columns: no join with bills on
-- bill_id); the customer's bill count and deviating count come from a GROUP BY customer joined back on the
-- customer (a hash table of customers), not from a window over every bill (a sort of all bills).
-- bill_metered_kwh has no bill of a NULL customer (it is built by a join on the customer), so the join on
-- customer_id keeps every bill the window kept.
WITH joined AS (
  SELECT
    x.bill_id, x.period, x.clerk_id, x.customer_id, x.kwh, x.adjustment_kwh, x.metered_kwh, x.expected_kwh,
    CASE WHEN abs(x.kwh - x.expected_kwh) > greatest($tolerance_kwh, $tolerance_pct * abs(x.expected_kwh))
         THEN 1 ELSE 0 END AS deviates,
    -- the kWh by which the instance's side exceeds the other: billed − expected (virtual), expected − billed (withheld)
    CASE WHEN $excess = 'billed' THEN x.kwh - x.expected_kwh ELSE x.expected_kwh - x.kwh END AS excess_kwh
  FROM bill_metered_kwh x
),
pattern AS (
  SELECT customer_id, count(*) AS bills, sum(deviates) AS deviating
  FROM joined
  GROUP BY customer_id
),
gap AS (
  SELECT g.*, p.bills, p.deviating
  FROM joined g
  JOIN pattern p ON p.customer_id = g.customer_id
)
SELECT
  bill_id AS entity_id,
  period AS period,
  excess_kwh AS score,
  excess_kwh AS kwh_at_stake,
  clerk_id AS responsible_staff_id,
  customer_id AS ev_customer_id,
  kwh AS ev_billed_kwh,
  metered_kwh AS ev_metered_kwh,
  expected_kwh AS ev_expected_kwh,
  adjustment_kwh AS ev_adjustment_kwh
FROM gap
WHERE NOT (bills >= 3 AND CAST(deviating AS DOUBLE) / bills >= $multiplier_share)
  AND excess_kwh > greatest($tolerance_kwh, $tolerance_pct * abs(expected_kwh))
  AND ($period IS NULL OR period = $period)
