"""PostgreSQL and Spark engines on a small dataset: loading, parameters, read-only, replicas."""

from __future__ import annotations

from datetime import date

import pytest

from gridaudit.dataset import commit_version, stage_version
from gridaudit.rules.harness import arrow_rows

SQL = (
    "SELECT meter_id, reading, read_on FROM readings WHERE reading > $limit "
    "AND ($period IS NULL OR period = $period) ORDER BY meter_id"
)


@pytest.fixture()
def dataset(tmp_path):
    staged = stage_version(tmp_path / "ds")
    rows = [
        {"meter_id": "M1", "period": "2024-01", "read_on": "2024-01-15", "reading": 150.0, "read_type": "actual"},
        {"meter_id": "M2", "period": "2024-01", "read_on": "2024-01-15", "reading": 50.0, "read_type": "actual"},
        {"meter_id": "M3", "period": "2024-02", "read_on": "2024-02-15", "reading": 250.0, "read_type": "actual"},
    ]
    staged.write_table("readings", arrow_rows("readings", rows))
    return commit_version(staged, {"sources": ["test"]})


@pytest.mark.postgres
def test_postgres_load_query_readonly_and_replica(dataset, pg_url, monkeypatch):
    import psycopg

    from gridaudit.engines import postgres
    from gridaudit.engines.postgres import PostgresEngine

    monkeypatch.setattr(postgres, "BATCH_ROWS", 2)  # 3 rows → two COPY batches, one CSV header

    eng = PostgresEngine(pg_url, dataset=dataset, schema="ga_test_engines_pg")
    try:
        assert "readings" in eng.tables()
        out = eng.query(SQL, {"limit": 100.0, "period": None})
        assert out.column("meter_id").to_pylist() == ["M1", "M3"]
        assert out.column("read_on").to_pylist()[0] == date(2024, 1, 15)
        out = eng.query(SQL, {"limit": 100.0, "period": "2024-02"})
        assert out.column("meter_id").to_pylist() == ["M3"]
        # a value that would be SQL if pasted is just a string when bound
        out = eng.query("SELECT meter_id FROM readings WHERE period = $p", {"p": "2024-01' OR '1'='1"})
        assert out.num_rows == 0
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            eng.query("SELECT meter_id FROM readings FOR UPDATE")
        # a second engine reads the same schema as an existing replica, without loading
        replica = PostgresEngine(pg_url, schema="ga_test_engines_pg")
        try:
            assert replica.query("SELECT count(*) AS n FROM readings").column("n").to_pylist() == [3]
        finally:
            replica.close()
    finally:
        eng.close()
    with psycopg.connect(pg_url) as con:
        left = con.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'ga_test_engines_pg'")
        assert left.fetchone() is None  # the loaded schema is dropped on close


@pytest.mark.spark
def test_spark_query_with_named_params(dataset, spark):
    import pyarrow as pa

    from gridaudit.engines.spark import SparkEngine

    eng = SparkEngine(dataset, spark=spark)
    try:
        out = eng.query(SQL, {"limit": 100.0, "period": None})
        assert out.column("meter_id").to_pylist() == ["M1", "M3"]
        out = eng.query(SQL, {"limit": 100.0, "period": "2024-02"})
        assert out.column("meter_id").to_pylist() == ["M3"]
        eng.register_table("extra", pa.table({"a": [1, 2]}))
        assert eng.query("SELECT sum(a) AS s FROM extra").column("s").to_pylist() == [3]
    finally:
        eng.close()
    assert not spark.catalog.tableExists("readings")
