/*---
id: billing_multiplier_mismatch
title: {zh: 倍率不符（结算电量/示数差 ≠ 档案倍率，或档案倍率与容量应配变比不符）, en: "Multiplier mismatch (billed kWh / register difference ≠ the file's multiplier, or the file's multiplier ≠ the CT/PT ratio the capacity calls for)"}
family: billing
severity: high
entity_type: meter
tables: [bills, readings, meters, customers]  # readings through reading_seq
lookback: all  # the billed ratio is judged over every cycle of the meter
derived: [reading_seq]  # each reading's register difference from the previous one, sorted once per run
params:
  tolerance_pct: {type: float, default: 0.05, doc: {zh: 实际比值与档案倍率的允许相对偏差, en: Allowed relative difference between the billed ratio and the multiplier}}
  min_diff: {type: float, default: 1.0, doc: {zh: 参与计算的最小示数差, en: Smallest register difference used}}
  min_cycles: {type: int, default: 3, doc: {zh: 参与判断的最少周期数, en: Fewest cycles compared}}
  min_share: {type: float, default: 0.75, doc: {zh: 比值偏离倍率的周期所占最低比例, en: Smallest share of cycles whose ratio departs from the multiplier}}
  ct_primaries: {type: str, default: "50,75,100,150,200,300,400,600,800", doc: {zh: "本单位计量用电流互感器一次额定电流系列（A，逗号分隔；二次 5 A）", en: "The utility's series of metering CT rated primary currents (A, comma separated; 5 A secondary)"}}
  ct_margin: {type: float, default: 1.2, doc: {zh: "配置规则：选不小于 额定电流 × 该系数 的最小一次电流；设为 0 关闭容量核对", en: "Configuration rule: the smallest primary at or above rated current × this margin; 0 turns the capacity check off"}}
description:
  zh: "两种倍率差错。（一）计费倍率与档案不符：单表用户各期（结算电量 − 退补电量）÷ 示数差 即实际使用的倍率；多数周期（默认 ≥75%、至少 3 期）都偏离电能表档案倍率。个别周期偏离属虚拟/截留电量，不在此列。（二）档案倍率本身错：档案、计费、采集示数彼此一致，只有按合同容量应配的变比能揭示。经互感器接入（倍率 > 1）的用户，额定电流 = 容量 ÷ (√3 × 电压)，应配 CT 一次电流 = 本单位系列中不小于 额定电流 × ct_margin 的最小值（二次 5 A），10 kV 及以上再乘 PT 变比（电压 ÷ 100 V）；档案倍率与应配倍率不符即判定（核对现场铭牌）。换表时（该户上一块表在本表安装当日拆除）换成大一档的 CT 视为有记录的增配，不判。评分：（一）为偏离周期占比，（二）为档案倍率与应配倍率之比偏离 1 的程度。"
  en: "Two multiplier errors. (1) Billing applies another ratio than the file: for single-meter customers, (billed kWh − adjustment) ÷ register difference is the multiplier actually applied; most cycles (default ≥ 75 %, at least 3) depart from the meter file's multiplier. Single odd cycles are virtual/withheld quantity, not this. (2) The file's ratio itself is wrong: file, bills and AMI registers then agree with each other and only the ratio the contract capacity calls for shows it. For CT-connected meters (multiplier > 1), rated current = capacity ÷ (√3 × voltage); the CT primary should be the smallest of the utility's series at or above rated current × ct_margin (5 A secondary), times the PT ratio (voltage ÷ 100 V) at 10 kV and above; a file multiplier other than that is flagged (check the nameplate on site). A CT one standard step larger fitted at a meter replacement (the customer's previous meter removed the day this one was installed) is a recorded upsizing and is not flagged. Score: (1) the share of cycles off, (2) how far the file/expected ratio is from 1."
basis: "DOMAIN §2 倍率 = CT 变比 × PT 变比；结算电量 = 示数差 × 倍率; DL/T 448 电能计量装置技术管理规程（互感器额定一次电流按负荷电流配置）"
truth_kinds: [staff_wrong_multiplier]
---*/
WITH per_period AS (
  -- the register difference of each cycle (reading − the previous one), from the readings sorted once per run
  SELECT meter_id, period, sum(used) AS diff FROM reading_seq WHERE used IS NOT NULL GROUP BY meter_id, period
),
single AS (
  SELECT customer_id, min(meter_id) AS meter_id FROM meters WHERE role = 'customer' GROUP BY customer_id HAVING count(*) = 1
),
ratios AS (
  SELECT s.meter_id, b.period, (b.kwh - coalesce(b.adjustment_kwh, 0)) / s.diff AS ratio
  FROM per_period s
  JOIN single g ON g.meter_id = s.meter_id
  JOIN bills b ON b.customer_id = g.customer_id AND b.period = s.period
  WHERE s.diff >= $min_diff
),
per_meter AS (
  SELECT
    r.meter_id, m.multiplier,
    count(*) AS cycles,
    sum(CASE WHEN abs(r.ratio - m.multiplier) > $tolerance_pct * m.multiplier THEN 1 ELSE 0 END) AS off_cycles,
    avg(r.ratio) AS mean_ratio,
    max(r.period) AS last_period
  FROM ratios r
  JOIN meters m ON m.meter_id = r.meter_id
  GROUP BY r.meter_id, m.multiplier
),
std AS (
  SELECT prim
  FROM (VALUES (5), (10), (15), (20), (25), (30), (40), (50), (60), (75), (80), (100), (120), (150), (200), (250),
               (300), (400), (500), (600), (750), (800), (1000), (1200), (1250), (1500), (2000), (2500), (3000),
               (4000), (5000)) AS v(prim)
  WHERE (',' || replace(CAST($ct_primaries AS VARCHAR), ' ', '') || ',') LIKE ('%,' || CAST(prim AS VARCHAR) || ',%')
),
ct_meters AS (
  SELECT m.meter_id, m.customer_id, m.multiplier, c.contract_kva, c.voltage_kv,
         c.contract_kva / (sqrt(3.0) * c.voltage_kv) AS rated_amps,
         CASE WHEN c.voltage_kv >= 1 THEN c.voltage_kv * 1000.0 / 100.0 ELSE 1.0 END AS pt_ratio,
         CASE WHEN EXISTS (
           SELECT 1 FROM meters p
           WHERE p.customer_id = m.customer_id AND p.role = 'customer' AND p.meter_id <> m.meter_id
             AND p.removed_on = m.installed_on
         ) THEN 1 ELSE 0 END AS swapped_in
  FROM meters m
  JOIN customers c ON c.customer_id = m.customer_id
  WHERE m.role = 'customer' AND m.multiplier > 1 AND c.contract_kva > 0 AND c.voltage_kv > 0
    AND CAST($ct_margin AS DOUBLE) > 0
),
expected_primary AS (
  SELECT t.meter_id,
         COALESCE(MIN(CASE WHEN s.prim >= t.rated_amps * CAST($ct_margin AS DOUBLE) THEN s.prim END), MAX(s.prim))
           AS prim
  FROM ct_meters t
  CROSS JOIN std s
  GROUP BY t.meter_id
),
expected AS (
  SELECT t.meter_id, t.customer_id, t.multiplier, t.contract_kva, t.voltage_kv, t.rated_amps, t.swapped_in,
         e.prim / 5.0 * t.pt_ratio AS expected_multiplier,
         MIN(CASE WHEN s.prim > e.prim THEN s.prim END) / 5.0 * t.pt_ratio AS next_up_multiplier
  FROM ct_meters t
  JOIN expected_primary e ON e.meter_id = t.meter_id
  CROSS JOIN std s
  GROUP BY t.meter_id, t.customer_id, t.multiplier, t.contract_kva, t.voltage_kv, t.rated_amps, t.swapped_in,
           e.prim, t.pt_ratio
)
SELECT
  meter_id AS entity_id,
  CAST(NULL AS VARCHAR) AS period,
  CAST(off_cycles AS DOUBLE) / cycles AS score,
  'billing_ratio' AS ev_check,
  multiplier AS ev_file_multiplier,
  mean_ratio AS ev_mean_billed_ratio,
  cycles AS ev_cycles,
  off_cycles AS ev_cycles_off,
  last_period AS ev_last_period,
  CAST(NULL AS DOUBLE) AS ev_expected_multiplier,
  CAST(NULL AS DOUBLE) AS ev_contract_kva,
  CAST(NULL AS DOUBLE) AS ev_rated_amps
