"""Query engines behind one small protocol: DuckDB (default), PostgreSQL, Spark SQL.

SQL is written once in the DuckDB dialect; other engines transpile it with sqlglot.
"""

from __future__ import annotations

from typing import Any, Protocol

import pyarrow as pa


class Engine(Protocol):
    """What an analyzer needs from an engine: which tables exist, and running a query."""

    name: str

    def tables(self) -> set[str]:
        """Names of the tables (views) the engine can query."""
        ...

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
        """Run one SELECT (DuckDB dialect, ``$name`` parameters) and return its rows as Arrow."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...
