"""Every engine is an ``Engine`` (real instances), opened by ``open_engine`` from one ``EngineSettings``."""

from __future__ import annotations

import threading

import pyarrow as pa
import pytest

from gridaudit.dataset import commit_version, stage_version
from gridaudit.engines import Engine, EngineError, EngineSettings, open_engine
from gridaudit.engines.guard import RefusedSQL
from gridaudit.engines.spark import jvm_memory, spark_session_conf, table_location
from gridaudit.rules.harness import arrow_rows

PROTOCOL_METHODS = (
    "tables",
    "columns",
    "query",
    "register_table",
    "materialise",
    "drop_materialised",
    "lock_down",
    "interrupt",
    "fork",
    "close",
)


@pytest.fixture()
def dataset(tmp_path):
    staged = stage_version(tmp_path / "ds")
    rows = [
        {"meter_id": "M1", "period": "2024-01", "read_on": "2024-01-15", "reading": 150.0, "read_type": "actual"},
        {"meter_id": "M2", "period": "2024-01", "read_on": "2024-01-15", "reading": 50.0, "read_type": "actual"},
    ]
    staged.write_table("readings", arrow_rows("readings", rows))
    return commit_version(staged, {"sources": ["test"]})


def _exercise(engine: Engine) -> None:
    """The protocol's round trip, the same on every engine."""
    assert isinstance(engine, Engine)
    assert "readings" in engine.tables()
    assert {"meter_id", "reading", "read_on"} <= set(engine.columns("readings"))
    engine.register_table("extra", pa.table({"meter_id": ["M1"], "w": [2.0]}))
    engine.lock_down()  # stages still work after lock-down; only untrusted SQL is restricted
    stage = "SELECT r.meter_id, r.reading * e.w AS x FROM readings r JOIN extra e USING (meter_id)"
    engine.materialise("stage_a", stage)
    assert "stage_a" in engine.tables()
    out = engine.query("SELECT meter_id, x FROM stage_a WHERE x > $min", {"min": 1.0})
    assert out.to_pylist() == [{"meter_id": "M1", "x": 300.0}]
    engine.drop_materialised("stage_a")
    engine.drop_materialised("extra")
    assert "stage_a" not in engine.tables() and "extra" not in engine.tables()
    engine.interrupt()  # nothing runs: a no-op, not an error
    assert engine.query("SELECT count(*) AS n FROM readings").column("n").to_pylist() == [2]


def test_duckdb_is_an_engine(dataset):
    engine = open_engine(dataset)
    try:
        assert engine.name == "duckdb"
        _exercise(engine)
    finally:
        engine.close()


def test_duckdb_stages_are_written_without_insertion_order_and_the_setting_comes_back(dataset):
    """A stage is a set: DuckDB writes it without preserving insertion order (a parallel CREATE TABLE AS that
    keeps order buffers in memory; 1 M-customer line loss ran out of it), and the connection's setting is back
    afterwards (also when the stage fails), so queries of the dataset keep DuckDB's default."""
    engine = open_engine(dataset)
    setting = "SELECT current_setting('preserve_insertion_order') AS v"
    try:
        engine.materialise("stage_b", "SELECT meter_id, reading FROM readings")
        assert sorted(engine.query("SELECT meter_id FROM stage_b").column("meter_id").to_pylist()) == ["M1", "M2"]
        assert engine.query(setting).column("v").to_pylist() == [True]
        with pytest.raises(Exception, match="no_such_column"):
            engine.materialise("stage_c", "SELECT no_such_column FROM readings")
        assert engine.query(setting).column("v").to_pylist() == [True]
        engine.lock_down()  # settings are locked: the stage is still written (with the order kept)
        engine.materialise("stage_d", "SELECT meter_id FROM readings")
        assert engine.query("SELECT count(*) AS n FROM stage_d").column("n").to_pylist() == [2]
    finally:
        engine.close()


def test_duckdb_spills_into_a_folder_of_its_own_not_the_working_directory(dataset, tmp_path, monkeypatch):
    """DuckDB's default spill folder is ".tmp" in the working directory (≈ 14 GB at 1 M customers' line loss):
    the engine spills under the system temp folder instead, in a folder it removes on close (a fork's close
    leaves it to its parent), and a spilling query under a small memory limit still runs, also locked down."""
    import tempfile
    from pathlib import Path

    monkeypatch.chdir(tmp_path)
    engine = open_engine(dataset, EngineSettings(memory_limit="64MB", threads=1))
    spill = Path(engine.query("SELECT current_setting('temp_directory') AS d").column("d")[0].as_py())
    assert spill.is_dir() and spill.parent == Path(tempfile.gettempdir()) and spill.name.startswith("gridaudit-")
    try:
        engine.lock_down()
        big = "SELECT i, md5(CAST(i AS VARCHAR)) AS h FROM range(3000000) t(i) ORDER BY h"
        engine.materialise("sorted_stage", big)  # larger than 64 MB: spills
        assert engine.query("SELECT count(*) AS n FROM sorted_stage").column("n").to_pylist() == [3_000_000]
        fork = engine.fork()
        fork.close()
        assert spill.is_dir()
    finally:
        engine.close()
    assert not spill.exists() and not (tmp_path / ".tmp").exists()


