/*---
id: seal_removed_by_non_handler
title: {zh: 拆封人不是工单处理人, en: Seal removed by someone not handling its work order}
family: seal
severity: medium
entity_type: meter
tables: [seals, work_order_steps]
lookback: {months: 0}  # reads seals and work orders only (never windowed)
params: {}
description:
  zh: "封印关联了工单，但拆封人不是该工单任何环节的处理人：可能借他人工单拆封，或工单与现场作业不符。拆封人为空的不判。按电能表和拆封月份汇总，责任人为拆封人。"
  en: "The seal's removal names a work order, but the person who removed it handled none of that order's steps: someone may have used another's order as cover, or the order does not match the field work. Removals with no remover recorded are not judged. Summed per meter and month of removal; the remover is responsible."
basis: "DOMAIN §3 封印 (removed by someone not on that order); 国家电网公司电能计量封印管理办法"
truth_kinds: [seal_no_order]
---*/
WITH handlers AS (
  SELECT DISTINCT order_id, handler_id FROM work_order_steps WHERE handler_id IS NOT NULL
),
bad AS (
  SELECT s.seal_id, s.meter_id, s.removed_at, s.removed_by, s.order_id
  FROM seals s
  JOIN (SELECT DISTINCT order_id FROM work_order_steps) o ON o.order_id = s.order_id
  LEFT JOIN handlers h ON h.order_id = s.order_id AND h.handler_id = s.removed_by
  WHERE s.removed_at IS NOT NULL
    AND s.removed_by IS NOT NULL
    AND h.order_id IS NULL
)
SELECT
  meter_id                                   AS entity_id,
  strftime(removed_at, '%Y-%m')              AS period,
  CAST(COUNT(*) AS DOUBLE)                   AS score,
  MIN(removed_by)                            AS responsible_staff_id,
  COUNT(*)                                   AS ev_removals,
  MIN(seal_id)                               AS ev_first_seal_id,
  MIN(order_id)                              AS ev_order_id,
  MIN(removed_at)                            AS ev_first_removed_at
FROM bad
WHERE ($period IS NULL OR strftime(removed_at, '%Y-%m') = $period)
GROUP BY meter_id, strftime(removed_at, '%Y-%m')
