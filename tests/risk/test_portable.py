"""The feature SQL is portable: transpiled by sqlglot it runs on PostgreSQL and gives DuckDB's numbers."""

from datetime import date

import numpy as np
import pytest

from gridaudit.dataset import open_dataset
from gridaudit.engines.duckdb import DuckDBEngine
from gridaudit.risk.features import (
    FEATURES,
    Snapshot,
    compute_features,
    feature_sql,
    snapshots_table,
    split_ctes,
)
from gridaudit.risk.settings import RiskSettings

PG_TYPES = {"string": "TEXT", "date": "DATE", "float": "DOUBLE PRECISION", "int": "BIGINT", "timestamp": "TIMESTAMP"}


@pytest.mark.postgres
def test_features_match_on_postgres(sparse_ds, pg_url):
    import psycopg
    import sqlglot

    root, info = sparse_ds
    ds = open_dataset(root)
    as_of = date(2023, 10, 27)
    snaps = [Snapshot(c, as_of) for c in info["ids"]]
    settings = RiskSettings()
    expected = compute_features(ds, snaps, settings)
    eng = DuckDBEngine(ds)
    eng.con.register("snapshots", snapshots_table(snaps))
    sql = feature_sql(eng, settings, as_of, date(2021, 1, 1))
    eng.close()
    ctes, final = split_ctes(sql)
    schema = "risk_portable_test"
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        con.execute(f"CREATE SCHEMA {schema}")
        con.execute(f"SET search_path TO {schema}")
        tables = {t: ds.read(t) for t in ("customers", "meters", "daily_usage")}
        tables["snapshots"] = snapshots_table(snaps)
        for name, table in tables.items():
            cols = []
            for f in table.schema:
                kind = str(f.type)
                pg = (
                    "DATE"
                    if kind.startswith("date")
                    else "DOUBLE PRECISION"
                    if kind == "double"
                    else ("BIGINT" if kind.startswith("int") else "TEXT")
                )
                cols.append(f'"{f.name}" {pg}')
            con.execute(f'CREATE TABLE "{name}" ({", ".join(cols)})')
            with con.cursor().copy(f'COPY "{name}" FROM STDIN') as cp:
                for row in table.to_pylist():
                    cp.write_row(list(row.values()))
        try:
            for name, text in ctes:
                pg_sql = sqlglot.transpile(text, read="duckdb", write="postgres")[0]
                con.execute(f"CREATE TEMP TABLE {name} AS {pg_sql}")
            final_pg = sqlglot.transpile(final, read="duckdb", write="postgres")[0]
            cur = con.execute(final_pg)
            names = [d.name for d in cur.description]
            rows = cur.fetchall()
        finally:
            con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    got = {r[names.index("customer_id")]: r for r in rows}
    assert len(got) == len(expected)
    own = [f for f in FEATURES if f not in ("cat_code", "status_code") and f in names]
    assert len(own) == len(FEATURES) - 2
    for _, row in expected.iterrows():
        pg_row = got[row["customer_id"]]
        for f in own:
            a, b = row[f], pg_row[names.index(f)]
            b = np.nan if b is None else float(b)
            assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, rel=1e-6, abs=1e-9), (row["customer_id"], f)


@pytest.mark.postgres
def test_compute_features_on_the_postgres_engine_equal_duckdb(tmp_path, pg_url):
    """The whole feature pipeline through the protocol on PostgreSQL (dataset loaded into a schema; stages
    materialised as temporary tables; customer batches; events and tariffs present) gives DuckDB's features."""
    import os
    import uuid

    from gridaudit.engines import EngineSettings, open_engine

    from .risk_helpers import make_dataset

    root = tmp_path / "ds"
    info = make_dataset(root, n=40, days=300, seed=5, inspected_share=0.0, extras=True)
    ds = open_dataset(root)
    snaps = [Snapshot(c, d) for c in info["ids"] for d in (date(2023, 8, 1), date(2023, 10, 27))]
    settings = RiskSettings(feature_batch=30)  # three batches: the batched stages and the concatenation run too
    expected = compute_features(ds, snaps, settings)
    schema = f"risk_pg_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    eng = open_engine(ds, EngineSettings(kind="postgres", postgres_url=pg_url, postgres_schema=schema))
    try:
        assert eng.name == "postgres"
        got = compute_features(ds, snaps, settings, engine=eng)
        assert not {"snapshots", "cw", "snaps", "grid"} & eng.tables()  # stages and registered tables dropped
    finally:
        eng.close()
    assert list(got["customer_id"]) == list(expected["customer_id"])
    assert list(got["as_of"]) == list(expected["as_of"])
    assert expected["ev_count"].sum() > 0  # the meter-event stages ran
    for col in FEATURES:
        a, b = expected[col].to_numpy(dtype="float64"), got[col].to_numpy(dtype="float64")
        assert np.array_equal(np.isnan(a), np.isnan(b)), col
        assert np.allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=1e-9, atol=1e-9), col


@pytest.mark.spark
@pytest.mark.slow
def test_compute_features_on_spark_local_equal_duckdb(tmp_path, spark_available):
    """The feature pipeline through the protocol on Spark (local[2]) gives DuckDB's features (a tiny fixture:
    each stage is a cached Spark job, so this is a correctness check, not a speed figure)."""
    from gridaudit.engines.spark import SparkEngine, spark_session

    from .risk_helpers import make_dataset

    root = tmp_path / "ds"
    info = make_dataset(root, n=12, days=200, seed=5, inspected_share=0.0, extras=True)
    ds = open_dataset(root)
    snaps = [Snapshot(c, date(2023, 7, 10)) for c in info["ids"]]
    settings = RiskSettings()
    expected = compute_features(ds, snaps, settings)
    conf = {  # one partition and no adaptive planning keep each query on the tiny data to a few Spark tasks
        "spark.sql.shuffle.partitions": "1",
        "spark.default.parallelism": "1",
        "spark.sql.adaptive.enabled": "false",
    }
    eng = SparkEngine(ds, spark=spark_session("local[2]", conf))
    try:
        got = compute_features(ds, snaps, settings, engine=eng)
    finally:
        eng.close()
    assert list(got["customer_id"]) == list(expected["customer_id"])
    assert expected["anom_share"].notna().any()  # the 0/1 shares Spark once averaged as decimals to 5 places
    for col in FEATURES:
        a, b = expected[col].to_numpy(dtype="float64"), got[col].to_numpy(dtype="float64")
        assert np.array_equal(np.isnan(a), np.isnan(b)), col
        assert np.allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=1e-9, atol=1e-9), col
