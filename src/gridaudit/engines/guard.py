"""The locked-down check of the server engines (PostgreSQL, Spark): one SELECT, no server-side file or code access.

DuckDB locks itself down natively (``allowed_directories``, ``lock_configuration``); PostgreSQL and Spark
have no such switch for one connection, so once locked they refuse, before sending, SQL that is not a single
query or that calls a function able to read server files or run code. This is the engines' own line of
defence, under the rule and console checks (``gridaudit.rules.safety``, ``gridaudit.sqlconsole``).
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from gridaudit.i18n import both

# PostgreSQL: server files, large objects (lo_import/lo_export read and write server files), other databases
POSTGRES_DENIED = frozenset({"dblink", "dblink_exec", "set_config", "current_setting", "query_to_xml"})
POSTGRES_DENIED_PREFIXES = ("pg_", "lo_", "dblink")
# Spark: Java reflection runs arbitrary code on the driver and executors; input_file_name reveals paths
SPARK_DENIED = frozenset({"reflect", "java_method", "try_reflect", "input_file_name", "read_files"})
SPARK_DENIED_PREFIXES: tuple[str, ...] = ()
# a table named <format>.`<path>` reads that file directly on Spark (also refused by spark.sql.runSQLOnFiles)
FILE_TABLE_PREFIXES = frozenset({"parquet", "csv", "json", "orc", "text", "binaryfile", "avro", "delta"})


class RefusedSQL(PermissionError):
    """SQL a locked-down engine will not send to its server; the message names what was refused."""


def check_locked(sql: str, engine: str, denied: frozenset[str], prefixes: tuple[str, ...]) -> None:
    """Raise :class:`RefusedSQL` unless ``sql`` (DuckDB dialect) is one query calling no ``denied`` function.

    Unparseable SQL is refused too: what the guard cannot read it does not pass on.
    """
    try:
        trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    except SqlglotError as exc:
        raise RefusedSQL(
            both(f"{engine}：无法解析的 SQL 被拒绝", f"{engine}: SQL that does not parse is refused: ")
            + str(exc).splitlines()[0]
        ) from exc
    if len(trees) != 1 or not isinstance(trees[0], exp.Query):
        raise RefusedSQL(
            both(f"{engine}：锁定后只能执行一条查询", f"{engine} is locked down: only one SELECT statement may run")
        )
    tree = trees[0]
    for func in tree.find_all(exp.Func):
        name = (func.name if isinstance(func, exp.Anonymous) else func.sql_name()).lower()
        if name in denied or any(name.startswith(p) for p in prefixes):
            raise RefusedSQL(
                both(f"{engine}：锁定后禁止调用函数 {name}", f"{engine} is locked down: function {name} is refused")
            )
    for table in tree.find_all(exp.Table):
        if table.db and table.db.lower() in FILE_TABLE_PREFIXES:
            raise RefusedSQL(
                both(
                    f"{engine}：锁定后禁止直接读取文件 {table.db}.{table.name}",
                    f"{engine} is locked down: reading a file directly ({table.db}.{table.name}) is refused",
                )
            )
