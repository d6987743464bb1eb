"""``open_engine``: the one way an analyzer gets an engine, from one :class:`EngineSettings`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridaudit.engines.base import Engine, EngineError, EngineSettings
from gridaudit.i18n import both

if TYPE_CHECKING:
    from gridaudit.dataset import Dataset


def open_engine(dataset: Dataset | None, settings: EngineSettings | None = None) -> Engine:
    """Open the engine ``settings`` names over ``dataset`` (DuckDB with the default limits when None).

    ``dataset`` may be None only for PostgreSQL with ``postgres_replica`` (the schema already holds the tables).
    The caller closes the engine.
    """
    settings = settings or EngineSettings()
    if dataset is None and not (settings.kind == "postgres" and settings.postgres_replica):
        raise EngineError(both("需要数据集", "a dataset is required (only a PostgreSQL replica needs none)"))
    if settings.kind == "duckdb":
        from gridaudit.engines.duckdb import DuckDBEngine

        assert dataset is not None
        return DuckDBEngine(dataset, threads=settings.threads, memory_limit=settings.memory_limit)
    if settings.kind == "postgres":
        from gridaudit.engines.postgres import PostgresEngine

        assert settings.postgres_url is not None
        return PostgresEngine(
            settings.postgres_url,
            dataset=None if settings.postgres_replica else dataset,
            schema=settings.postgres_schema,
            threads=settings.threads,
        )
    from gridaudit.engines.spark import SparkEngine, spark_session, spark_session_conf

    assert dataset is not None
    master, conf = spark_session_conf(settings)
    return SparkEngine(dataset, spark=spark_session(master, conf), data_root=settings.spark_data_root)
