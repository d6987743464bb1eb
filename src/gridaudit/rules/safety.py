"""Rule SQL safety: one read-only SELECT over known tables, parameters only as ``$name``.

This is the first line of defence; the engines add their own (DuckDB: external access locked
to the dataset folder; PostgreSQL: a READ ONLY transaction; Spark: temp views only).
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from gridaudit.i18n import both

PROVIDED_TABLES = ("workday_calendar",)


class UnsafeSQL(Exception):
    """Rule SQL that is not a single read-only SELECT over the dataset's tables."""


def parse_rule_sql(sql: str) -> exp.Query:
    """Parse ``sql`` (DuckDB dialect) and refuse anything but one SELECT/WITH statement."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except ParseError as exc:
        raise UnsafeSQL(both(f"SQL 无法解析：{exc}", f"SQL does not parse: {exc}")) from None
    if len(statements) != 1:
        raise UnsafeSQL(
            both(
                f"只允许一条语句（实际 {len(statements)} 条）", f"exactly one statement allowed, got {len(statements)}"
            )
        )
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        kind = type(tree).__name__.upper()
        raise UnsafeSQL(
            both(f"只允许 SELECT/WITH 查询，不允许 {kind}", f"only SELECT/WITH queries are allowed, not {kind}")
        )
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
            raise UnsafeSQL(both(f"查询中不允许 {kind}", f"{kind} is not allowed inside a rule query"))
    return tree


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
                both(
                    f"不允许的表来源：{t.sql('duckdb')}",
                    f"table source not allowed (functions, files, schemas): {t.sql('duckdb')}",
                )
            )
    return names


def check_rule_sql(sql: str, allowed_tables: set[str]) -> exp.Query:
    """Parse and check ``sql``: one query, reading only ``allowed_tables`` (+ runner-provided tables)."""
    tree = parse_rule_sql(sql)
    allowed = {t.lower() for t in allowed_tables} | set(PROVIDED_TABLES)
    bad = sorted(referenced_tables(tree) - allowed)
    if bad:
        raise UnsafeSQL(
            both(f"查询读取了不允许的表：{', '.join(bad)}", f"query reads tables it may not: {', '.join(bad)}")
        )
    return tree


def param_names(tree: exp.Expr) -> set[str]:
    """Names of the ``$name`` parameters a query uses."""
    return {p.name for p in tree.find_all(exp.Placeholder) if p.name} | {
        p.name for p in tree.find_all(exp.Parameter) if p.name
    }
