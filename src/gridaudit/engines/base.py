"""The engine protocol, its settings and the helpers every engine shares (imported by the engines themselves)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pyarrow as pa

from gridaudit.i18n import both

if TYPE_CHECKING:
    from gridaudit.dataset import Dataset

ENGINE_KINDS = ("duckdb", "postgres", "spark")
DEFAULT_MEMORY_LIMIT = "4GB"
DEFAULT_SPARK_MASTER = "local[*]"


class EngineError(ValueError):
    """An engine cannot be opened with the given settings (unknown kind, missing URL, wrong master)."""


@runtime_checkable
class Engine(Protocol):
    """What every engine implements and every analyzer uses (DuckDB-dialect SQL, ``$name`` parameters)."""

    name: str

    @property
    def dataset(self) -> Dataset | None:
        """The dataset version the engine reads (its folder holds the findings store); None only for a
        PostgreSQL replica opened without one."""
        ...

    def tables(self) -> set[str]:
        """Names of the tables (views, registered and materialised tables) the engine can query."""
        ...

    def columns(self, table: str) -> list[str]:
        """Column names of ``table``, in order (raises if the table does not exist)."""
        ...

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
        """Run one SELECT (DuckDB dialect, ``$name`` parameters bound by the engine) and return its rows as Arrow."""
        ...

    def register_table(self, name: str, table: pa.Table) -> None:
        """Expose an in-memory Arrow table as ``name`` for later queries (e.g. ``workday_calendar``)."""
        ...

    def materialise(self, name: str, sql: str, params: dict[str, Any] | None = None) -> None:
        """Run one SELECT (bound ``$name`` ``params``, if any) into a stage table ``name`` that later queries read."""
        ...

    def drop_materialised(self, name: str) -> None:
        """Drop a stage made by :meth:`materialise` or a table made by :meth:`register_table` (frees its memory);
        a missing one is not an error."""
        ...

    def lock_down(self) -> None:
        """Restrict the connection for untrusted SQL: read the dataset only, no files elsewhere, no settings."""
        ...

    def interrupt(self) -> None:
        """Stop the query running on this engine (called from another thread); a no-op when none runs."""
        ...

    def fork(self) -> Engine:
        """An engine for use on another thread over the same dataset tables, without opening them again.

        The fork has its own connection (DuckDB: a cursor of this engine's connection; PostgreSQL: a new
        connection on the same schema; Spark: the same session with its own job group), so its queries,
        :meth:`interrupt`, registered and materialised tables are its own; tables this engine registered or
        materialised are not promised to it. It starts locked down when this engine is. Close each fork
        (closing it leaves this engine open) before closing this engine.
        """
        ...

    def close(self) -> None:
        """Release the connection and everything this engine created."""
        ...


@dataclass(frozen=True)
class EngineSettings:
    """Which engine an analyzer runs on and what it may use; one object for every analyzer and command.

    * ``kind``: ``duckdb`` (embedded, the default), ``postgres`` (``postgres_url`` required; the dataset is
      loaded into ``postgres_schema``, or read from that schema as a replica when ``postgres_replica``) or
      ``spark`` (``spark_master``: ``local[*]`` or a cluster URL such as ``spark://host:7077``, ``yarn``).
    * ``memory_limit``: DuckDB's buffer memory (bigger joins spill to disk); on Spark the executor memory
      on a cluster (the driver's in local mode, when the session starts); PostgreSQL ignores it (server setting).
    * ``threads``: DuckDB threads / Spark cores (``local[N]``, or ``spark.cores.max`` on a cluster) /
      PostgreSQL parallel workers per query; None means the engine's default.
    * ``spark_data_root``: the dataset folder as the Spark executors see it (``hdfs://…``, ``s3a://…``,
      ``file:///shared/…``) when it differs from the local path; None reads the local path (local mode or a
      file system mounted at the same path on every node).
    * ``spark_conf``: extra Spark settings (``key=value``), applied when the session starts.
    """

    kind: str = "duckdb"
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT
    threads: int | None = None
    postgres_url: str | None = None
    postgres_schema: str | None = None
    postgres_replica: bool = False
    spark_master: str = DEFAULT_SPARK_MASTER
    spark_data_root: str | None = None
    spark_conf: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in ENGINE_KINDS:
            raise EngineError(
                both(
                    f"未知引擎：{self.kind}（可选 {'|'.join(ENGINE_KINDS)}）",
                    f"unknown engine {self.kind!r} (one of {'|'.join(ENGINE_KINDS)})",
                )
            )
        if self.kind == "postgres" and not self.postgres_url:
            raise EngineError(
                both("PostgreSQL 引擎需要连接 URL（--pg）", "the postgres engine needs a URL (--pg postgresql://…)")
            )
        if self.threads is not None and self.threads < 1:
            raise EngineError(both(f"线程数应 ≥ 1：{self.threads}", f"threads must be at least 1, not {self.threads}"))


def quote_table(name: str) -> str:
    """``name`` as a quoted DuckDB identifier; anything but letters, digits and ``_`` is refused."""
    if not name or not all(ch.isalnum() or ch == "_" for ch in name) or name[0].isdigit():
        raise EngineError(both(f"非法的表名：{name!r}", f"not a plain table name: {name!r}"))
    return f'"{name}"'


def columns_of(engine: Engine, table: str) -> list[str]:
    """Column names of ``table`` on ``engine``, read from an empty result (works the same on every engine)."""
    return list(engine.query(f"SELECT * FROM {quote_table(table)} LIMIT 0").column_names)
