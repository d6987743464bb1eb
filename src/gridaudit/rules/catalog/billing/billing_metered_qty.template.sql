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
WITH pattern AS (
  SELECT
    x.bill_id,
    count(*) OVER (PARTITION BY b.customer_id) AS bills,
    sum(CASE WHEN abs(b.kwh - x.expected_kwh) > greatest($tolerance_kwh, $tolerance_pct * abs(x.expected_kwh))
             THEN 1 ELSE 0 END) OVER (PARTITION BY b.customer_id) AS deviating
  FROM bill_metered_kwh x JOIN bills b ON b.bill_id = x.bill_id
),
gap AS (
  SELECT
    b.bill_id, b.period, b.clerk_id, b.customer_id, b.kwh, b.adjustment_kwh, x.metered_kwh, x.expected_kwh,
    p.bills, p.deviating,
    -- the kWh by which the instance's side exceeds the other: billed − expected (virtual), expected − billed (withheld)
    CASE WHEN $excess = 'billed' THEN b.kwh - x.expected_kwh ELSE x.expected_kwh - b.kwh END AS excess_kwh
  FROM bills b
  JOIN bill_metered_kwh x ON x.bill_id = b.bill_id
  JOIN pattern p ON p.bill_id = b.bill_id
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
