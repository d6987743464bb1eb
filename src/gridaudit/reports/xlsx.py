"""XLSX helpers shared by every gridaudit workbook (the monthly report, ``audit export``), on XlsxWriter.

One way to write a sheet: :func:`add_table` writes an Excel table (header row with autofilter, number and
date formats by column kind, a totals row, column widths that fit CJK text, which counts double);
:func:`freeze_below` freezes the rows above a table's header; :func:`sheet_name` makes a legal, unique name;
:func:`native_chart` inserts a native Excel line or bar chart over cells already written; :func:`write_workbook`
writes to a temporary file and renames it, so a failed export never leaves half a workbook.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from gridaudit.i18n import Bilingual

NUM_FORMATS = {
    "int": "#,##0",
    "kwh": "#,##0.00",
    "yuan": "#,##0.00",
    "pct": "0.00",
    "rate": "0.0%",
    "score": "0.000",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}
SUMMABLE = ("int", "kwh", "yuan")
MAX_WIDTH = 60
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def display_width(text: str) -> int:
    """Columns ``text`` takes in a spreadsheet: wide (CJK) characters count 2, others 1."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def sheet_name(name: str, taken: set[str]) -> str:
    """``name`` as a legal sheet name (≤ 31 characters, no ``[]:*?/\\``), unique among ``taken`` (added)."""
    base = _BAD_SHEET_CHARS.sub("_", name).strip("'")[:31] or "sheet"
    out, i = base, 2
    while out.lower() in {t.lower() for t in taken}:
        suffix = f" ({i})"
        out, i = base[: 31 - len(suffix)] + suffix, i + 1
    taken.add(out)
    return out


@dataclass
class Formats:
    """The cell formats of one workbook, made once per kind."""

    book: Any
    cache: dict[str, Any] = field(default_factory=dict)

    def get(self, kind: str, bold: bool = False) -> Any:
        """The format of a column kind (``None`` for text)."""
        key = f"{kind}|{bold}"
        if key not in self.cache:
            props: dict[str, Any] = {"valign": "top"}
            if kind in NUM_FORMATS:
                props["num_format"] = NUM_FORMATS[kind]
            if kind == "text":
                props["text_wrap"] = True
            if bold:
                props["bold"] = True
            self.cache[key] = self.book.add_format(props)
        return self.cache[key]

    def title(self) -> Any:
        """The format of a sheet or table title."""
        if "__title" not in self.cache:
            self.cache["__title"] = self.book.add_format({"bold": True, "font_size": 13, "font_color": "#1f5f99"})
        return self.cache["__title"]


def cell_value(value: Any, lang: str) -> Any:
    """A model value as a cell value: labels in ``lang``, aware datetimes naive UTC, lists as text."""
    if isinstance(value, Bilingual):
        return value.zh if lang == "zh" else value.en
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if isinstance(value, list | tuple | dict):
        import json

        return json.dumps(value, ensure_ascii=False)
    return value


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        h = h or "-"
        n = seen.get(h, 0)
        seen[h] = n + 1
        out.append(h if n == 0 else f"{h} {n + 1}")
    return out


def _text_len(value: Any, kind: str) -> int:
    if value is None:
        return 0
    if kind == "date":
        return 10
    if kind == "datetime":
        return 16
    if isinstance(value, int | float) and kind in NUM_FORMATS:
        return len(f"{value:,.2f}") + 1
    return display_width(str(value))


