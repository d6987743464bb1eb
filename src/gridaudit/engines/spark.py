"""Spark SQL engine (pyspark; ``local[*]`` by default, or a cluster master): temp views over the dataset's Parquet.

Queries are DuckDB-dialect SQL transpiled by sqlglot; ``$name`` parameters become Spark named
parameters (``spark.sql(sql, args=...)``), never pasted into the text. On a cluster the executors read the
Parquet files themselves: the dataset must be on a path every node reads (a shared file system mounted at
the same place, or HDFS/S3 given as ``data_root``; docs/engines.md).
"""

from __future__ import annotations

import itertools
import os
import re
import sys
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from gridaudit.contract import load_contract
from gridaudit.dataset import Dataset
from gridaudit.engines.base import EngineError, quote_table
from gridaudit.engines.guard import SPARK_DENIED, SPARK_DENIED_PREFIXES, check_locked
from gridaudit.engines.transpile import transpile
from gridaudit.i18n import both

if TYPE_CHECKING:
    from gridaudit.engines.base import EngineSettings

# Spark SQL type names of the contract column types (for NULL columns a dataset lacks).
SPARK_TYPES = {
    "string": "string",
    "int": "bigint",
    "float": "double",
    "date": "date",
    "timestamp": "timestamp",
    "period": "string",
    "bool": "boolean",
}

SPARK_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.memory": "2g",
    "spark.sql.ansi.enabled": "false",
}


_GROUPS = itertools.count(1)


def spark_session_conf(settings: EngineSettings) -> tuple[str, dict[str, str]]:
    """The master URL and Spark settings an :class:`~gridaudit.engines.EngineSettings` asks for.

    ``threads`` becomes ``local[N]`` in local mode and ``spark.cores.max`` on a cluster; ``memory_limit``
    the driver's memory in local mode (where the driver runs the tasks) and the executors' on a cluster.
    Executors and Python workers use this interpreter (``spark.pyspark.python``) unless ``spark_conf`` says
    otherwise.
    """
    master = settings.spark_master
    local = master.startswith("local")
    conf: dict[str, str] = {"spark.pyspark.python": os.environ.get("PYSPARK_PYTHON", sys.executable)}
    if settings.threads and master in ("local", "local[*]"):
        master = f"local[{int(settings.threads)}]"
    elif settings.threads and not local:
        conf["spark.cores.max"] = str(int(settings.threads))
    if settings.memory_limit:
        conf["spark.driver.memory" if local else "spark.executor.memory"] = jvm_memory(settings.memory_limit)
    if local:  # one machine's data: adaptive re-planning of every small stage cost more than it saved (a rule at
        # 1 k customers: 130 s with it, 63 s without; BENCHMARKS.md); a cluster keeps Spark's default
        conf["spark.sql.adaptive.enabled"] = "false"
    conf.update(settings.spark_conf)
    return master, conf


_MEMORY = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?", re.IGNORECASE)
_KIB = {"": 1 / 1024, "k": 1, "m": 1024, "g": 1024**2, "t": 1024**3}


def jvm_memory(text: str) -> str:
    """A memory limit as DuckDB takes it (``4GB``, ``512MiB``, ``1.5g``) in the JVM spelling Spark takes (KiB)."""
    match = _MEMORY.fullmatch(text.strip())
    if not match:
        raise EngineError(both(f"无法识别的内存上限：{text!r}", f"cannot read the memory limit {text!r} (e.g. 4GB)"))
    kib = max(int(float(match.group(1)) * _KIB[match.group(2).lower()]), 1)
    for unit, size in (("g", 1024**2), ("m", 1024)):
        if kib % size == 0:
            return f"{kib // size}{unit}"
    return f"{kib}k"