FROM per_meter
WHERE cycles >= $min_cycles
  AND CAST(off_cycles AS DOUBLE) / cycles >= $min_share
  AND ($period IS NULL OR meter_id IN (SELECT meter_id FROM ratios WHERE period = $period))
UNION ALL
SELECT
  meter_id AS entity_id,
  CAST(NULL AS VARCHAR) AS period,
  abs(multiplier / expected_multiplier - 1) AS score,
  'capacity_ratio' AS ev_check,
  multiplier AS ev_file_multiplier,
  CAST(NULL AS DOUBLE) AS ev_mean_billed_ratio,
  CAST(NULL AS BIGINT) AS ev_cycles,
  CAST(NULL AS BIGINT) AS ev_cycles_off,
  CAST(NULL AS VARCHAR) AS ev_last_period,
  expected_multiplier AS ev_expected_multiplier,
  contract_kva AS ev_contract_kva,
  rated_amps AS ev_rated_amps
FROM expected
WHERE abs(multiplier - expected_multiplier) > 0.001 * expected_multiplier
  -- a CT one standard step larger, fitted with a meter replacement (the customer's previous meter removed the
  -- day this one was installed), is a recorded upsizing, not a file error
  AND NOT (swapped_in = 1 AND abs(multiplier - COALESCE(next_up_multiplier, -1)) <= 0.001 * multiplier)
  AND ($period IS NULL OR customer_id IN (SELECT customer_id FROM bills WHERE period = $period))