def add_table(
    ws: Any,
    fmts: Formats,
    first_row: int,
    headers: Sequence[str],
    kinds: Sequence[str],
    rows: Sequence[Sequence[Any]],
    totals: Sequence[Any] | None = None,
    name: str | None = None,
    widths: dict[int, int] | None = None,
) -> int:
    """Write an Excel table at ``first_row`` (header, rows, optional totals row) and return the next free row.

    ``totals``: the totals row values from the model (first cell a label); a summable column whose total is
    the column sum gets a SUM total, other totals are written as the model's value. Column widths grow to fit
    (``widths`` collects the widest per column across the tables of a sheet)."""
    widths = {} if widths is None else widths
    heads = _unique([str(h) for h in headers])
    columns: list[dict[str, Any]] = []
    for i, (h, k) in enumerate(zip(heads, kinds, strict=True)):
        c: dict[str, Any] = {"header": h, "format": fmts.get(k), "header_format": fmts.get("text", bold=True)}
        if totals is not None:
            tv = totals[i]
            if i == 0:
                c["total_string"] = str(tv)
            elif isinstance(tv, int | float):
                col_sum = sum(r[i] for r in rows if isinstance(r[i], int | float))
                if k in SUMMABLE and abs(col_sum - tv) < 1e-6 * max(1.0, abs(tv)):
                    c["total_function"] = "sum"
                else:
                    c["total_function"] = f"={tv!r}"
                c["total_value"] = tv
        columns.append(c)
        width = max([display_width(h) + 3] + [_text_len(r[i], k) for r in rows[:2000]])
        widths[i] = min(MAX_WIDTH, max(widths.get(i, 8), width + 1))
    data = [[_date_cell(v) for v in r] for r in rows]
    last_row = first_row + max(1, len(rows)) + (1 if totals is not None else 0)
    opts: dict[str, Any] = {"columns": columns, "total_row": totals is not None, "style": "Table Style Light 9"}
    if data:
        opts["data"] = data
    if name:
        opts["name"] = name
    ws.add_table(first_row, 0, last_row, len(heads) - 1, opts)
    for i, w in widths.items():
        ws.set_column(i, i, w)
    return last_row + 2


def _date_cell(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.replace(tzinfo=None) if v.tzinfo else v
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)
    return v


def freeze_below(ws: Any, header_row: int) -> None:
    """Freeze the rows down to and including ``header_row`` (0-based), so the header stays in view."""
    ws.freeze_panes(header_row + 1, 0)


def native_chart(
    book: Any,
    ws: Any,
    sheet: str,
    kind: str,
    title: str,
    first_row: int,
    first_col: int,
    n_points: int,
    series_names: list[str],
    y_title: str = "",
    anchor: str | None = None,
) -> Any:
    """A native Excel chart over a block already written: categories in column ``first_col`` from
    ``first_row + 1``, one series per following column (names in ``first_row``). ``kind``: line or bar."""
    chart = book.add_chart({"type": "line" if kind == "line" else "column", **({} if kind == "line" else {})})
    q = sheet.replace("'", "''")
    for j, name in enumerate(series_names, start=1):
        chart.add_series(
            {
                "name": name,
                "categories": [q, first_row + 1, first_col, first_row + n_points, first_col],
                "values": [q, first_row + 1, first_col + j, first_row + n_points, first_col + j],
                "marker": {"type": "circle"} if kind == "line" else None,
            }
        )
    chart.set_title({"name": title, "name_font": {"size": 11}})
    chart.set_y_axis({"name": y_title, "major_gridlines": {"visible": True, "line": {"color": "#dddddd"}}})
    chart.set_legend({"position": "bottom" if len(series_names) > 1 else "none"})
    chart.set_size({"width": 620, "height": 280})
    if anchor:
        ws.insert_chart(anchor, chart)
    return chart


@contextmanager
def write_workbook(path: str | Path) -> Iterator[Any]:
    """An XlsxWriter workbook written to ``path`` atomically (temporary file, then renamed)."""
    import xlsxwriter

    from gridaudit.dataset import replacing

    with replacing(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"default_date_format": "yyyy-mm-dd", "strings_to_numbers": False})
        try:
            yield book
        finally:
            book.close()


def row_kinds(headers: Sequence[str], guess: Callable[[str], str]) -> list[str]:
    """The kind of every column from its header (``guess``: header → kind)."""
    return [guess(h) for h in headers]
