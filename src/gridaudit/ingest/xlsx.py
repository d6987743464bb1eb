"""Workbooks: a sheet per table (the sheet name, else the file name, decides which), with header
detection that copes with a title row merged across the columns above the real header and with
two-row headers (a group label merged over several columns, the column names below it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import duckdb
import pyarrow as pa
from python_calamine import CalamineWorkbook

from gridaudit.contract.spec import AmbiguousName
from gridaudit.ingest.coerce import ident
from gridaudit.ingest.errors import SourceProblem, UnusableSource, unusable
from gridaudit.ingest.mapping import Mapping
from gridaudit.ingest.readers import RawRelation, map_headers
from gridaudit.ingest.sources import Source, ambiguous

HEADER_SCAN_ROWS = 10


def cell_text(v: object) -> str | None:
    """A cell as text the coercions understand (dates ISO, integral floats without '.0')."""
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return str(v)
    return str(v)


def _open(path: Path, name: str) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # noqa: BLE001 - calamine raises several types for a bad workbook
        raise unusable(name, f"无法作为 XLSX 工作簿读取: {exc}", f"cannot be read as an XLSX workbook: {exc}") from exc


def sheet_sources(source: Source, mapping: Mapping, skipped: list[SourceProblem] | None = None) -> list[Source]:
    """One source per non-empty sheet of a workbook, with the table its sheet or file name gives.

    A sheet whose own name names no table takes the file's table, unless its first rows name no column of
    that table while another sheet does place (a notes sheet such as 说明 beside the data). Such sheets, and
    sheets when neither name tells the table, are appended to ``skipped`` as warnings, as files naming no
    table in a folder are. A workbook with no sheet left is unusable. Without ``skipped`` every sheet must place.
    """
    wb = _open(source.path, source.name)
    out: list[Source] = []
    unsure: list[Source] = []
    unplaced: list[str] = []
    problems: list[SourceProblem] = []
    try:
        file_table = mapping.table_for(source.path.name)
    except AmbiguousName:
        file_table = None  # the sheets must tell
    for sheet in wb.sheet_names:
        ws = wb.get_sheet_by_name(sheet)
        if ws.height == 0:
            continue
        name = f"{source.name}[{sheet}]"
        try:
            own = mapping.table_for(sheet)
        except AmbiguousName as exc:
            problems.append(ambiguous(name, exc))
            continue
        if own is not None:
            out.append(replace(source, name=name, table=own, sheet=sheet))
        elif file_table is None:
            unplaced.append(sheet)
        else:
            sheet_source = replace(source, name=name, table=file_table, sheet=sheet)
            rows: list[list[object]] = [
                list(r) for r in ws.to_python(skip_empty_area=False, nrows=HEADER_SCAN_ROWS + 1)
            ]
            (out if _names_columns(rows, file_table, mapping) else unsure).append(sheet_source)
    if not out and unsure:
        out, unsure = unsure, []  # the only candidates: let the header check say what is missing
    if skipped is None or not out:
        problems += [_no_table(f"{source.name}[{sh}]") for sh in unplaced]
    if problems:
        raise UnusableSource(problems)
    if not out:
        raise unusable(source.name, "工作簿中没有数据", "the workbook holds no data", row=1)
    if skipped is not None:
        skipped += [_no_table(f"{source.name}[{sh}]", skip=True) for sh in unplaced]
        skipped += [_not_the_table(u) for u in unsure]
    return out


def _names_columns(rows: list[list[object]], table: str, mapping: Mapping) -> bool:
    """Whether any of the first rows of a sheet holds a header cell naming a column of ``table``."""
    return any(mapping.column_for(table, t) for r in rows[:HEADER_SCAN_ROWS] for v in r if (t := cell_text(v)))


def _no_table(name: str, skip: bool = False) -> SourceProblem:
    if skip:
        return SourceProblem(
            name,
            "已跳过: 工作表名和文件名都不对应任何表 (可用 --mapping 指定)",
            "skipped: neither the sheet nor the file name names a table (use --mapping to place it)",
        )
    return SourceProblem(
        name,
        "无法从工作表名或文件名判断是哪张表; 请按导入规范命名或用 --mapping 指定",
        "cannot tell the table from the sheet or file name; name it as in the contract or use --mapping",
    )


def _not_the_table(s: Source) -> SourceProblem:
    return SourceProblem(
        s.name,
        f"已跳过: 工作表名不对应任何表, 前 {HEADER_SCAN_ROWS} 行也没有 {s.table} 的列名 (如说明页)",
        f"skipped: the sheet name names no table and its first {HEADER_SCAN_ROWS} rows name no column of "
        f"{s.table} (a notes sheet?)",
    )


def _fill_merged(rows: list[list[object]], merged: list[tuple[tuple[int, int], tuple[int, int]]], limit: int) -> None:
    for (r0, c0), (r1, c1) in merged:
        if r0 >= limit or r0 >= len(rows):
            continue
        value = rows[r0][c0] if c0 < len(rows[r0]) else None
        for r in range(r0, min(r1 + 1, limit, len(rows))):
            for c in range(c0, c1 + 1):
                if c < len(rows[r]):
                    rows[r][c] = value


def _header(rows: list[list[object]], table: str, mapping: Mapping) -> tuple[int, list[str]]:
    """Find the header: the row (or pair of rows) whose cells name the most contract columns.

    Returns the 0-based index of the last header row and the header names.
    """
    best: tuple[int, int, list[str]] = (0, 0, [])
    for i in range(min(HEADER_SCAN_ROWS, len(rows))):
        single = [cell_text(v) or "" for v in rows[i]]
        score = sum(1 for h in single if h and mapping.column_for(table, h))
        if score > best[0]:
            best = (score, i, single)
        if i + 1 < len(rows):
            upper, lower = single, [cell_text(v) or "" for v in rows[i + 1]]
            pair = []
            for c in range(max(len(upper), len(lower))):
                lo = lower[c] if c < len(lower) else ""
                up = upper[c] if c < len(upper) else ""
                if lo and mapping.column_for(table, lo):
                    pair.append(lo)
                elif up and mapping.column_for(table, up):
                    pair.append(up)
                else:
                    pair.append(lo or up)
            pscore = sum(1 for h in pair if h and mapping.column_for(table, h))
            if pscore > best[0]:
                best = (pscore, i + 1, pair)
    if best[0] == 0:
        first = [cell_text(v) or "" for v in rows[0]]
        return 0, first
    return best[1], best[2]


def xlsx_relation(con: duckdb.DuckDBPyConnection, source: Source, view: str, mapping: Mapping) -> RawRelation:
    """A workbook sheet as a relation; ``__row`` is the Excel row number."""
    wb = _open(source.path, source.name)
    ws = wb.get_sheet_by_name(source.sheet or "")
    rows: list[list[object]] = [list(r) for r in ws.to_python(skip_empty_area=False)]
    merged = [((m[0][0], m[0][1]), (m[1][0], m[1][1])) for m in (ws.merged_cell_ranges or [])]
    _fill_merged(rows, merged, HEADER_SCAN_ROWS + 1)
    if not rows:
        raise unusable(source.name, "工作表为空", "the sheet is empty", row=1)
    last, headers = _header(rows, source.table, mapping)
    names: list[str] = []
    for c, h in enumerate(headers):
        h = h or f"column_{c + 1}"
        while h in names:
            h += "_"
        names.append(h)
    mapped, extras = map_headers(source, names, mapping)
    data = rows[last + 1 :]
    if not any(any(v not in (None, "") for v in r) for r in data):
        raise unusable(source.name, "只有表头, 没有数据行", "header only: no data rows", row=last + 2)
    cols: dict[str, list[str | None]] = {"__row": []}
    keep = [(names.index(h), c) for c, h in mapped.items()] + [(names.index(h), n) for n, h in extras.items()]
    for _, out in keep:
        cols[out] = []
    row_numbers: list[int] = []
    for offset, r in enumerate(data):
        if all(v in (None, "") for v in r):
            continue
        row_numbers.append(last + 2 + offset)
        for idx, out in keep:
            cols[out].append(cell_text(r[idx]) if idx < len(r) else None)
    arrays = {"__row": pa.array(row_numbers, pa.int64())} | {out: pa.array(cols[out], pa.string()) for _, out in keep}
    source.expected_rows = len(row_numbers)
    con.register(view + "_arrow", pa.table(arrays))
    con.execute(f"CREATE OR REPLACE TEMP VIEW {ident(view)} AS SELECT * FROM {ident(view + '_arrow')}")
    return RawRelation(source, view, {c: (c, "VARCHAR") for c in mapped}, {n: n for n in extras})
