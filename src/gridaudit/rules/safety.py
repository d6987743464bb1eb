"""Rule SQL safety: one read-only SELECT over known tables, parameters only as ``$name``.

This is the first line of defence; the engines add their own (DuckDB: external access locked
to the dataset folder; PostgreSQL: a READ ONLY transaction; Spark: temp views only).
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from gridaudit.i18n import both

PROVIDED_TABLES = ("workday_calendar",)
# Functions that reveal the sandbox (settings and its directories, environment, session, files, the catalog):
# refused wherever they appear, as a scalar or as a table. Exact names, then name prefixes.
LEAKY_FUNCTIONS = frozenset(
    {
        "current_setting",
        "current_query",
        "current_query_id",
        "current_connection_id",
        "current_transaction_id",
        "current_database",
        "current_catalog",
        "current_schema",
        "current_schemas",
        "current_user",
        "session_user",
        "current_role",
        "user",
        "getenv",
        "getvariable",
        "version",
        "current_version",
        "user_agent",
        "in_search_path",
        "txid_current",
        "glob",
        "query",
        "query_table",
        "which_secret",
        "sniff_csv",
        "parquet_metadata",
        "parquet_schema",
        "parquet_file_metadata",
        "parquet_kv_metadata",
        "iceberg_scan",
        "delta_scan",
    }
)
CLOCK_FUNCTIONS = ("CurrentDate", "CurrentTime", "CurrentTimestamp", "CurrentDatetime", "CurrentTimestampLTZ")
LEAKY_PREFIXES = ("duckdb_", "pragma_", "read_", "pg_", "has_", "sqlite_", "postgres_", "mysql_", "icu_")


class UnsafeSQL(Exception):
    """Rule SQL that is not a single read-only SELECT over the dataset's tables: ``UnsafeSQL(zh, en)``; the
    message (``str``) holds both languages, current one first; ``.zh`` and ``.en`` each one."""

    def __init__(self, zh: str, en: str | None = None) -> None:
        self.zh = zh
        self.en = zh if en is None else en
        super().__init__(zh if en is None else both(zh, en))


def parse_rule_sql(sql: str) -> exp.Query:
    """Parse ``sql`` (DuckDB dialect) and refuse anything but one SELECT/WITH statement."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except (ParseError, TokenError) as exc:  # an unclosed quote or comment is a TokenError
        raise UnsafeSQL(f"SQL 无法解析：{exc}", f"SQL does not parse: {exc}") from None
    if len(statements) != 1:
        raise UnsafeSQL(
            f"只允许一条语句（实际 {len(statements)} 条）", f"exactly one statement allowed, got {len(statements)}"
        )
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        kind = type(tree).__name__.upper()
        raise UnsafeSQL(f"只允许 SELECT/WITH 查询，不允许 {kind}", f"only SELECT/WITH queries are allowed, not {kind}")
    for node in tree.walk():
        if isinstance(
            node,
            (
                exp.Insert,
                exp.Update,
                exp.Delete,
                exp.Create,
                exp.Drop,
                exp.Copy,
                exp.Command,
                exp.Attach,
                exp.Detach,
                exp.Set,
                exp.Pragma,
                exp.Into,
            ),
        ):
            kind = type(node).__name__.upper()
            raise UnsafeSQL(f"查询中不允许 {kind}", f"{kind} is not allowed inside a rule query")
    return tree


def function_name(node: exp.Func) -> str:
    """The SQL name of a function call (``current_setting``, ``version``, ...), lower case."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql("duckdb").split("(", 1)[0].strip().lower()


def is_leaky_function(node: exp.Func) -> bool:
    """Whether a function call is one that reveals the sandbox (LEAKY_FUNCTIONS / LEAKY_PREFIXES)."""
    if isinstance(node, (exp.Binary, exp.Connector, exp.Unary)):
        return False  # AND, =, NOT, ... are expressions, not calls
    kind = type(node).__name__
    if (kind.startswith("Current") and kind not in CLOCK_FUNCTIONS) or kind.startswith("Session"):
        return True  # current_user, current_schema, current_catalog, session_user, ... (the clock is fine)
    names = {function_name(node), *(n.lower() for n in type(node).sql_names())}
    return any(n in LEAKY_FUNCTIONS or n.startswith(LEAKY_PREFIXES) for n in names)


def referenced_tables(tree: exp.Expr) -> set[str]:
    """Base table names a query reads (CTE names excluded)."""
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    names: set[str] = set()
    for t in tree.find_all(exp.Table):
        if isinstance(t.this, exp.Identifier) and not t.args.get("db") and not t.args.get("catalog"):
            if t.name.lower() not in ctes:
                names.add(t.name.lower())
        else:
            raise UnsafeSQL(
                f"不允许的表来源：{t.sql('duckdb')}",
                f"table source not allowed (functions, files, schemas): {t.sql('duckdb')}",
            )
    return names


def check_rule_sql(sql: str, allowed_tables: set[str]) -> exp.Query:
    """Parse and check ``sql``: one query, calling no function that reveals the sandbox, reading only
    ``allowed_tables`` (+ runner-provided tables)."""
    tree = parse_rule_sql(sql)
    for node in tree.walk():
        if isinstance(node, exp.Func) and is_leaky_function(node):
            name = function_name(node)
            raise UnsafeSQL(
                f"规则 SQL 不允许调用函数 {name}()（会泄露运行环境的设置、目录或文件）",
                f"function {name}() is not allowed in rule SQL (it reveals the sandbox's settings, folders, files)",
            )
    allowed = {t.lower() for t in allowed_tables} | set(PROVIDED_TABLES)
    bad = sorted(referenced_tables(tree) - allowed)
    if bad:
        raise UnsafeSQL(f"查询读取了不允许的表：{', '.join(bad)}", f"query reads tables it may not: {', '.join(bad)}")
    return tree


def param_names(tree: exp.Expr) -> set[str]:
    """Names of the ``$name`` parameters a query uses."""
    return {p.name for p in tree.find_all(exp.Placeholder) if p.name} | {
        p.name for p in tree.find_all(exp.Parameter) if p.name
    }
