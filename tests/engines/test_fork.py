"""``Engine.fork``: another thread's engine over the same dataset tables, not opened or loaded again (issue 18).

Each engine: the fork reads the dataset tables, its registered/materialised tables are its own, closing it
leaves the parent working, and it starts locked down when the parent is.
"""

from __future__ import annotations

import threading

import pyarrow as pa
import pytest

from gridaudit.dataset import commit_version, stage_version
from gridaudit.engines import Engine, EngineSettings, open_engine
from gridaudit.engines.guard import RefusedSQL
from gridaudit.rules.harness import arrow_rows

from .readings_data import readings_dataset

WAIT = 60  # seconds a thread may take before the test gives up (a bound, not a speed assertion)


@pytest.fixture()
def dataset(tmp_path):
    return readings_dataset(tmp_path / "ds", 5)


def _total(engine: Engine) -> float:
    return engine.query("SELECT sum(reading) AS s FROM readings WHERE reading > $lo", {"lo": 0}).column(0)[0].as_py()


def _fork_round_trip(parent: Engine) -> None:
    """What every engine's fork does, checked the same way."""
    want = _total(parent)
    fork = parent.fork()
    try:
        assert isinstance(fork, Engine) and fork is not parent and fork.name == parent.name
        assert fork.dataset is parent.dataset
        assert "readings" in fork.tables() and fork.columns("readings") == parent.columns("readings")
        assert _total(fork) == want
        fork.register_table("only_mine", pa.table({"meter_id": ["M2"], "w": [10.0]}))
        stage = "SELECT r.meter_id, r.reading * o.w AS x FROM readings r JOIN only_mine o USING (meter_id)"
        fork.materialise("my_stage", stage)
        assert fork.query("SELECT x FROM my_stage").column(0).to_pylist() == [20.0]
        assert {"only_mine", "my_stage"} <= fork.tables()
        assert "my_stage" not in parent.tables() and "only_mine" not in parent.tables()
    finally:
        fork.close()
    assert _total(parent) == want  # the parent is untouched by its fork's close
    assert "my_stage" not in parent.tables()


def test_duckdb_fork_is_a_cursor_with_its_own_tables(dataset):
    engine = open_engine(dataset)
    try:
        _fork_round_trip(engine)
        fork = engine.fork()
        fork.register_table("scratch", pa.table({"x": [1]}))
        with pytest.raises(Exception, match="scratch"):  # a registered table is the fork's own connection's
            engine.query("SELECT * FROM scratch")
        fork.close()
    finally:
        engine.close()


def test_duckdb_materialise_in_one_fork_keeps_the_other_forks_insertion_order(dataset):
    """A stage is written without insertion order; another fork querying while it is written keeps its order."""
    engine = open_engine(dataset)
    writer, reader = engine.fork(), engine.fork()
    seen: list[bool] = []

    def probe(x: int) -> int:  # runs inside the writer's CREATE TABLE AS: what does the reader see meanwhile?
        seen.append(reader.query("SELECT current_setting('preserve_insertion_order') AS v").column("v")[0].as_py())
        return x

    try:
        writer.con.create_function("probe", probe, ["BIGINT"], "BIGINT")
        writer.materialise("stage_with_probe", "SELECT probe(1) AS v")
        assert writer.query("SELECT v FROM stage_with_probe").column("v").to_pylist() == [1]
        assert seen == [True]
        setting = "SELECT current_setting('preserve_insertion_order') AS v"
        assert writer.query(setting).column("v")[0].as_py() is True  # and the writer's own is back afterwards
    finally:
        writer.close()
        reader.close()
        engine.close()


def test_duckdb_forks_on_many_threads_share_one_engine(dataset):
    engine = open_engine(dataset)
    want = _total(engine)
    got: list[object] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        for _ in range(5):
            try:
                fork = engine.fork()
                try:
                    fork.materialise("stage", "SELECT reading FROM readings WHERE reading > $lo", {"lo": 0})
                    value: object = fork.query("SELECT sum(reading) AS s FROM stage").column(0)[0].as_py()
                finally:
                    fork.close()
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                value = exc
            with lock:
                got.append(value)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    try:
        assert got == [want] * 30, got[:5]
    finally:
        engine.close()


