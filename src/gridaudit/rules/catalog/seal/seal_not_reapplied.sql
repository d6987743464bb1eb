/*---
id: seal_not_reapplied
title: {zh: 拆封后未重新加封, en: Seal removed and never re-applied}
family: seal
severity: medium
entity_type: meter
tables: [seals, meters]
lookback: {months: 0}  # reads seals only (never windowed)
params:
  grace_days: {type: int, default: 3, doc: {zh: 拆封后应在该天数内在同一位置重新加封, en: Days within which a new seal must be applied at the same position}}
description:
  zh: "某位置（表、端钮盒、表箱）的封印拆除后，宽限天数内同一电能表同一位置没有新的加封记录，而电能表仍在运行（未拆除）：计量装置处于无封状态。只判定封印记录的最晚时间已超过拆封时间加宽限天数的拆封。周期为拆封月份，责任人为拆封人。"
  en: "After a seal at one position (meter, terminal cover, box) was removed, no new seal was applied at the same meter and position within the grace days while the meter stayed in service: the metering stands unsealed. Only removals whose grace period ends before the latest seal record are judged. Period is the month of removal; the remover is responsible."
basis: "DOMAIN §3 封印 (三封); 国家电网公司电能计量封印管理办法"
truth_kinds: []
---*/
WITH latest AS (
  SELECT MAX(CASE WHEN removed_at IS NULL OR applied_at > removed_at THEN applied_at ELSE removed_at END) AS last_at
  FROM seals
),
removed AS (
  SELECT s.seal_id, s.meter_id, s.position, s.removed_at, s.removed_by
  FROM seals s
  JOIN meters m ON m.meter_id = s.meter_id
  CROSS JOIN latest l
  WHERE s.removed_at IS NOT NULL
    AND date_diff('day', CAST(s.removed_at AS DATE), CAST(l.last_at AS DATE)) > CAST($grace_days AS INTEGER)
    AND (m.removed_on IS NULL
         OR date_diff('day', CAST(s.removed_at AS DATE), m.removed_on) > CAST($grace_days AS INTEGER))
),
resealed AS (
  SELECT DISTINCT r.seal_id
  FROM removed r
  JOIN seals n ON n.meter_id = r.meter_id AND n.position = r.position AND n.seal_id <> r.seal_id
  WHERE n.applied_at >= r.removed_at - INTERVAL 1 HOUR
    AND date_diff('day', CAST(r.removed_at AS DATE), CAST(n.applied_at AS DATE)) <= CAST($grace_days AS INTEGER)
)
SELECT
  r.meter_id                                 AS entity_id,
  strftime(r.removed_at, '%Y-%m')            AS period,
  CAST(COUNT(*) AS DOUBLE)                   AS score,
  MIN(r.removed_by)                          AS responsible_staff_id,
  COUNT(*)                                   AS ev_unsealed,
  MIN(r.seal_id)                             AS ev_first_seal_id,
  MIN(r.position)                            AS ev_position,
  MIN(r.removed_at)                          AS ev_first_removed_at
FROM removed r
LEFT JOIN resealed x ON x.seal_id = r.seal_id
WHERE x.seal_id IS NULL
  AND ($period IS NULL OR strftime(r.removed_at, '%Y-%m') = $period)
GROUP BY r.meter_id, strftime(r.removed_at, '%Y-%m')
