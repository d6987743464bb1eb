"""The catalog's derived tables computed without a global sort give the sorted definition's values (issue 18).

interval_meter_month finds each meter's curve step (the smallest gap between consecutive points) from per-day
aggregates and a grid check, and sorts the points only of meters off any grid. The curves below are built to
take every path: regular grids, missing points, a point off the grid, a repeated time on the candidate day,
one point a day, a single point, a candidate that is not whole seconds. The expected step is computed here
by sorting each meter's times, on DuckDB, PostgreSQL and Spark.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from gridaudit.dataset import Dataset, commit_version, stage_version
from gridaudit.engines.duckdb import DuckDBEngine
from gridaudit.rules import load_catalog
from gridaudit.rules.harness import arrow_rows
from gridaudit.rules.runner import materialise_derived

DAY = datetime(2024, 3, 4)


def _hours(day: int, start: float, stop: float, step_min: float, skip: tuple[float, ...] = ()) -> list[datetime]:
    """Times on ``day`` (days after DAY) from hour ``start`` to ``stop`` every ``step_min`` minutes."""
    out, h = [], start
    while h <= stop + 1e-9:
        if round(h, 6) not in skip:
            out.append(DAY + timedelta(days=day, hours=h))
        h += step_min / 60
    return out


CURVES: dict[str, list[datetime]] = {
    "REG60": _hours(0, 0, 23, 60) + _hours(1, 0, 23, 60) + _hours(3, 0, 23, 60),
    "MISS15": _hours(0, 0, 23.75, 15, skip=(5.0, 5.25)) + _hours(1, 0, 23.75, 15) + _hours(2, 0, 12, 15, skip=(3.5,)),
    "OFFGRID": _hours(0, 0, 23, 60) + _hours(1, 0, 9, 60) + [DAY + timedelta(days=1, hours=9, minutes=7)],
    # the candidate day (three points over two hours: a 1 h mean gap) repeats a time; the true step is 2 h
    "REPEAT": [DAY, DAY, DAY + timedelta(hours=2)] + _hours(1, 0, 22, 120),
    "DAILY": [DAY + timedelta(days=d, hours=h) for d, h in ((0, 12), (1, 9), (2, 20), (5, 1))],
    "SINGLE": [DAY + timedelta(hours=7)],
    "FRAC": [DAY, DAY + timedelta(seconds=10), DAY + timedelta(seconds=25)] + _hours(2, 0, 3, 60),
    "ACROSS": _hours(0, 20, 23.5, 30) + _hours(1, 0, 4, 30) + _hours(4, 0, 2, 30),
}


def sorted_step(times: list[datetime]) -> float | None:
    """The step by definition: the smallest positive gap between consecutive sorted times, in minutes."""
    ts = sorted(times)
    gaps = [(b - a).total_seconds() for a, b in zip(ts, ts[1:], strict=False) if b > a]
    return min(gaps) / 60.0 if gaps else None


def curve_dataset(root) -> Dataset:
    staged = stage_version(root)
    rows = [{"meter_id": m, "ts": t, "kwh": 0.5 + i % 7} for m, times in CURVES.items() for i, t in enumerate(times)]
    staged.write_table("interval_usage", arrow_rows("interval_usage", rows))
    return commit_version(staged, {"sources": ["test"]})


def derived(name: str):
    return next(d for r in load_catalog() for d in r.needs if d.id == name)


def steps_on(engine) -> dict[str, tuple[float | None, int]]:
    """(step_minutes, points_per_day) per meter of the built interval_meter_month (same on each month row)."""
    made = materialise_derived(engine, [derived("interval_meter_month")])
    assert made == {"interval_meter_month": ""}
    try:
        rows = engine.query(
            "SELECT meter_id, step_minutes, points_per_day, n_points FROM interval_meter_month"
        ).to_pylist()
    finally:
        engine.drop_materialised("interval_meter_month")
    out: dict[str, tuple[float | None, int]] = {}
    points: dict[str, int] = {}
    for r in rows:
        got = (None if r["step_minutes"] is None else float(r["step_minutes"]), int(r["points_per_day"]))
        assert out.setdefault(r["meter_id"], got) == got
        points[r["meter_id"]] = points.get(r["meter_id"], 0) + int(r["n_points"])
    assert points == {m: len(t) for m, t in CURVES.items()}
    return out


def expected() -> dict[str, tuple[float | None, int]]:
    per_day: dict[str, dict[object, int]] = {}
    for m, times in CURVES.items():
        for t in times:
            per_day.setdefault(m, {}).setdefault(t.date(), 0)
            per_day[m][t.date()] += 1
    return {m: (sorted_step(t), max(per_day[m].values())) for m, t in CURVES.items()}


def test_curves_take_every_path():
    want = expected()
    assert want["REG60"][0] == 60.0 and want["MISS15"][0] == 15.0
    assert want["OFFGRID"][0] == 7.0 and want["REPEAT"][0] == 120.0
    assert want["DAILY"][0] == 21 * 60.0 and want["SINGLE"][0] is None
    assert want["FRAC"][0] == pytest.approx(10 / 60) and want["ACROSS"][0] == 30.0


def test_interval_step_on_duckdb(tmp_path):
    engine = DuckDBEngine(curve_dataset(tmp_path / "ds"))
    try:
        got = steps_on(engine)
    finally:
        engine.close()
    assert got == expected()


@pytest.mark.postgres
def test_interval_step_on_postgres(tmp_path, pg_url):
    from gridaudit.engines.postgres import PostgresEngine

    engine = PostgresEngine(pg_url, dataset=curve_dataset(tmp_path / "ds"), schema="ga_test_derived_speed")
    try:
        got = steps_on(engine)
    finally:
        engine.close()
    assert got == expected()


@pytest.mark.spark
def test_interval_step_on_spark(tmp_path, spark):
    from gridaudit.engines.spark import SparkEngine

    engine = SparkEngine(curve_dataset(tmp_path / "ds"), spark=spark)
    try:
        got = steps_on(engine)
    finally:
        engine.close()
    assert got == expected()