def test_duckdb_fork_of_a_locked_engine_is_locked(dataset, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n", "utf-8")
    engine = open_engine(dataset)
    try:
        engine.lock_down()
        fork = engine.fork()
        try:
            assert _total(fork) == 15.0
            with pytest.raises(Exception, match="(?i)permission|disabled|access"):
                fork.query(f"SELECT * FROM read_csv('{outside}')")
        finally:
            fork.close()
    finally:
        engine.close()


@pytest.mark.postgres
def test_postgres_fork_is_a_new_connection_on_the_same_schema_not_a_reload(dataset, pg_url):
    settings = EngineSettings(kind="postgres", postgres_url=pg_url, postgres_schema="ga_test_fork", threads=2)
    engine = open_engine(dataset, settings)
    try:
        oid = "SELECT 'readings'::regclass::oid::bigint AS o"  # a reload would re-create the table: a new oid
        before = engine.query(oid).column(0)[0].as_py()
        _fork_round_trip(engine)
        fork = engine.fork()
        try:
            assert fork.query(oid).column(0)[0].as_py() == before
            pid = "SELECT pg_backend_pid() AS p"
            assert fork.query(pid).column(0)[0].as_py() != engine.query(pid).column(0)[0].as_py()
        finally:
            fork.close()
        assert engine.query(oid).column(0)[0].as_py() == before  # the fork's close dropped nothing
        engine.lock_down()
        locked = engine.fork()
        try:
            with pytest.raises(RefusedSQL, match="pg_read_file"):
                locked.query("SELECT pg_read_file('/etc/passwd') AS x")
        finally:
            locked.close()
    finally:
        engine.close()


@pytest.mark.postgres
def test_postgres_forks_reuse_pooled_connections_reset_between_uses(dataset, pg_url):
    """A web request's fork takes a pooled connection instead of a new server backend; what one fork left in
    it (temporary tables, a failed or cancelled query) never reaches the next, and the settings stay."""
    settings = EngineSettings(kind="postgres", postgres_url=pg_url, postgres_schema="ga_test_fork_pool", threads=2)
    engine = open_engine(dataset, settings)
    pid = "SELECT pg_backend_pid() AS p"
    workers = "SELECT current_setting('max_parallel_workers_per_gather') AS w"
    try:
        first = engine.fork()
        first_pid = first.query(pid).column(0)[0].as_py()
        first.materialise("left_behind", "SELECT meter_id FROM readings")
        with pytest.raises(Exception, match="(?i)division by zero"):
            first.query("SELECT 1 / (count(*) - count(*)) AS x FROM readings")
        first.close()
        pids = {first_pid}
        for _ in range(10):  # one request after another: a few pooled backends, not a new one each time
            fork = engine.fork()
            pids.add(fork.query(pid).column(0)[0].as_py())
            fork.close()
        assert len(pids) <= 2
        second = engine.fork()
        try:
            assert "left_behind" not in second.tables()
            assert (
                second.query("SELECT count(*) AS n FROM pg_tables WHERE tablename = 'left_behind'").column(0)[0].as_py()
                == 0
            )
            assert second.query(workers).column(0)[0].as_py() == "1"  # threads=2: the cap survives the reset
            assert _total(second) == 15.0
            third = engine.fork()  # two forks at once: two connections
            try:
                assert third.query(pid).column(0)[0].as_py() != second.query(pid).column(0)[0].as_py()
                assert _total(third) == 15.0
            finally:
                third.close()
        finally:
            second.close()
        lock = threading.Barrier(4)
        totals: list[float] = []

        def request() -> None:
            lock.wait(timeout=WAIT)
            fork = engine.fork()
            try:
                totals.append(_total(fork))
            finally:
                fork.close()

        threads = [threading.Thread(target=request) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=WAIT)
        assert totals == [15.0] * 4
    finally:
        engine.close()
    assert engine._pool is None  # the pool closed with the engine


@pytest.mark.spark
def test_spark_fork_shares_the_session_and_the_dataset_views(dataset, spark):
    from gridaudit.engines.spark import SparkEngine

    engine = SparkEngine(dataset, spark=spark)
    try:
        _fork_round_trip(engine)
        fork = engine.fork()
        assert fork.spark is engine.spark and fork._group != engine._group  # its own job group to cancel
        fork.close()
        assert "readings" in engine.tables() and _total(engine) == 15.0  # the dataset views stay
        engine.lock_down()
        locked = engine.fork()
        with pytest.raises(RefusedSQL, match="reflect"):
            locked.query("SELECT reflect('java.lang.System', 'getenv', 'HOME') AS x")
        locked.close()
        assert engine.spark.conf.get("spark.sql.runSQLOnFiles") == "false"  # a fork's close leaves the parent locked
        assert spark.conf.get("spark.sql.runSQLOnFiles") == "true"  # the caller's session is not locked by it
    finally:
        engine.close()
    assert engine.spark.conf.get("spark.sql.runSQLOnFiles") == "true"


def test_two_spark_engines_on_one_context_keep_their_own_views(dataset, spark, tmp_path):
    """One Spark context per process: a second engine (another dataset) neither sees nor drops the first's views,
    and each engine's session keeps the caller's SQL settings (time zone, shuffle partitions)."""
    from gridaudit.engines.spark import SparkEngine

    staged = stage_version(tmp_path / "other")
    rows = [{"meter_id": "X", "period": "2024-01", "read_on": "2024-01-15", "reading": 1.0, "read_type": "actual"}]
    staged.write_table("readings", arrow_rows("readings", rows))
    other = commit_version(staged, {"sources": ["test"]})
    first, second = SparkEngine(dataset, spark=spark), SparkEngine(other, spark=spark)
    try:
        assert _total(first) == 15.0 and _total(second) == 1.0
        for key in ("spark.sql.session.timeZone", "spark.sql.shuffle.partitions"):
            assert first.spark.conf.get(key) == second.spark.conf.get(key) == spark.conf.get(key)
        first.close()
        assert _total(second) == 1.0 and "readings" in second.tables()
    finally:
        first.close()
        second.close()
