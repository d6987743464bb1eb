/*---
id: reading_reader_disagrees_ami
title: {zh: 抄表员示数经常与采集不符（估抄抄表员）, en: Reader whose reads often disagree with AMI (estimating reader)}
family: reading
severity: high
entity_type: staff
tables: [readings]
lookback: {months: 0}
derived: [reading_day_ami]   # daily_usage rows on read days, built once per run
params:
  tolerance_kwh: {type: float, default: 1.0, doc: {zh: 单次示数允许的绝对偏差, en: Allowed absolute difference per read}}
  tolerance_pct: {type: float, default: 0.005, doc: {zh: 单次示数允许的相对偏差, en: Allowed relative difference per read}}
  max_share: {type: float, default: 0.01, doc: {zh: 允许的不符比例（超过即告警）, en: Share of disagreeing reads above which a reader is flagged}}
  min_reads: {type: int, default: 20, doc: {zh: 参与评价的最少抄表次数, en: Reads a reader needs before being judged}}
  min_bad: {type: int, default: 3, doc: {zh: 最少不符次数, en: Fewest disagreeing reads to flag}}
description:
  zh: 统计每位抄表员的人工抄表中与同日采集示数不符的比例；比例超过阈值（默认 1%）且次数足够的抄表员可能习惯性估抄，列入稽查。期间为空表示全部数据期间。
  en: For each reader, the share of manual reads that differ from the AMI register of the same day; readers above the share (default 1 %) with enough reads probably estimate habitually. Period is empty (the whole data range) unless --period is given.
basis: "DOMAIN §1 月度稽查计划：抄表差错率 > 1% 的抄表员"
truth_kinds: []
---*/
WITH checked AS (
  SELECT
    r.reader_id,
    CASE WHEN abs(r.reading - d.register) > greatest($tolerance_kwh, $tolerance_pct * d.register) THEN 1 ELSE 0 END AS bad
  FROM readings r
  JOIN reading_day_ami d ON d.meter_id = r.meter_id AND d.day = r.read_on
  WHERE r.read_type = 'actual' AND r.reader_id IS NOT NULL AND d.register IS NOT NULL
    AND ($period IS NULL OR r.period = $period)
),
per_reader AS (
  SELECT reader_id, count(*) AS reads, sum(bad) AS bad_reads FROM checked GROUP BY reader_id
)
SELECT
  reader_id AS entity_id,
  $period AS period,
  CAST(bad_reads AS DOUBLE) / reads AS score,
  reader_id AS responsible_staff_id,
  reads AS ev_reads,
  bad_reads AS ev_disagreeing_reads,
  CAST(bad_reads AS DOUBLE) / reads AS ev_share
FROM per_reader
WHERE reads >= $min_reads
  AND bad_reads >= $min_bad
  AND CAST(bad_reads AS DOUBLE) / reads > $max_share
