"""The monthly report as a workbook: a summary sheet, then one sheet per section (its key figures, then each
table as an Excel table with autofilter and totals, then native charts over the chart data). Sheet names and
headers in the report's language; numbers stay numbers with their formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gridaudit.reports.monthly.fmt import text
from gridaudit.reports.monthly.model import Chart, Figure, MonthlyReport, Section
from gridaudit.reports.xlsx import (
    Formats,
    add_table,
    cell_value,
    freeze_below,
    native_chart,
    sheet_name,
    write_workbook,
)


def _words(lang: str) -> dict[str, str]:
    zh = lang == "zh"
    return {
        "figure": "指标" if zh else "figure",
        "value": "本月" if zh else "this month",
        "prev": "上月" if zh else "last month",
        "year": "去年同期" if zh else "same month last year",
        "d_prev": "较上月" if zh else "vs last month",
        "d_year": "较去年同期" if zh else "vs last year",
        "month": "报告月份" if zh else "report month",
        "data": "数据月份" if zh else "data month",
        "scope": "范围" if zh else "scope",
        "all": "全部单位" if zh else "all units",
        "made": "生成时间 (UTC)" if zh else "generated (UTC)",
        "chart_data": "图表数据" if zh else "chart data",
    }


def _figure_block(ws: Any, fmts: Formats, row: int, figs: list[Figure], lang: str, widths: dict[int, int]) -> int:
    """Key figures as an Excel table: one row per figure, each row in its own number format."""
    w = _words(lang)
    headers = [w["figure"], w["value"], w["prev"], w["year"], w["d_prev"], w["d_year"]]
    rows = [[text(f.label, lang), f.value, f.prev, f.last_year, f.change_prev, f.change_year] for f in figs]
    nxt = add_table(ws, fmts, row, headers, ["text", "score", "score", "score", "score", "score"], rows, widths=widths)
    for i, f in enumerate(figs, start=1):
        for j, v in enumerate(rows[i - 1][1:], start=1):
            if v is not None:
                ws.write_number(row + i, j, v, fmts.get(f.kind))
    return nxt


def _chart_data(book: Any, ws: Any, name: str, fmts: Formats, c: Chart, row: int, col: int, lang: str) -> None:
    ws.write(row, col, text(c.x_label, lang), fmts.get("text", bold=True))
    for j, s in enumerate(c.series, start=1):
        ws.write(row, col + j, text(s.name, lang), fmts.get("text", bold=True))
    for i, cat in enumerate(c.categories, start=1):
        ws.write(row + i, col, text(cat, lang))
        for j, s in enumerate(c.series, start=1):
            v = s.values[i - 1]
            if v is not None:
                ws.write_number(row + i, col + j, v, fmts.get(c.y_kind))
    native_chart(
        book,
        ws,
        name,
        c.kind,
        text(c.title, lang),
        row,
        col,
        len(c.categories),
        [text(s.name, lang) for s in c.series],
        text(c.y_label, lang),
        anchor=_anchor(row, col + len(c.series) + 2),
    )


def _anchor(row: int, col: int) -> str:
    from xlsxwriter.utility import xl_rowcol_to_cell

    return str(xl_rowcol_to_cell(row, col))


def _section_sheet(book: Any, fmts: Formats, s: Section, lang: str, taken: set[str], with_charts: bool) -> None:
    name = sheet_name(f"{s.number} {text(s.title, lang)}", taken)
    ws = book.add_worksheet(name)
    ws.write(0, 0, f"{s.number}. {text(s.title, lang)}", fmts.title())
    widths: dict[int, int] = {}
    row = 2
    first_header: int | None = None
    for n in s.notes:
        ws.write(row - 1, 0, text(n, lang))
        row += 1
    if s.figures:
        first_header = row
        row = _figure_block(ws, fmts, row, s.figures, lang, widths)
    for t in s.tables:
        ws.write(row, 0, text(t.title, lang), fmts.title())
        row += 1
        first_header = row if first_header is None else first_header
        rows = [[cell_value(v, lang) for v in r] for r in t.rows]
        totals = [cell_value(v, lang) for v in t.totals] if t.totals is not None else None
        row = add_table(
            ws,
            fmts,
            row,
            [text(c.label, lang) for c in t.columns],
            [c.kind for c in t.columns],
            rows,
            totals,
            widths=widths,
        )
    if with_charts and s.charts:
        col = max(widths) + 2 if widths else 8
        ws.write(1, col, _words(lang)["chart_data"], fmts.title())
        crow = 2
        for c in s.charts:
            _chart_data(book, ws, name, fmts, c, crow, col, lang)
            crow += max(len(c.categories) + 3, 16)
    if first_header is not None:
        freeze_below(ws, 0)


def _summary_sheet(book: Any, fmts: Formats, rep: MonthlyReport, lang: str, taken: set[str]) -> None:
    w = _words(lang)
    ws = book.add_worksheet(sheet_name("概要" if lang == "zh" else "Summary", taken))
    title = text(rep.title, lang)
    ws.write(0, 0, f"{rep.company} {title}".strip(), fmts.title())
    meta = [
        (w["month"], rep.month),
        (w["data"], rep.data_month or "—"),
        (w["scope"], f"{rep.unit_name}（{rep.unit_id}）" if rep.unit_id else w["all"]),
        (w["made"], rep.generated_at.isoformat(sep=" ", timespec="minutes")),
    ]
    for i, (k, v) in enumerate(meta, start=1):
        ws.write(i, 0, k, fmts.get("text", bold=True))
        ws.write(i, 1, v)
    widths: dict[int, int] = {}
    summary = rep.section("summary")
    row = _figure_block(ws, fmts, len(meta) + 2, summary.figures, lang, widths)
    for t in summary.tables:
        ws.write(row, 0, text(t.title, lang), fmts.title())
        row = add_table(
            ws,
            fmts,
            row + 1,
            [text(c.label, lang) for c in t.columns],
            ["text"],
            [[text(r[0], lang)] for r in t.rows],
            widths=widths,
        )
    ws.set_column(0, 0, max(widths.get(0, 10), 40))
    freeze_below(ws, 0)


def render_xlsx(rep: MonthlyReport, path: str | Path, lang: str = "zh", charts: bool = True) -> Path:
    """Write the report's workbook to ``path`` (atomically)."""
    taken: set[str] = set()
    with write_workbook(path) as book:
        book.set_properties({"title": text(rep.title, lang), "company": rep.company, "author": "gridaudit"})
        fmts = Formats(book)
        _summary_sheet(book, fmts, rep, lang, taken)
        for s in rep.sections:
            if s.key != "summary":
                _section_sheet(book, fmts, s, lang, taken, charts)
    return Path(path)
