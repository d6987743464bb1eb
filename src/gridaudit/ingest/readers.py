"""Readers: each source becomes a DuckDB relation with ``__row`` (the row number in the source) and
its columns renamed to contract names (extras keep their own header).

CSV and Parquet are read by DuckDB itself (streaming); a workbook sheet is read with calamine into
Arrow (workbooks are small: at most ~1 M rows).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

import duckdb

from gridaudit.contract.spec import load_contract
from gridaudit.ingest.coerce import ident, lit
from gridaudit.ingest.errors import SourceProblem, UnusableSource, engine_message, unusable
from gridaudit.ingest.mapping import Mapping
from gridaudit.ingest.sources import Source


@dataclass
class RawRelation:
    """A source loaded as a DuckDB view: contract column -> (source column, its DuckDB type); extras."""

    source: Source
    view: str
    columns: dict[str, tuple[str, str]]
    extras: dict[str, str] = field(default_factory=dict)  # output name -> source column
    overflow: int = 0  # > 0: the view has ``__overflow`` (fields beyond the header); the header's field count


def map_headers(source: Source, headers: list[str], mapping: Mapping) -> tuple[dict[str, str], dict[str, str]]:
    """Map source headers onto contract columns; refuse missing required columns and ambiguous headers."""
    table = load_contract().table(source.table)
    mapped: dict[str, str] = {}
    extras: dict[str, str] = {}
    problems: list[SourceProblem] = []
    for h in headers:
        col = mapping.column_for(source.table, h)
        if col is None:
            name = h.strip().lstrip("\ufeff") or "unnamed"
            if name in table.columns or name.startswith("__"):
                name = f"extra_{name}"
            extras[name] = h
        elif col in mapped:
            problems.append(
                SourceProblem(
                    source.name,
                    f"表头 {mapped[col]!r} 和 {h!r} 都对应列 {col}",
                    f"headers {mapped[col]!r} and {h!r} both map to column {col}",
                    row=1,
                    column=h,
                )
            )
        else:
            mapped[col] = h
    for req in table.required:
        if req not in mapped:
            aliases = "、".join(table.columns[req].aliases)
            problems.append(
                SourceProblem(
                    source.name,
                    f"缺少必填列 {req} (可用表头: {req}、{aliases}); 文件无法导入",
                    f"required column {req} is missing (accepted headers: {req}, {aliases.replace('、', ', ')}); "
                    "the file cannot be ingested",
                    row=1,
                    column=req,
                )
            )
    if problems:
        raise UnusableSource(problems)
    return mapped, extras


def _csv_call(path: str) -> str:
    return (
        f"read_csv({lit(path)}, all_varchar = true, header = true, null_padding = true, "
        "auto_detect = true, strict_mode = false)"
    )


def csv_relation(
    con: duckdb.DuckDBPyConnection, source: Source, utf8_path: str, view: str, mapping: Mapping
) -> RawRelation:
    """A CSV (already UTF-8) as a relation numbered like the file: the header is row 1."""
    try:
        desc = con.execute(f"DESCRIBE SELECT * FROM {_csv_call(utf8_path)}").fetchall()
    except duckdb.Error as exc:
        msg = engine_message(exc)
        raise unusable(source.name, f"无法解析为 CSV: {msg}", f"cannot be parsed as CSV: {msg}") from exc
    headers = [d[0] for d in desc]
    n_header = _header_fields(utf8_path, len(headers))
    extra_fields = headers[n_header:]
    mapped, extras = map_headers(source, headers[:n_header], mapping)
    cols = ", ".join(f"{ident(h)} AS {ident(c)}" for c, h in mapped.items())
    cols += "".join(f", {ident(h)} AS {ident(n)}" for n, h in extras.items())
    if extra_fields:
        joined = ", ".join(ident(h) for h in extra_fields)
        cols += f", nullif(concat_ws('{_OVERFLOW_SEP}', {joined}), '') AS __overflow"
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {ident(view)} AS SELECT row_number() OVER () + 1 AS __row, {cols} "
        f"FROM {_csv_call(utf8_path)}"
    )
    rr = RawRelation(source, view, {c: (c, "VARCHAR") for c in mapped}, {n: n for n in extras})
    rr.overflow = n_header if extra_fields else 0
    return rr


_OVERFLOW_SEP = " | "


def _header_fields(path: str, found: int) -> int:
    """How many fields the header line really has (DuckDB widens the table when a later row has more)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            line = fh.readline()
        delim = max(",\t|;", key=line.count)
        first = next(csv.reader([line], delimiter=delim))
    except (StopIteration, OSError, csv.Error, UnicodeDecodeError):
        return found
    return min(found, len(first)) if first else found


def parquet_relation(con: duckdb.DuckDBPyConnection, source: Source, view: str, mapping: Mapping) -> RawRelation:
    """A Parquet file as a relation; rows are numbered from 1 (Parquet has no header row)."""
    call = f"read_parquet({lit(str(source.path))}, file_row_number = true)"
    try:
        desc = con.execute(f"DESCRIBE SELECT * FROM {call}").fetchall()
    except duckdb.Error as exc:
        msg = engine_message(exc)
        raise unusable(source.name, f"无法读取 Parquet: {msg}", f"cannot be read as Parquet: {msg}") from exc
    types = {d[0]: d[1] for d in desc if d[0] != "file_row_number"}
    mapped, extras = map_headers(source, list(types), mapping)
    cols = ", ".join(f"{ident(h)} AS {ident(c)}" for c, h in mapped.items())
    cols += "".join(f", CAST({ident(h)} AS VARCHAR) AS {ident(n)}" for n, h in extras.items())
    con.execute(f"CREATE OR REPLACE TEMP VIEW {ident(view)} AS SELECT file_row_number + 1 AS __row, {cols} FROM {call}")
    return RawRelation(source, view, {c: (c, types[h]) for c, h in mapped.items()}, {n: n for n in extras})
