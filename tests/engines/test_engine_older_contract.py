"""A dataset written under an older contract lacks optional columns added since: every engine shows them as
NULL, so rules that read them (e.g. bills.peak_kwh) run instead of failing."""

from __future__ import annotations

import pyarrow as pa
import pytest

from gridaudit.dataset import commit_version, stage_version
from gridaudit.engines.duckdb import DuckDBEngine

SQL = "SELECT bill_id, kwh, peak_kwh, valley_kwh FROM bills ORDER BY bill_id"


@pytest.fixture()
def old_dataset(tmp_path):
    staged = stage_version(tmp_path / "ds")
    bills = pa.table(  # the bills columns of the contract before time-of-use quantities existed
        {
            "bill_id": ["B1", "B2"],
            "customer_id": ["C1", "C2"],
            "period": ["2024-01", "2024-01"],
            "kwh": [100.0, 200.0],
            "tariff_code": ["R", "R"],
            "amount_yuan": [50.0, 100.0],
        }
    )
    staged.write_table("bills", bills)
    return commit_version(staged, {"sources": ["test"]})


def _check(out: pa.Table, typed: bool = True) -> None:
    assert out.column("bill_id").to_pylist() == ["B1", "B2"]
    assert out.column("peak_kwh").to_pylist() == [None, None]
    if typed:  # (PostgreSQL rows come back as Python values: an all-NULL column has no Arrow type)
        assert pa.types.is_floating(out.schema.field("valley_kwh").type)


def test_duckdb_shows_missing_contract_columns_as_null(old_dataset):
    eng = DuckDBEngine(old_dataset)
    try:
        _check(eng.query(SQL))
        assert "adjustment_order_id" in eng.query("SELECT * FROM bills").column_names
    finally:
        eng.close()


@pytest.mark.postgres
def test_postgres_shows_missing_contract_columns_as_null(old_dataset, pg_url):
    from gridaudit.engines.postgres import PostgresEngine

    eng = PostgresEngine(pg_url, dataset=old_dataset, schema="ga_test_engines_old")
    try:
        _check(eng.query(SQL), typed=False)
        assert eng.query("SELECT count(*) AS n FROM bills WHERE valley_kwh IS NULL").column("n").to_pylist() == [2]
    finally:
        eng.drop()
        eng.close()


@pytest.mark.spark
def test_spark_shows_missing_contract_columns_as_null(old_dataset, spark):
    from gridaudit.engines.spark import SparkEngine

    eng = SparkEngine(old_dataset, spark=spark)
    try:
        _check(eng.query(SQL))
    finally:
        eng.close()
