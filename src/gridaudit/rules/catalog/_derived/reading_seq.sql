/*---
id: reading_seq
description:
  zh: "每条抄表示数及其在该表示数序列（按抄表日、抄表年月排序）中的前后关系：上期示数与抄表日、本期示数差（used）、前两期示数差、下期示数差，以及该表正示数差的中位数（典型电量，按建表所读的全部示数计算）。示数倒走、估抄、错抄、连续电量相同、倍率不符等规则与 bill_metered_kwh 共用，每次运行只排序一次示数。"
  en: "Each reading with its place in the meter's sequence (ordered by read day, then period): the previous reading and read day, the cycle's register difference (used), the two cycles' before it, the next cycle's, and the meter's typical use (the median positive difference over every reading the table was built from). Shared by the decreased, estimated, wrong-read, same-consumption and multiplier rules and bill_metered_kwh, so the readings are sorted by meter once per run instead of once per rule."
tables: [readings]
# The rules that read it keep their own look-backs (3 months for a previous reading, 4 for three cycles back):
# built over the union of their windows, every row a rule reads has at least the previous rows its own window
# holds. The typical use is over the rows the table was built from: its readers (estimated, wrong read) read the
# whole history, and so then is the table.
lookback: {months: 0}
window_column: period
window_kind: month
---*/
WITH seq AS (
  -- one sort of the readings by meter for every LAG/LEAD below (the same window, spelled out each time: a named
  -- WINDOW clause does not reach Spark); the differences of earlier cycles are LAGs of the reading
  -- (lag(used, k) = lag(reading, k) − lag(reading, k + 1), the same subtraction of the same two values, so bit
  -- for bit what a LAG of `used` gives)
  SELECT
    meter_id, period, read_on, reading, read_type, reader_id,
    lag(reading) OVER (PARTITION BY meter_id ORDER BY read_on, period) AS prev_reading,
    lag(read_on) OVER (PARTITION BY meter_id ORDER BY read_on, period) AS prev_read_on,
    reading - lag(reading) OVER (PARTITION BY meter_id ORDER BY read_on, period) AS used,
    lag(reading, 1) OVER (PARTITION BY meter_id ORDER BY read_on, period)
      - lag(reading, 2) OVER (PARTITION BY meter_id ORDER BY read_on, period) AS used_1,
    lag(reading, 2) OVER (PARTITION BY meter_id ORDER BY read_on, period)
      - lag(reading, 3) OVER (PARTITION BY meter_id ORDER BY read_on, period) AS used_2,
    lead(reading) OVER (PARTITION BY meter_id ORDER BY read_on, period) - reading AS next_used
  FROM readings
),
typical AS (
  -- median as an aggregate joined back (not a window function: PostgreSQL has no median OVER)
  SELECT meter_id, median(used) AS typical_used FROM seq WHERE used > 0 GROUP BY meter_id
)
SELECT s.*, t.typical_used
FROM seq s
LEFT JOIN typical t ON t.meter_id = s.meter_id
