"""Residential realism: synth stays within the documented bands around the real LCL households."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridaudit.synth import SynthConfig, generate
from gridaudit.synth.calibration import CALIBRATION_BANDS, lcl_stats, outside_bands, synth_stats


@pytest.fixture(scope="module")
def year_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cal")
    generate(SynthConfig(customers=1500, months=12, start="2024-01", seed=9), out)
    return out


def test_synth_residential_within_bands(year_out: Path) -> None:
    stats = synth_stats(year_out)
    assert stats["households"] > 1000
    assert outside_bands(stats) == {}


def test_bands_hold_the_real_households(shared_data: Path) -> None:
    # the bands are centred on the real data: LCL itself must fall inside them
    stats = lcl_stats(shared_data / "lcl" / "lcl_daily_dev.parquet")
    assert stats["households"] > 2000
    assert outside_bands(stats) == {}
    assert set(CALIBRATION_BANDS) <= set(stats)


def test_seasons_weekdays_and_spring_festival(year_out: Path) -> None:
    import duckdb

    con = duckdb.connect()
    d = year_out
    rows = dict(
        con.sql(f"""
        SELECT CASE WHEN month(day) IN (7, 8) THEN 'summer' WHEN month(day) IN (4, 5, 10) THEN 'mild'
                    WHEN day BETWEEN DATE '2024-02-08' AND DATE '2024-02-20' THEN 'spring_festival' END AS season,
               sum(kwh * m.multiplier) / count(DISTINCT day) AS per_day
        FROM '{d}/daily_usage.parquet' u JOIN '{d}/meters.parquet' m USING (meter_id)
        JOIN '{d}/customers.parquet' c USING (customer_id)
        WHERE c.category IN ('industrial', 'commercial', 'residential') GROUP BY 1
    """).fetchall()
    )
    assert rows["summer"] > 1.15 * rows["mild"]  # air conditioning
    assert rows["spring_festival"] < 0.9 * rows["mild"]  # factories and shops close