def spark_session(master: str = "local[*]", conf: dict[str, str] | None = None) -> Any:
    """Get or create a SparkSession configured for gridaudit (no UI, few shuffle partitions, UTC).

    A session already running in this process is reused; asking for a different master then is an error
    (Spark keeps one context per process).
    """
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName("gridaudit")
    for key, value in {**SPARK_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    running = spark.sparkContext.master
    if running != master:
        raise EngineError(
            both(
                f"本进程已有 Spark 会话（master {running}），不能再连接 {master}",
                f"this process already runs a Spark session on {running}; it cannot also use {master}",
            )
        )
    return spark


def own_session(spark: Any) -> Any:
    """A new session on ``spark``'s context with its runtime SQL settings: its own temp views and lock-down, so two
    engines on one Spark context (one per process) never see or drop each other's views; the context, its
    executors and cached data stay shared."""
    session = spark.newSession()
    for key, value in spark.conf.getAll.items():
        if spark.conf.isModifiable(key):
            session.conf.set(key, value)
    return session


class SparkEngine:
    """Spark SQL over a dataset version; pass ``spark`` to share one session (tests, notebooks).

    ``data_root`` is the dataset folder as the executors see it (``hdfs://nn/gridaudit/ds``,
    ``s3a://bucket/ds``, ``file:///mnt/shared/ds``): each table's path under the local dataset folder is
    read from there instead. The local folder still supplies the manifest (which tables, which version).
    """

    name = "spark"

    def __init__(
        self, dataset: Dataset, spark: Any = None, master: str = "local[*]", data_root: str | None = None
    ) -> None:
        self._setup(dataset, own_session(spark or spark_session(master)))
        self._owner = True  # this engine made the dataset views (its forks share them)
        from pyspark.sql import functions as F

        contract = load_contract()
        for table in dataset.tables():
            df = self.spark.read.parquet(table_location(dataset, table, data_root))
            spec = contract.tables.get(table)
            for col in spec.absent(df.columns) if spec else []:  # a dataset from an older contract
                df = df.withColumn(col.name, F.lit(None).cast(SPARK_TYPES[col.type]))
            df.createOrReplaceTempView(table)
            self._dataset_views.add(table)

    def _setup(self, dataset: Dataset, spark: Any, dataset_views: set[str] | None = None, locked: bool = False) -> None:
        self.dataset = dataset
        self.spark = spark
        self._dataset_views: set[str] = set() if dataset_views is None else dataset_views
        self._views: set[str] = set()  # registered and materialised here
        self._cached: dict[str, Any] = {}
        self._locked = locked
        self._locked_here = False  # this engine switched runSQLOnFiles off (and gives it back on close)
        self._files_before = "true"
        self._group = f"gridaudit-{os.getpid()}-{next(_GROUPS)}"

    def fork(self) -> SparkEngine:
        """An engine on the same session and dataset views (nothing is read again), with its own job group
        (:meth:`interrupt` cancels only its jobs); closing it drops only the views it registered or
        materialised. Temp views live in the session: forks that run at once must use different stage names.
        A fork of a locked engine is locked (the session's setting is shared)."""
        child = SparkEngine.__new__(SparkEngine)
        child._setup(self.dataset, self.spark, dataset_views=self._dataset_views, locked=self._locked)
        child._owner = False
        return child

    def tables(self) -> set[str]:
        """Names of the dataset views and of the views this engine registered or materialised."""
        return self._dataset_views | self._views

    def columns(self, table: str) -> list[str]:
        """Column names of one of this engine's views (from the plan: no Spark job runs)."""
        return list(self.spark.table(quote_table(table).replace('"', "`")).columns)

    def register_table(self, name: str, table: pa.Table) -> None:
        """Expose an Arrow table as temp view ``name`` (an empty one keeps its columns and types)."""
        if table.num_rows == 0:  # Spark cannot infer a schema from no rows: give it the Arrow one
            from pyspark.sql.pandas.types import from_arrow_schema

            frame = self.spark.createDataFrame([], from_arrow_schema(table.schema))
        else:
            frame = self.spark.createDataFrame(table.to_pandas())
        frame.createOrReplaceTempView(name)
        self._views.add(name)

    def materialise(self, name: str, sql: str, params: dict[str, Any] | None = None) -> None:
        """Run one DuckDB-dialect SELECT (named ``params``) and expose its rows as temp view ``name``.

        The rows are written once to the executors' local disks (a local checkpoint, ``DISK_ONLY``) and the view
        reads them back as a leaf: its plan does not carry the plans of the stages it was built from. With
        ``.cache()`` every later plan embedded every earlier stage's plan (a stage once per path that reaches
        it), and one risk feature run at 10 k customers left 2.6 GB of the 4 GB driver heap in use after a
        full GC with every cache dropped; with checkpoints 149 MB (issue 18; docs/engines.md)."""
        if self._locked:
            check_locked(sql, "Spark", SPARK_DENIED, SPARK_DENIED_PREFIXES)
        from pyspark import StorageLevel

        params = params or {}
        query = self.spark.sql(transpile(sql, "spark", params), args=params)
        frame = self._in_group(lambda: query.localCheckpoint(eager=True, storageLevel=StorageLevel.DISK_ONLY))
        frame.createOrReplaceTempView(name)
        self._views.add(name)
        self._cached[name] = frame

    def drop_materialised(self, name: str) -> None:
        """Drop a view made by :meth:`materialise` and free its rows."""
        frame = self._cached.pop(name, None)
        if frame is not None:
            free_checkpoint(frame)
        self.spark.catalog.dropTempView(name)
        self._views.discard(name)

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
        """Run DuckDB-dialect ``sql`` transpiled to Spark SQL with named parameters; rows as Arrow."""
        params = params or {}
        if self._locked:
            check_locked(sql, "Spark", SPARK_DENIED, SPARK_DENIED_PREFIXES)
        spark_sql = transpile(sql, "spark", params)
        frame = self.spark.sql(spark_sql, args=params)
        result: pa.Table = self._in_group(frame.toArrow)
        return result

    def _in_group(self, action: Any) -> Any:
        """Run a Spark action under this engine's job group, so :meth:`interrupt` can cancel it."""
        sc = self.spark.sparkContext
        sc.setJobGroup(self._group, "gridaudit query", interruptOnCancel=True)
        try:
            return action()
        finally:
            sc.setLocalProperty("spark.jobGroup.id", None)  # None removes it

    def lock_down(self) -> None:
        """Refuse, from now on, SQL that is not one SELECT, reads files directly or calls Java (``reflect``).

        Spark SQL reaches only the temp views and the session's catalog; reading ``parquet.`path``` is
        also switched off (``spark.sql.runSQLOnFiles``).
        """
        if not self._locked:
            self._files_before = self.spark.conf.get("spark.sql.runSQLOnFiles", "true")
            self._locked_here = True
        self.spark.conf.set("spark.sql.runSQLOnFiles", "false")
        self._locked = True

    def interrupt(self) -> None:
        """Cancel the Spark jobs of this engine's running query (from another thread)."""
        self.spark.sparkContext.cancelJobGroup(self._group)

    def close(self) -> None:
        """Drop this engine's temp views (a fork: only those it made) and undo its lock-down (the shared session
        stays up)."""
        for name in list(self._cached):
            free_checkpoint(self._cached.pop(name))
        for view in self._views | (self._dataset_views if self._owner else set()):
            self.spark.catalog.dropTempView(view)
        self._views.clear()
        if self._owner:
            self._dataset_views.clear()
        if self._locked_here:  # the session may be shared: give it back as it was
            self.spark.conf.set("spark.sql.runSQLOnFiles", self._files_before)
            self._locked_here = False
        self._locked = False


def free_checkpoint(frame: Any) -> None:
    """Remove the blocks of a frame made by ``localCheckpoint`` now (not when the JVM collects its RDD).

    Its plan is one ``LogicalRDD`` over the checkpointed RDD; unpersisting that RDD deletes the blocks."""
    plan = frame._jdf.queryExecution().logical()
    if plan.getClass().getSimpleName() == "LogicalRDD":
        plan.rdd().unpersist(False)


def table_location(dataset: Dataset, table: str, data_root: str | None = None) -> str:
    """Where Spark reads ``table``: its local path or glob, or the same path under ``data_root``."""
    local = dataset.table_glob(table)
    if not data_root:
        return local
    root = str(dataset.root)
    if not local.startswith(root + os.sep):
        raise EngineError(
            both(
                f"表 {table} 不在数据集目录 {root} 下，无法映射到 {data_root}",
                f"table {table} ({local}) is not under the dataset folder {root}; it cannot be read from {data_root}",
            )
        )
    return data_root.rstrip("/") + "/" + local[len(root) + 1 :].replace(os.sep, "/")
