"""Spark SQL engine (pyspark; ``local[*]`` by default): temp views over the dataset's Parquet.

Queries are DuckDB-dialect SQL transpiled by sqlglot; ``$name`` parameters become Spark named
parameters (``spark.sql(sql, args=...)``), never pasted into the text.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from gridaudit.contract import load_contract
from gridaudit.dataset import Dataset
from gridaudit.engines.transpile import transpile

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


def spark_session(master: str = "local[*]", conf: dict[str, str] | None = None) -> Any:
    """Get or create a SparkSession configured for gridaudit (no UI, few shuffle partitions, UTC)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName("gridaudit")
    for key, value in {**SPARK_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


class SparkEngine:
    """Spark SQL over a dataset version; pass ``spark`` to share one session (tests, notebooks)."""

    name = "spark"

    def __init__(self, dataset: Dataset, spark: Any = None, master: str = "local[*]") -> None:
        self.dataset = dataset
        self.spark = spark or spark_session(master)
        self._views: set[str] = set()
        self._cached: dict[str, Any] = {}
        from pyspark.sql import functions as F

        contract = load_contract()
        for table in dataset.tables():
            df = self.spark.read.parquet(dataset.table_glob(table))
            spec = contract.tables.get(table)
            for col in spec.absent(df.columns) if spec else []:  # a dataset from an older contract
                df = df.withColumn(col.name, F.lit(None).cast(SPARK_TYPES[col.type]))
            df.createOrReplaceTempView(table)
            self._views.add(table)

    def tables(self) -> set[str]:
        """Names of the views this engine created."""
        return set(self._views)

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
        """Run one DuckDB-dialect SELECT (named ``params``), cache it and expose it as temp view ``name``."""
        params = params or {}
        frame = self.spark.sql(transpile(sql, "spark", params), args=params).cache()
        frame.count()
        frame.createOrReplaceTempView(name)
        self._views.add(name)
        self._cached[name] = frame

    def drop_materialised(self, name: str) -> None:
        """Drop a view made by :meth:`materialise` and free its cache."""
        frame = self._cached.pop(name, None)
        if frame is not None:
            frame.unpersist()
        self.spark.catalog.dropTempView(name)
        self._views.discard(name)

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
        """Run DuckDB-dialect ``sql`` transpiled to Spark SQL with named parameters; rows as Arrow."""
        params = params or {}
        spark_sql = transpile(sql, "spark", params)
        return self.spark.sql(spark_sql, args=params).toArrow()

    def close(self) -> None:
        """Drop this engine's temp views (the shared session stays up)."""
        for view in self._views:
            self.spark.catalog.dropTempView(view)
        self._views.clear()
