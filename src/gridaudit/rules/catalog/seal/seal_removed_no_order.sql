/*---
id: seal_removed_no_order
title: {zh: 无工单拆封, en: Seal removed with no work order}
family: seal
severity: high
entity_type: meter
tables: [seals, work_orders]
lookback: {months: 0}  # reads seals and work orders only (never windowed)
params:
  min_removals: {type: int, default: 1, doc: {zh: 当月无工单拆封次数达到该值即判定, en: Flag when the meter has at least this many removals with no order in the month}}
description:
  zh: "封印（表封、端钮盒封、表箱封）有拆封时间，但没有关联工单，或关联的工单号在工单表中不存在：无工单拆封违反封印管理规定，可能是私自开启计量装置。按电能表和拆封月份汇总，责任人为拆封人。"
  en: "A seal (meter, terminal cover or meter box) was removed but carries no work order, or an order id that does not exist: removing a seal without an order breaks seal management rules and may mean the metering was opened illicitly. Summed per meter and month of removal; the person who removed it is responsible."
basis: "DOMAIN §3 封印; 国家电网公司电能计量封印管理办法"
truth_kinds: [seal_no_order]
---*/
WITH bad AS (
  SELECT s.seal_id, s.meter_id, s.position, s.removed_at, s.removed_by, s.order_id
  FROM seals s
  LEFT JOIN work_orders o ON o.order_id = s.order_id
  WHERE s.removed_at IS NOT NULL
    AND o.order_id IS NULL
)
SELECT
  meter_id                                   AS entity_id,
  strftime(removed_at, '%Y-%m')              AS period,
  CAST(COUNT(*) AS DOUBLE)                   AS score,
  MIN(removed_by)                            AS responsible_staff_id,
  COUNT(*)                                   AS ev_removals,
  MIN(seal_id)                               AS ev_first_seal_id,
  MIN(position)                              AS ev_position,
  MIN(removed_at)                            AS ev_first_removed_at,
  MAX(order_id)                              AS ev_unknown_order_id,
  COUNT(DISTINCT removed_by)                 AS ev_removers
FROM bad
WHERE ($period IS NULL OR strftime(removed_at, '%Y-%m') = $period)
GROUP BY meter_id, strftime(removed_at, '%Y-%m')
HAVING COUNT(*) >= CAST($min_removals AS INTEGER)
