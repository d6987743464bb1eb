"""Line loss on every engine: the tiny utility balances to the same Wh on DuckDB, PostgreSQL and Spark (local).

The utility here has gap days (an area meter and a feeder head silent on one day, a direct customer on another), so
the complete-day rule of every level (可算日: supply meters, area meters on the sales side, customer coverage) runs
on every engine too."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from gridaudit.dataset import open_dataset
from gridaudit.engines.duckdb import DuckDBEngine
from gridaudit.lineloss.run import LossResult, run_loss

from .lineloss_tiny import without_days

# one partition and no adaptive planning keep each query on the tiny data to a few Spark tasks
SPARK_CONF = {
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "1",
    "spark.sql.adaptive.enabled": "false",
}


def _wh(result: LossResult, table: str) -> dict[tuple, tuple]:
    """(level, entity, period) → supply, sales, loss in whole Wh, the band, the days used, area-days measured."""
    return {
        (r["level"], r["entity_id"], r["period"]): (
            round(r["supply_kwh"] * 1000),
            round(r["sales_kwh"] * 1000),
            round(r["loss_kwh"] * 1000),
            r["band"],
            r["days_used"],
            r["area_days_measured"],
            r["meter_days_reporting"],
        )
        for r in getattr(result.balance, table).to_pylist()
    }


@pytest.fixture(scope="module")
def gappy(tiny, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny utility with MT_A2 and MF_F2 silent on 2025-01-05 and C_DIR on 2025-01-20."""
    root, _ = tiny
    first = without_days(root, tmp_path_factory.mktemp("gap1") / "ds", ["MT_A2", "MF_F2"], [date(2025, 1, 5)])
    return without_days(first, tmp_path_factory.mktemp("gap2") / "ds", ["MC_DIR"], [date(2025, 1, 20)])


@pytest.fixture(scope="module")
def reference(gappy) -> LossResult:
    result = run_loss(gappy, period="2025-01")
    left_out = {r["entity_id"]: r["left_out_days"] for r in result.balance.monthly.to_pylist()}
    assert left_out["F1"] == "2025-01-05,2025-01-20" and left_out["F2"] == "2025-01-05"  # the gaps are there
    return result


def _same(reference: LossResult, other: LossResult) -> None:
    for table in ("monthly", "window", "daily"):
        want, got = _wh(reference, table), _wh(other, table)
        assert got.keys() == want.keys(), table
        bad = {k: (want[k], got[k]) for k in want if want[k] != got[k]}
        assert not bad, (table, dict(list(bad.items())[:5]))
    assert sorted(other.findings.column("finding_id").to_pylist()) == sorted(
        reference.findings.column("finding_id").to_pylist()
    )
    assert other.findings.num_rows > 0
    rates = {(r["level"], r["entity_id"]): r["loss_rate_pct"] for r in reference.balance.window.to_pylist()}
    for r in other.balance.window.to_pylist():
        want = rates[(r["level"], r["entity_id"])]
        assert (r["loss_rate_pct"] is None) == (want is None)
        if want is not None:
            assert r["loss_rate_pct"] == pytest.approx(want, abs=1e-9)


def test_duckdb_engine_passed_in_gives_the_same_result_and_stays_open(gappy, reference):
    eng = DuckDBEngine(open_dataset(gappy))
    try:
        got = run_loss(gappy, period="2025-01", engine=eng)
        _same(reference, got)
        assert got.engine == "duckdb"
        assert "daily_usage" in eng.tables()  # the caller's engine is not closed by the run
    finally:
        eng.close()


def test_postgres_gives_the_same_wh(gappy, reference, pg_url):
    from gridaudit.engines.postgres import PostgresEngine

    ds = open_dataset(gappy)
    eng = PostgresEngine(pg_url, ds, schema="ll_test_engines")
    try:
        got = run_loss(ds, period="2025-01", engine=eng)
    finally:
        eng.close()
    assert got.engine == "postgres"
    _same(reference, got)


def test_spark_gives_the_same_wh(gappy, reference, spark_available):
    from gridaudit.engines.spark import SparkEngine, spark_session

    ds = open_dataset(gappy)
    eng = SparkEngine(ds, spark=spark_session("local[2]", SPARK_CONF))
    try:
        got = run_loss(ds, period="2025-01", engine=eng)
        # a run without mapping errors registers an empty table: it keeps its columns on Spark
        eng.register_table("ll_empty", pa.table({"customer_id": pa.array([], pa.string())}))
        assert eng.query("SELECT COUNT(customer_id) AS n FROM ll_empty").column("n").to_pylist() == [0]
    finally:
        eng.close()
    assert got.engine == "spark"
    _same(reference, got)


def test_cli_runs_loss_on_postgres(tiny, tmp_path, pg_url):
    import shutil

    from typer.testing import CliRunner

    from gridaudit.cli import app

    root, _ = tiny
    ds = tmp_path / "ds"
    shutil.copytree(root, ds)  # the run is appended to the dataset's findings store
    args = ["--lang", "en", "loss", "--dataset", str(ds), "--period", "2025-01", "--engine", "postgres", "--pg", pg_url]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "findings written to store run" in res.output
    bad = CliRunner().invoke(app, ["--lang", "en", "loss", "--dataset", str(ds), "--engine", "oracle"])
    assert bad.exit_code != 0 and "unknown engine 'oracle'" in bad.output
