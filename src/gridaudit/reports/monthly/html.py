"""The monthly report as one self-contained HTML file: styles inline, charts inline as SVG, no external
resource (no link, script, image or font fetched). The PDF is this HTML printed by WeasyPrint."""

from __future__ import annotations

from html import escape
from typing import Any

from gridaudit.reports.monthly.fmt import change, number, text
from gridaudit.reports.monthly.model import Chart, Figure, MonthlyReport, Section, Table

CSS = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
  "WenQuanYi Micro Hei", sans-serif; color: #1d2733; margin: 0 auto; max-width: 1100px; padding: 16px 24px;
  font-size: 14px; line-height: 1.45; }
header { border-bottom: 3px solid #1f5f99; margin-bottom: 12px; }
h1 { font-size: 24px; margin: 4px 0; color: #1f5f99; }
h2 { font-size: 19px; margin: 26px 0 8px; border-left: 5px solid #1f5f99; padding-left: 8px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.meta { color: #556; font-size: 12.5px; margin: 2px 0 8px; }
nav ol { columns: 2; font-size: 13px; }
.cards { display: flex; flex-wrap: wrap; gap: 8px; }
.card { border: 1px solid #d5dde6; border-radius: 6px; padding: 6px 10px; min-width: 150px; flex: 1 1 150px;
  background: #f7f9fb; }
.card .label { font-size: 12px; color: #556; }
.card .value { font-size: 20px; font-weight: bold; }
.card .cmp { font-size: 11.5px; color: #556; }
.worse { color: #b3261e; } .better { color: #2e7d32; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 10px; font-size: 12.5px; }
th, td { border: 1px solid #d5dde6; padding: 3px 6px; vertical-align: top; }
th { background: #e8eef5; text-align: left; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tfoot td { font-weight: bold; background: #f2f5f8; }
.note { color: #556; font-size: 12.5px; }
.empty { color: #889; font-style: italic; }
figure { margin: 6px 0 12px; }
figure svg { max-width: 100%; height: auto; }
ul.items li { margin: 2px 0; }
@media print { body { max-width: none; padding: 0; } h2 { break-before: page; }
  section:first-of-type h2 { break-before: auto; } }
"""
NUMERIC = ("int", "kwh", "yuan", "pct", "rate", "score")


def _words(lang: str) -> dict[str, str]:
    zh = lang == "zh"
    return {
        "prev": "上月" if zh else "last month",
        "year": "去年同期" if zh else "same month last year",
        "none": "本月无记录" if zh else "none this month",
        "contents": "目录" if zh else "Contents",
        "sources": "数据来源" if zh else "Sources",
        "month": "报告月份" if zh else "report month",
        "data": "数据月份" if zh else "data month",
        "unit": "范围" if zh else "scope",
        "all": "全部单位" if zh else "all units",
        "made": "生成时间 (UTC)" if zh else "generated (UTC)",
    }


def _card(f: Figure, lang: str) -> str:
    w = _words(lang)

    def cmp(label: str, base: Any, ch: Any) -> str:
        if base is None:
            return ""
        cls = f.judged(ch) or ""
        return (
            f'<div class="cmp">{escape(label)} {escape(number(base, f.kind, lang))} '
            f'<span class="{cls}">({escape(change(ch, f.kind, lang))})</span></div>'
        )

    return (
        f'<div class="card" data-key="{escape(f.key)}"><div class="label">{escape(text(f.label, lang))}</div>'
        f'<div class="value">{escape(number(f.value, f.kind, lang))}</div>'
        f"{cmp(w['prev'], f.prev, f.change_prev)}{cmp(w['year'], f.last_year, f.change_year)}</div>"
    )


def _cell(value: Any, kind: str, lang: str, tag: str = "td") -> str:
    cls = ' class="num"' if kind in NUMERIC else ""
    return f"<{tag}{cls}>{escape(number(value, kind, lang))}</{tag}>"


def table_html(t: Table, lang: str) -> str:
    """One table: caption as a heading, header row repeated on every printed page, totals in the footer."""
    head = "".join(f"<th>{escape(text(c.label, lang))}</th>" for c in t.columns)
    out = [f"<h3>{escape(text(t.title, lang))}</h3>"]
    if not t.rows:
        out.append(f'<p class="empty">{escape(_words(lang)["none"])}</p>')
        return "".join(out)
    body = "".join(
        "<tr>" + "".join(_cell(v, c.kind, lang) for v, c in zip(r, t.columns, strict=True)) + "</tr>" for r in t.rows
    )
    foot = ""
    if t.totals is not None:
        foot = "<tfoot><tr>" + "".join(_cell(v, c.kind, lang) for v, c in zip(t.totals, t.columns, strict=True))
        foot += "</tr></tfoot>"
    out.append(f'<table data-key="{escape(t.key)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody>{foot}</table>')
    if t.note is not None:
        out.append(f'<p class="note">{escape(text(t.note, lang))}</p>')
    return "".join(out)


def chart_svg(chart: Chart, lang: str) -> str:
    """The chart as inline SVG (the shared chart builder, rendered by vl-convert)."""
    from gridaudit.charts.render import to_svg
    from gridaudit.charts.report import report_chart_spec

    svg = to_svg(report_chart_spec(chart, lang))
    if svg.startswith("<?xml"):
        svg = svg[svg.index("?>") + 2 :]
    return f'<figure data-key="{escape(chart.key)}">{svg}</figure>'


def _list(t: Table, lang: str) -> str:
    items = "".join(f"<li>{escape(text(r[0], lang))}</li>" for r in t.rows)
    return f'<h3>{escape(text(t.title, lang))}</h3><ul class="items">{items}</ul>'


def section_html(s: Section, lang: str, charts: bool = True) -> str:
    """One numbered section: its key figures, notes, charts and tables."""
    out = [f'<section id="s{s.number}"><h2>{s.number}. {escape(text(s.title, lang))}</h2>']
    if s.figures:
        out.append('<div class="cards">' + "".join(_card(f, lang) for f in s.figures) + "</div>")
    for n in s.notes:
        out.append(f'<p class="note">{escape(text(n, lang))}</p>')
    if charts:
        out.extend(chart_svg(c, lang) for c in s.charts)
    for t in s.tables:
        out.append(_list(t, lang) if len(t.columns) == 1 else table_html(t, lang))
    out.append("</section>")
    return "".join(out)


def render_html(rep: MonthlyReport, lang: str = "zh", charts: bool = True) -> str:
    """The whole report as one HTML document in ``lang``."""
    w = _words(lang)
    title = text(rep.title, lang)
    if rep.company:
        title = f"{rep.company} {title}" if lang == "zh" else f"{title} — {rep.company}"
    scope = rep.unit_name and f"{rep.unit_name}（{rep.unit_id}）" or w["all"]
    meta = (
        f"{w['month']}: {rep.month} · {w['data']}: {rep.data_month or '—'} · {w['unit']}: {scope} · "
        f"{w['made']}: {rep.generated_at.isoformat(sep=' ', timespec='minutes')}"
    )
    toc = "".join(f'<li><a href="#s{s.number}">{escape(text(s.title, lang))}</a></li>' for s in rep.sections)
    body = "".join(section_html(s, lang, charts) for s in rep.sections)
    sources = "".join(f"<li>{escape(text(x, lang))}</li>" for x in rep.sources)
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (
        f'<!DOCTYPE html><html lang="{html_lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{escape(title)}</h1><p class="meta">{escape(meta)}</p></header>'
        f"<nav><h3>{w['contents']}</h3><ol>{toc}</ol></nav>{body}"
        f'<footer><h3>{w["sources"]}</h3><ul class="note">{sources}</ul></footer></body></html>'
    )
