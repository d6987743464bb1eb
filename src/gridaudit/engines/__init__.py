"""Query engines behind one protocol: DuckDB (default), PostgreSQL, Spark SQL (docs/engines.md).

SQL is written once in the DuckDB dialect; other engines transpile it with sqlglot. An analyzer gets an
engine from :func:`open_engine` with one :class:`EngineSettings` and uses only the :class:`Engine`
methods, never the DuckDB, psycopg or Spark object behind it.
"""

from __future__ import annotations

from gridaudit.engines.base import (
    DEFAULT_MEMORY_LIMIT,
    DEFAULT_SPARK_MASTER,
    ENGINE_KINDS,
    Engine,
    EngineError,
    EngineSettings,
    columns_of,
    quote_table,
)
from gridaudit.engines.opener import open_engine

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "DEFAULT_SPARK_MASTER",
    "ENGINE_KINDS",
    "Engine",
    "EngineError",
    "EngineSettings",
    "columns_of",
    "open_engine",
    "quote_table",
]