@pytest.mark.postgres
def test_postgres_is_an_engine_and_refuses_server_files_when_locked(dataset, pg_url):
    settings = EngineSettings(kind="postgres", postgres_url=pg_url, postgres_schema="ga_test_protocol", threads=2)
    engine = open_engine(dataset, settings)
    try:
        assert engine.name == "postgres"
        _exercise(engine)
        with pytest.raises(RefusedSQL, match="pg_read_file"):
            engine.query("SELECT pg_read_file('/etc/passwd') AS x")
        with pytest.raises(RefusedSQL, match="one SELECT"):
            engine.query("DELETE FROM readings")
    finally:
        engine.close()


@pytest.mark.postgres
def test_postgres_interrupt_stops_a_running_query(dataset, pg_url):
    import psycopg

    settings = EngineSettings(kind="postgres", postgres_url=pg_url, postgres_schema="ga_test_protocol_int")
    engine = open_engine(dataset, settings)
    try:
        timer = threading.Timer(0.5, engine.interrupt)
        timer.start()
        with pytest.raises(psycopg.errors.QueryCanceled):
            engine.query("SELECT count(*) AS n FROM generate_series(1, 2000000000) g")
        timer.join()
    finally:
        engine.close()


@pytest.mark.spark
def test_spark_is_an_engine_and_refuses_reflection_when_locked(dataset, spark):
    from gridaudit.engines.spark import SparkEngine

    engine = SparkEngine(dataset, spark=spark)
    try:
        assert engine.name == "spark"
        _exercise(engine)
        with pytest.raises(RefusedSQL, match="reflect"):
            engine.query("SELECT reflect('java.lang.System', 'getenv', 'HOME') AS x")
        with pytest.raises(RefusedSQL, match="file"):
            engine.query(f'SELECT * FROM parquet."{dataset.table_glob("readings")}"')
    finally:
        engine.close()
    assert spark.conf.get("spark.sql.runSQLOnFiles") == "true"  # close gave the shared session back


def test_settings_refuse_what_cannot_work(dataset):
    with pytest.raises(EngineError, match="unknown engine|未知引擎"):
        EngineSettings(kind="oracle")
    with pytest.raises(EngineError, match="--pg"):
        EngineSettings(kind="postgres")
    with pytest.raises(EngineError, match="threads|线程"):
        EngineSettings(threads=0)
    with pytest.raises(EngineError, match="dataset|数据集"):
        open_engine(None)


def test_spark_settings_follow_the_master():
    master, conf = spark_session_conf(EngineSettings(kind="spark", threads=2, memory_limit="1.5GB"))
    assert master == "local[2]" and conf["spark.driver.memory"] == "1536m"
    assert conf["spark.sql.adaptive.enabled"] == "false"  # one machine: no adaptive re-planning of small stages
    _, conf = spark_session_conf(EngineSettings(kind="spark", spark_conf={"spark.sql.adaptive.enabled": "true"}))
    assert conf["spark.sql.adaptive.enabled"] == "true"  # the user's setting wins
    master, conf = spark_session_conf(
        EngineSettings(kind="spark", spark_master="spark://10.0.0.5:7077", threads=8, memory_limit="4GB")
    )
    assert master == "spark://10.0.0.5:7077"
    assert conf["spark.cores.max"] == "8" and conf["spark.executor.memory"] == "4g"
    assert "spark.driver.memory" not in conf
    assert "spark.sql.adaptive.enabled" not in conf  # a cluster keeps Spark's default
    with pytest.raises(EngineError, match="memory"):
        jvm_memory("lots")


def test_spark_reads_the_dataset_under_its_data_root(dataset):
    local = table_location(dataset, "readings")
    assert local == dataset.table_glob("readings")
    remote = table_location(dataset, "readings", "hdfs://nn:8020/gridaudit/ds/")
    assert remote.startswith("hdfs://nn:8020/gridaudit/ds/versions/")
    assert remote.endswith(local[len(str(dataset.root)) :])
