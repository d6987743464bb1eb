"""The embedded DuckDB engine: each dataset table is a view over its Parquet files."""

from __future__ import annotations

import shutil
import tempfile
import threading
from typing import Any

import duckdb
import pyarrow as pa

from gridaudit.contract import load_contract
from gridaudit.dataset import Dataset
from gridaudit.engines.base import columns_of


def sql_literal(text: str) -> str:
    """Quote ``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


class DuckDBEngine:
    """DuckDB over a dataset version; ``threads`` and ``memory_limit`` bound the resources used.

    :meth:`fork` gives another thread the same views through a cursor of this connection (a DuckDB connection
    is not shared across threads; a cursor is a connection of its own to the same database, so its temporary
    and registered tables stay its own): the views are made and described once, not per fork.
    """

    name = "duckdb"

    _spill_dir: str | None  # DuckDB's temp_directory, removed on close (None: a fork, or closed)

    def __init__(self, dataset: Dataset, threads: int | None = None, memory_limit: str | None = None) -> None:
        self._setup(dataset, duckdb.connect())
        self.con.execute("SET enable_progress_bar = false")
        # DuckDB spills to ".tmp" in the working directory by default (≈ 14 GB at a million customers' line
        # loss): a folder of this engine's own under the system's temp folder instead, removed on close.
        spill_dir = tempfile.mkdtemp(prefix="gridaudit-duckdb-")
        self._spill_dir = spill_dir
        self.con.execute(f"SET temp_directory = {sql_literal(spill_dir)}")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute(f"SET memory_limit = {sql_literal(memory_limit)}")
        contract = load_contract()
        for table in dataset.tables():
            source = f"read_parquet({sql_literal(dataset.table_glob(table))}, union_by_name = true)"
            self.con.execute(f'CREATE VIEW "{table}" AS SELECT * FROM {source}')
            spec = contract.tables.get(table)
            have = [r[0] for r in self.con.execute(f'DESCRIBE "{table}"').fetchall()] if spec else []
            nulls = [f'CAST(NULL AS {c.sql_type}) AS "{c.name}"' for c in spec.absent(have)] if spec else []
            if nulls:  # a dataset from an older contract: its missing optional columns read as NULL
                self.con.execute(f'CREATE OR REPLACE VIEW "{table}" AS SELECT *, {", ".join(nulls)} FROM {source}')

    def _setup(self, dataset: Dataset, con: duckdb.DuckDBPyConnection, locked: bool = False) -> None:
        self.dataset = dataset
        self.con = con
        self._made_tables: set[str] = set()
        self._registered: set[str] = set()
        self._locked = locked
        self._fork_lock = threading.Lock()
        self._spill_dir = None  # set by the engine that made the connection (forks share it)

    def fork(self) -> DuckDBEngine:
        """The same views for another thread: a cursor of this connection (its own temporary and registered
        tables, its own :meth:`interrupt`). DuckDB's lock-down is database-wide: a fork of a locked engine is
        locked, and locking a fork locks this engine and its other forks too."""
        child = DuckDBEngine.__new__(DuckDBEngine)
        with self._fork_lock:  # one cursor at a time: the parent connection is not used from two threads at once
            cursor = self.con.cursor()
        child._setup(self.dataset, cursor, locked=self._locked)
        return child

    def tables(self) -> set[str]:
        """Names of the dataset tables (views) and of the tables registered or materialised since."""
        return set(self.dataset.tables()) | self._made()

    def _made(self) -> set[str]:
        return self._made_tables

    def columns(self, table: str) -> list[str]:
        """Column names of a dataset view, registered or materialised table."""
        return columns_of(self, table)

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
        """Run ``sql`` with bound ``$name`` parameters; rows come back as Arrow."""
        relation = self.con.sql(sql, params=params or None)
        if relation is None:  # a statement without a result set
            return pa.table({})
        return relation.to_arrow_table()

    def register_table(self, name: str, table: pa.Table) -> None:
        """Expose an in-memory Arrow table as ``name`` (e.g. the runner's ``workday_calendar``)."""
        self.con.register(name, table)
        self._made().add(name)
        self._registered.add(name)

    def materialise(self, name: str, sql: str, params: dict[str, Any] | None = None) -> None:
        """Run one SELECT (bound ``$name`` ``params``, if any) into temporary table ``name`` (a derived table).

        A stage is a set (no engine keeps a stage's row order; readers sort what they need), so it is written
        without DuckDB's insertion-order preservation, which buffers a parallel CREATE TABLE AS in memory (the
        1 M-customer line loss ran out of memory with it). The setting is this cursor's session's only: a fork
        querying at the same moment keeps its insertion order. A locked connection cannot change settings and
        keeps the order."""
        unordered = not self._locked
        if unordered:
            self.con.execute("SET SESSION preserve_insertion_order = false")
        try:
            self.con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {sql}', params or None)
        finally:
            if unordered:
                self.con.execute("RESET SESSION preserve_insertion_order")
        self._made().add(name)

    def drop_materialised(self, name: str) -> None:
        """Drop a table made by :meth:`materialise` or :meth:`register_table` (frees its memory)."""
        if name in self._registered:  # a registered Arrow table is a view of the connection, not a temp table
            self.con.unregister(name)
            self._registered.discard(name)
        else:
            self.con.execute(f'DROP TABLE IF EXISTS temp."{name}"')
        self._made().discard(name)

    def lock_down(self) -> None:
        """Forbid file access outside the dataset version and lock the configuration (for untrusted SQL).

        After this the connection can still read the dataset's views, but ``read_csv('/etc/passwd')``,
        ``COPY ... TO`` elsewhere, ``ATTACH`` and changing settings fail.
        """
        if self._locked:
            return
        folders = {str(self.dataset.path) + "/", str(self.dataset.path.resolve()) + "/"}
        for table in self.dataset.tables():  # tables may be links to files kept elsewhere
            target = self.dataset.table_path(table).resolve()
            folders.add(str(target if target.is_dir() else target.parent) + "/")
        allowed = sorted(folders)
        self.con.execute(f"SET allowed_directories = [{', '.join(sql_literal(f) for f in allowed)}]")
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")
        self._locked = True

    def interrupt(self) -> None:
        """Stop the query running on this connection (from another thread; it fails with an interrupt error)."""
        self.con.interrupt()

    def close(self) -> None:
        """Close the DuckDB connection (a fork: its cursor) and remove the engine's spill folder."""
        self.con.close()
        if self._spill_dir is not None:
            shutil.rmtree(self._spill_dir, ignore_errors=True)
            self._spill_dir = None
