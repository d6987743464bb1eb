"""Vega-Lite specs for the monthly report's charts: a report ``Chart`` (categories × series, computed in the
report model) as a line or bar chart from the shared builders in :mod:`gridaudit.charts.base`."""

from __future__ import annotations

from typing import Any

from gridaudit.charts.base import bar_chart, line_chart
from gridaudit.charts.labels import text_in


def report_chart_spec(chart: Any, lang: str, width: int = 620, height: int = 220) -> dict[str, Any]:
    """The spec of a report chart (``reports.monthly.model.Chart``) in ``lang``: one line or bar per series
    (bars stacked when there are several series); missing values are left out."""
    cats = [text_in(c, lang) for c in chart.categories]
    rows = [
        {"x": cat, "y": v, "series": text_in(s.name, lang)}
        for s in chart.series
        for cat, v in zip(cats, s.values, strict=True)
        if v is not None
    ]
    common: dict[str, Any] = {
        "x_type": "nominal",
        "title": chart.title,
        "x_title": chart.x_label,
        "y_title": chart.y_label,
        "lang": lang,
        "width": width,
        "height": height,
    }
    several = len(chart.series) > 1
    if chart.kind == "line":
        spec = line_chart(rows, "x", "y", color="series" if several else None, **common)
    else:
        spec = bar_chart(rows, "x", "y", stack="series" if several else None, **common)
    spec["encoding"]["x"]["sort"] = cats
    return spec
