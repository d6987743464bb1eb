/*---
id: seal_order_mismatch
title: {zh: "拆封工单与封印不符（他户工单、时间不符或业务类型不需拆封）", en: "Seal removal does not fit its work order (other customer, outside its time, or a type that needs no seal opened)"}
family: seal
severity: medium
entity_type: meter
tables: [seals, meters, work_orders, work_order_steps]
lookback: {months: 0}  # reads seals and work orders only (never windowed)
params:
  unjustified_types: {type: str, default: "complaint,tariff_change", doc: {zh: 不需要拆封的工单类型（逗号分隔）, en: Work order types that do not justify opening a seal (comma separated)}}
  window_days: {type: int, default: 3, doc: {zh: 拆封时间允许早于工单受理或晚于工单最后环节的天数, en: Days a removal may fall before the order's acceptance or after its last step}}
description:
  zh: "封印关联的工单存在，但：工单属于另一个用户（不是该表的用户）；或拆封时间早于工单受理、晚于工单最后一个环节超过允许天数；或工单类型不需要打开计量装置（默认投诉、改类）。这些都说明拆封没有真实的工单依据。按电能表和拆封月份汇总。"
  en: "The seal's work order exists, but it belongs to another customer than the meter's; or the removal falls more than the allowed days before the order was accepted or after its last step; or the order's type needs no metering opened (complaint and tariff change by default). Each means the removal has no real order behind it. Summed per meter and month of removal."
basis: "DOMAIN §3 封印 (seal removed with no fitting work order); 国家电网公司电能计量封印管理办法"
truth_kinds: [seal_no_order]
---*/
WITH span AS (
  SELECT o.order_id, o.customer_id, o.order_type, o.accepted_at, MAX(s.finished_at) AS last_step_at
  FROM work_orders o
  LEFT JOIN work_order_steps s ON s.order_id = o.order_id
  GROUP BY o.order_id, o.customer_id, o.order_type, o.accepted_at
),
checked AS (
  SELECT se.seal_id, se.meter_id, se.removed_at, se.removed_by, se.order_id, sp.order_type,
         CASE
           WHEN m.customer_id IS NOT NULL AND sp.customer_id IS NOT NULL AND m.customer_id <> sp.customer_id
             THEN 'other_customer'
           WHEN date_diff('day', CAST(se.removed_at AS DATE), CAST(sp.accepted_at AS DATE)) > CAST($window_days AS INTEGER)
             THEN 'before_order'
           WHEN sp.last_step_at IS NOT NULL
                AND date_diff('day', CAST(sp.last_step_at AS DATE), CAST(se.removed_at AS DATE)) > CAST($window_days AS INTEGER)
             THEN 'after_order'
           WHEN (',' || replace(CAST($unjustified_types AS VARCHAR), ' ', '') || ',') LIKE ('%,' || sp.order_type || ',%')
             THEN 'order_type'
         END AS problem
  FROM seals se
  JOIN span sp ON sp.order_id = se.order_id
  LEFT JOIN meters m ON m.meter_id = se.meter_id
  WHERE se.removed_at IS NOT NULL
)
SELECT
  meter_id                                   AS entity_id,
  strftime(removed_at, '%Y-%m')              AS period,
  CAST(COUNT(*) AS DOUBLE)                   AS score,
  MIN(removed_by)                            AS responsible_staff_id,
  COUNT(*)                                   AS ev_removals,
  MIN(seal_id)                               AS ev_first_seal_id,
  MIN(order_id)                              AS ev_order_id,
  MIN(order_type)                            AS ev_order_type,
  MIN(problem)                               AS ev_problem
FROM checked
WHERE problem IS NOT NULL
  AND ($period IS NULL OR strftime(removed_at, '%Y-%m') = $period)
GROUP BY meter_id, strftime(removed_at, '%Y-%m')
