"""DuckDB-dialect SQL → PostgreSQL / Spark SQL with sqlglot, keeping ``$name`` parameters bound.

Each ``$name`` becomes the target's named placeholder (psycopg ``%(name)s``, Spark ``:name``) wrapped in
a CAST to the type of the bound Python value, so a NULL parameter still has a type on every engine.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp

DIALECTS = ("postgres", "spark")


def param_sql_type(value: Any) -> str:
    """The SQL type (DuckDB spelling) a Python parameter value is cast to; a list or tuple is an array of its
    elements' type (integers and floats together: ``DOUBLE[]``; empty, all NULL or mixed: ``VARCHAR[]``), as
    the views' ``unnest($ids)`` bind."""
    if isinstance(value, list | tuple):
        kinds = {param_sql_type(v) for v in value if v is not None}
        if kinds == {"BIGINT", "DOUBLE"}:
            kinds = {"DOUBLE"}
        return (kinds.pop() if len(kinds) == 1 else "VARCHAR") + "[]"
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "BIGINT"
    if isinstance(value, float):
        return "DOUBLE"
    if isinstance(value, datetime):
        return "TIMESTAMP"
    if isinstance(value, date):
        return "DATE"
    return "VARCHAR"


def transpile(sql: str, dialect: str, params: dict[str, Any] | None = None) -> str:
    """Transpile one DuckDB query to ``dialect`` with typed named placeholders for ``params``."""
    types = tuple(sorted((k, param_sql_type(v)) for k, v in (params or {}).items()))
    return _transpile(sql, dialect, types)


@lru_cache(maxsize=512)
def _transpile(sql: str, dialect: str, types: tuple[tuple[str, str], ...]) -> str:
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; known: {', '.join(DIALECTS)}")
    typed = dict(types)
    tree = sqlglot.parse_one(sql, read="duckdb")

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, (exp.Placeholder, exp.Parameter)) and node.name:
            sql_type = typed.get(node.name, "VARCHAR")
            return exp.Cast(this=exp.Placeholder(this=node.name), to=exp.DataType.build(sql_type, dialect="duckdb"))
        return node

    out = tree.transform(swap).sql(dialect=dialect)
    if dialect == "postgres":
        # psycopg reads % as a placeholder marker: escape every other %.
        out = out.replace("%", "%%")
        out = re.sub(r"%%\((\w+)\)s", r"%(\1)s", out)
    return out
