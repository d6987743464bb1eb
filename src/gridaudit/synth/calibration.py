"""Realism check of residential daily use against real households (London LCL smart meters).

The same statistics are computed on both sides (one SQL over ``(household, day, kwh)``):
per-household coefficient of variation of daily kWh, lag-1 autocorrelation, median absolute
day-to-day log change, the share of zero days and the share of households with any zero day.
``docs/synth.md`` records the comparison; ``CALIBRATION_BANDS`` is what the tests hold synth to.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

# statistic -> (low, high) the synthetic residential customers must stay within (LCL values in docs/synth.md)
CALIBRATION_BANDS: dict[str, tuple[float, float]] = {
    "cv_median": (0.25, 0.50),
    "cv_p90": (0.45, 1.00),
    "ac1_median": (0.35, 0.80),
    "dlog_median": (0.10, 0.30),
    "zero_share": (0.001, 0.02),
}

_STATS = """
WITH s AS (SELECT hh, day, kwh, lag(kwh) OVER (PARTITION BY hh ORDER BY day) AS prev FROM ({src})),
h AS (
  SELECT hh, stddev(kwh) / nullif(avg(kwh), 0) AS cv, corr(kwh, prev) AS ac1,
         median(abs(ln((kwh + 0.1) / (prev + 0.1)))) AS dlog, avg(CASE WHEN kwh < 0.01 THEN 1 ELSE 0 END) AS z,
         avg(kwh) AS mean_kwh
  FROM s GROUP BY hh HAVING count(*) >= {min_days}
)
SELECT count(*) AS households, median(mean_kwh) AS mean_kwh_median, median(cv) AS cv_median,
       quantile_cont(cv, 0.1) AS cv_p10, quantile_cont(cv, 0.9) AS cv_p90, median(ac1) AS ac1_median,
       median(dlog) AS dlog_median, avg(z) AS zero_share, avg(CASE WHEN z > 0 THEN 1 ELSE 0 END) AS households_with_zero
FROM h
"""


def _stats(src: str, min_days: int) -> dict[str, float]:
    con = duckdb.connect()
    rel = con.sql(_STATS.format(src=src, min_days=min_days))
    row = rel.fetchall()[0]
    return {name: float(v) if v is not None else float("nan") for name, v in zip(rel.columns, row, strict=True)}


def lcl_stats(path: str | Path, min_days: int = 200) -> dict[str, float]:
    """Statistics of the LCL households (full days only: 48 half-hours)."""
    src = f"SELECT household_id AS hh, day, kwh FROM read_parquet('{path}') WHERE halfhours = 48"
    return _stats(src, min_days)


def synth_stats(out_dir: str | Path, min_days: int = 60) -> dict[str, float]:
    """Statistics of the residential customers of a synth output (all of them, irregular ones included)."""
    d = Path(out_dir)
    src = (
        "SELECT d.meter_id AS hh, d.day, d.kwh * m.multiplier AS kwh "
        f"FROM read_parquet('{d / 'daily_usage.parquet'}') d "
        f"JOIN read_parquet('{d / 'meters.parquet'}') m USING (meter_id) "
        f"JOIN read_parquet('{d / 'customers.parquet'}') c USING (customer_id) WHERE c.category = 'residential'"
    )
    return _stats(src, min_days)


def outside_bands(stats: dict[str, float]) -> dict[str, float]:
    """The statistics that fall outside ``CALIBRATION_BANDS`` (empty when all are inside)."""
    return {k: stats[k] for k, (lo, hi) in CALIBRATION_BANDS.items() if not lo <= stats[k] <= hi}
