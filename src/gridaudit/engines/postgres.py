"""PostgreSQL engine: a dataset loaded into a schema (COPY in batches), or an existing replica schema.

Queries are DuckDB-dialect SQL transpiled by sqlglot; ``$name`` parameters become psycopg named
parameters (bound by the server, never pasted) and every query runs in a READ ONLY transaction.
"""

from __future__ import annotations

import io
import re
import threading
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from gridaudit.contract import load_contract
from gridaudit.dataset import Dataset
from gridaudit.engines.base import EngineError, columns_of
from gridaudit.engines.guard import POSTGRES_DENIED, POSTGRES_DENIED_PREFIXES, check_locked
from gridaudit.engines.transpile import param_sql_type, transpile
from gridaudit.i18n import both

PG_TYPES = {
    "string": "TEXT",
    "period": "TEXT",
    "int": "BIGINT",
    "float": "DOUBLE PRECISION",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "bool": "BOOLEAN",
}
BATCH_ROWS = 200_000
FORK_POOL_SIZE = 8  # connections kept for forks (one per web request at a time); more wait for a free one
FORK_WAIT_S = 10.0  # how long a fork waits for a pooled connection before it is an error


def _ident(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(both(f"非法的标识符：{name!r}", f"not a plain SQL identifier: {name!r}"))
    return f'"{name}"'


def _pg_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_integer(arrow_type):
        return "BIGINT"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "DOUBLE PRECISION"
    if pa.types.is_date(arrow_type):
        return "DATE"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP"
    return "TEXT"


class PostgresEngine:
    """PostgreSQL over a schema holding the contract tables.

    With ``dataset`` the tables are (re)created in ``schema`` and loaded with COPY (dropped again on
    ``close`` unless ``keep``); without it ``schema`` must already hold them (a replica of the marketing system).
    ``threads`` caps the parallel workers of one query (``max_parallel_workers_per_gather``).
    """

    name = "postgres"

    def __init__(
        self,
        url: str,
        dataset: Dataset | None = None,
        schema: str | None = None,
        keep: bool = False,
        threads: int | None = None,
    ) -> None:
        import psycopg

        schema = schema or ("gridaudit_" + (dataset.version if dataset else "replica"))
        _ident(schema)
        try:
            con = psycopg.connect(url, autocommit=True)
        except psycopg.OperationalError as exc:  # unreachable server, bad credentials: the caller reports it
            raise _unreachable(url, exc) from None
        self._set_fields(
            url,
            dataset,
            schema,
            threads,
            con,
            pool=None,
            forked=False,
            drop_on_close=dataset is not None and not keep,
            locked=False,
        )
        self._configure(self.con)
        if dataset is not None:
            self.load(dataset)

    def _configure(self, con: Any) -> None:
        """The session settings every connection of this engine has (the parallel-worker cap)."""
        if self.threads:
            con.execute(f"SET max_parallel_workers_per_gather = {max(int(self.threads) - 1, 0)}")

    def fork(self) -> PostgresEngine:
        """Another connection on the same schema for another thread, from this engine's pool: nothing is loaded
        again, closing the fork gives the connection back (its temporary tables discarded) and never drops the
        schema. Same parallel-worker cap; locked down when this engine is. A web request costs a query, not a
        new server backend (≈ 13 ms each on a local server)."""
        from psycopg_pool import PoolTimeout

        pool = self._fork_pool()
        try:
            con = pool.getconn(timeout=FORK_WAIT_S)
        except PoolTimeout as exc:
            raise _unreachable(self.url, exc) from None
        child = PostgresEngine.__new__(PostgresEngine)
        child._set_fields(
            self.url,
            self.dataset,
            self.schema,
            self.threads,
            con,
            pool=pool,
            forked=True,
            drop_on_close=False,
            locked=self._locked,
        )
        return child

    def _set_fields(
        self,
        url: str,
        dataset: Dataset | None,
        schema: str,
        threads: int | None,
        con: Any,
        *,
        pool: Any,
        forked: bool,
        drop_on_close: bool,
        locked: bool,
    ) -> None:
        """Every field an engine has, set in one place for ``__init__`` and ``fork`` alike."""
        self.url, self.dataset, self.schema, self.threads, self.con = url, dataset, schema, threads, con
        self._temp: set[str] = set()
        self._drop_on_close = drop_on_close
        self._locked = locked
        self._pool: Any = pool  # the forks' connections (made on the first fork); a fork: the pool it came from
        self._pool_lock = threading.Lock()
        self._forked = forked

    def _fork_pool(self) -> Any:
        """This engine's pool of connections for forks, opened on first use (forks of a fork share it)."""
        from psycopg_pool import ConnectionPool

        with self._pool_lock:
            if self._pool is None:
                self._pool = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=FORK_POOL_SIZE,
                    kwargs={"autocommit": True},
                    configure=self._configure,
                    check=ConnectionPool.check_connection,  # a connection the server closed is replaced
                    name=f"gridaudit-{self.schema}",
                    open=True,
                )
            pool: Any = self._pool
        return pool

    def load(self, dataset: Dataset) -> None:
        """Create ``schema`` afresh and COPY every dataset table into it (contract types, extra columns kept)."""
        contract = load_contract()
        s = _ident(self.schema)
        with self.con.transaction():
            self.con.execute(f"DROP SCHEMA IF EXISTS {s} CASCADE")
            self.con.execute(f"CREATE SCHEMA {s}")
            for table in dataset.tables():
                self._load_table(dataset, table, contract.tables.get(table))

    def _load_table(self, dataset: Dataset, table: str, spec: Any) -> None:
        path = dataset.table_path(table)
        files = [path] if path.is_file() else sorted(path.glob("*.parquet"))
        schema = pq.read_schema(files[0])
        cols = []
        for f in schema:
            col = spec.columns.get(f.name) if spec else None
            cols.append((f.name, PG_TYPES[col.type] if col else _pg_type(f.type)))
        target = f"{_ident(self.schema)}.{_ident(table)}"
        absent = [(c.name, PG_TYPES[c.type]) for c in spec.absent(schema.names)] if spec else []  # older contract
        self.con.execute(f"CREATE TABLE {target} ({', '.join(f'{_ident(n)} {t}' for n, t in cols + absent)})")
        names = ", ".join(_ident(n) for n, _ in cols)
        with (
            self.con.cursor() as cur,
            cur.copy(f"COPY {target} ({names}) FROM STDIN (FORMAT csv, HEADER true)") as copy,
        ):
            first = True
            for file in files:
                for batch in pq.ParquetFile(file).iter_batches(batch_size=BATCH_ROWS, columns=[n for n, _ in cols]):
                    buf = io.BytesIO()
                    options = pacsv.WriteOptions(include_header=first)
                    pacsv.write_csv(pa.Table.from_batches([batch]), buf, write_options=options)
                    copy.write(buf.getvalue())
                    first = False

    def tables(self) -> set[str]:
        """Tables in the schema plus registered temporary tables."""
        rows = self.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (self.schema,)
        ).fetchall()
        return {r[0] for r in rows} | self._temp

    def columns(self, table: str) -> list[str]:
        """Column names of a table in the schema or a registered or materialised one."""
        return columns_of(self, table)

    def register_table(self, name: str, table: pa.Table) -> None:
        """Create a session-temporary table ``name`` holding ``table`` (e.g. ``workday_calendar``)."""
        t = _ident(name)
        cols = ", ".join(f"{_ident(f.name)} {_pg_type(f.type)}" for f in table.schema)
        with self.con.transaction():
            self.con.execute(f"DROP TABLE IF EXISTS pg_temp.{t}")
            self.con.execute(f"CREATE TEMP TABLE {t} ({cols})")
            with self.con.cursor() as cur, cur.copy(f"COPY {t} FROM STDIN (FORMAT csv, HEADER true)") as copy:
                buf = io.BytesIO()
                pacsv.write_csv(table, buf)
                copy.write(buf.getvalue())
        self._temp.add(name)

    def materialise(self, name: str, sql: str, params: dict[str, Any] | None = None) -> None:
        """Run one DuckDB-dialect SELECT (server-bound ``params``) into session-temporary table ``name``, analysed."""
        t = _ident(name)
        if self._locked:
            check_locked(sql, "PostgreSQL", POSTGRES_DENIED, POSTGRES_DENIED_PREFIXES)
        params = _bindable(params or {})
        pg_sql = transpile(sql, "postgres", params)
        with self.con.transaction(), self.con.cursor() as cur:
            cur.execute(f"SET LOCAL search_path TO {_ident(self.schema)}")
            cur.execute(f"DROP TABLE IF EXISTS pg_temp.{t}")
            cur.execute(f"CREATE TEMP TABLE {t} AS {pg_sql}", params)
            cur.execute(f"ANALYZE pg_temp.{t}")
        self._temp.add(name)

    def drop_materialised(self, name: str) -> None:
        """Drop a table made by :meth:`materialise`."""
        self.con.execute(f"DROP TABLE IF EXISTS pg_temp.{_ident(name)}")
        self._temp.discard(name)

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
        """Run DuckDB-dialect ``sql`` transpiled to PostgreSQL, read-only, with server-bound parameters."""
        params = _bindable(params or {})
        if self._locked:
            check_locked(sql, "PostgreSQL", POSTGRES_DENIED, POSTGRES_DENIED_PREFIXES)
        pg_sql = transpile(sql, "postgres", params)
        with self.con.transaction(), self.con.cursor() as cur:
            cur.execute("SET TRANSACTION READ ONLY")
            cur.execute(f"SET LOCAL search_path TO {_ident(self.schema)}")
            cur.execute(pg_sql, params)
            names = [d.name for d in cur.description] if cur.description else []
            rows = cur.fetchall() if cur.description else []
        columns = {n: [_plain(r[i]) for r in rows] for i, n in enumerate(names)}
        return pa.table(columns) if names else pa.table({})

    def lock_down(self) -> None:
        """Refuse, from now on, queries that are not one SELECT or that call server-file functions.

        Every query already runs in a READ ONLY transaction on the engine's schema; materialising stages
        (temporary tables) still works. Use a database role without superuser rights for untrusted SQL:
        PostgreSQL has no per-connection switch for file access (docs/engines.md).
        """
        self._locked = True

    def interrupt(self) -> None:
        """Ask the server to cancel the query running on this connection (from another thread)."""
        self.con.cancel_safe(timeout=5)

    def drop(self) -> None:
        """Drop the schema (tests and one-off loads)."""
        self.con.execute(f"DROP SCHEMA IF EXISTS {_ident(self.schema)} CASCADE")

    def close(self) -> None:
        """Close the connection (temporary tables go with it; a fork gives it back to the pool, temporary tables
        discarded) and the forks' pool; a schema loaded here is dropped unless ``keep``."""
        if self._forked:
            if self._pool is not None:
                _discard_temp(self.con)  # here, not in a pool worker: the connection is free for the next request
                self._pool.putconn(self.con)  # one left in a transaction is rolled back, a broken one replaced
                self._pool = None
            return
        if self._drop_on_close and not self.con.closed:
            self.drop()
        self.con.close()
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def _bindable(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` as psycopg dumps them: a list of integers and floats (a ``DOUBLE[]`` parameter, see
    :func:`~gridaudit.engines.transpile.param_sql_type`) becomes a list of floats (psycopg refuses mixed lists)."""
    out = dict(params)
    for key, value in params.items():
        if isinstance(value, list | tuple) and param_sql_type(value) == "DOUBLE[]":
            out[key] = [None if v is None else float(v) for v in value]
    return out


def _discard_temp(con: Any) -> None:
    """Reset a connection a fork gives back: its temporary tables go (psycopg keeps its prepared statements);
    a connection that cannot take it (broken, or inside a transaction) is closed, and the pool replaces it."""
    import psycopg

    if con.closed or con.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        con.close()
        return
    try:
        con.execute("DISCARD TEMP")
    except psycopg.Error:
        con.close()


def _unreachable(url: str, exc: Exception) -> EngineError:
    """The error a user sees when the server cannot be reached: the address without the password, the reason."""
    text = str(exc).strip()
    reason = text.splitlines()[0] if text else type(exc).__name__
    where = server_address(url)
    zh = f"无法连接 PostgreSQL {where}：{reason}"
    return EngineError(both(zh, f"cannot connect to PostgreSQL {where}: {reason}"))


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def server_address(url: str) -> str:
    """``url`` without its password (user@host:port/database), for messages a user sees."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(url)
    except Exception:  # noqa: BLE001 - an unparsable URL is named without any of its parts
        return "(invalid URL)"
    user = f"{info['user']}@" if info.get("user") else ""
    port = f":{info['port']}" if info.get("port") else ""
    return f"{user}{info.get('host', 'localhost')}{port}/{info.get('dbname', '')}"
