"""``--from-sql postgresql://…``: contract tables (or views named in the mapping) of a database replica.

Each relation is streamed with ``COPY (SELECT …) TO STDOUT`` (CSV, UTF-8) into a work file and then
ingested like any CSV: same validation, same row numbers (the header is row 1).
"""

from __future__ import annotations

import re
from pathlib import Path

from gridaudit.ingest.errors import unusable
from gridaudit.ingest.mapping import Mapping
from gridaudit.ingest.sources import Source


def _public_url(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1@", url)


def sql_sources(url: str, mapping: Mapping, work: Path) -> list[Source]:
    """Export every relation that maps onto a contract table into ``work`` and return them as CSV sources."""
    import psycopg
    from psycopg import sql

    shown = _public_url(url)
    try:
        con = psycopg.connect(url, connect_timeout=10)
    except psycopg.Error as exc:
        raise unusable(shown, f"无法连接数据库: {exc}", f"cannot connect to the database: {exc}") from exc
    out: list[Source] = []
    with con:
        con.execute("SET client_encoding TO 'UTF8'")
        rels = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = ANY(current_schemas(false)) ORDER BY 1, 2"
        ).fetchall()
        for schema, rel in rels:
            table = mapping.table_for(rel, anywhere=False)
            if table is None:
                continue
            path = work / f"sql-{schema}-{rel}.csv"
            query = sql.SQL("COPY (SELECT * FROM {}.{}) TO STDOUT WITH (FORMAT csv, HEADER true)").format(
                sql.Identifier(schema), sql.Identifier(rel)
            )
            try:
                with con.cursor() as cur, cur.copy(query) as copy, open(path, "wb") as fh:
                    for chunk in copy:
                        fh.write(chunk)
            except psycopg.Error as exc:
                raise unusable(f"{shown}#{schema}.{rel}", f"读取失败: {exc}", f"read failed: {exc}") from exc
            out.append(Source(path=path, name=f"{shown}#{schema}.{rel}", kind="csv", table=table))
    if not out:
        raise unusable(
            shown,
            "数据库中没有与导入规范或映射文件对应的表或视图",
            "no table or view in the database matches the contract or the mapping",
        )
    return out
