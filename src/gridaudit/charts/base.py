"""The common part of every chart spec, and generic line, bar and stacked-bar builders.

A spec is a plain dict (Vega-Lite v5) with its data inline, so it renders the same in a report (SVG via
vl-convert) and in a page (the runtime the web app serves). Values are made JSON-safe here: dates and
times become local ISO strings (``2024-06-03T00:00:00``, no zone, so the browser and vl-convert read them
alike), periods ``YYYY-MM`` become the month's first day. ``usermeta.lang`` records the language the labels
are in, so the renderer formats numbers and dates for it. A row may carry ``href``: the chart then links
each mark to it (the list behind the number).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from gridaudit.charts.labels import resolve_lang, text_in
from gridaudit.i18n import Text

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
_PERIOD = re.compile(r"^\d{4}-\d{2}$")
Title = Text | str | None


def json_value(v: Any) -> Any:
    """A value as JSON wants it: dates/times as local ISO strings, Decimal as float, NaN as None."""
    if isinstance(v, datetime):
        return v.replace(tzinfo=None).isoformat(timespec="seconds")
    if isinstance(v, date):
        return f"{v.isoformat()}T00:00:00"
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return v


def period_value(period: str) -> str:
    """A period ``YYYY-MM`` as the temporal value of its first day."""
    if not _PERIOD.match(period):
        raise ValueError(f"period must be YYYY-MM: {period!r}")
    return f"{period}-01T00:00:00"


def records(rows: Iterable[Mapping[str, Any]], fields: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Rows as JSON-safe dicts (only ``fields`` plus ``href`` when given)."""
    out = []
    for row in rows:
        keys = [*fields, "href"] if fields is not None else list(row)
        out.append({k: json_value(row[k]) for k in keys if k in row})
    return out


def base_spec(
    values: list[dict[str, Any]],
    lang: str,
    title: Title = None,
    width: int | str = 640,
    height: int = 260,
) -> dict[str, Any]:
    """The common top of a spec: schema, inline data, size, title, language and a readable theme."""
    spec: dict[str, Any] = {
        "$schema": SCHEMA,
        "usermeta": {"lang": lang},
        "data": {"values": values},
        "width": width,
        "height": height,
        "config": {
            "view": {"stroke": None},
            "axis": {"labelFontSize": 11, "titleFontSize": 12, "grid": True, "gridOpacity": 0.4},
            "legend": {"labelFontSize": 11, "titleFontSize": 12, "orient": "bottom"},
            "title": {"fontSize": 14, "anchor": "start"},
        },
    }
    if title is not None:
        spec["title"] = text_in(title, lang)
    return spec


def add_href(encoding: dict[str, Any], values: list[dict[str, Any]]) -> dict[str, Any]:
    """``encoding`` with an ``href`` channel when the data rows carry links."""
    if any("href" in v for v in values):
        return {**encoding, "href": {"field": "href", "type": "nominal"}}
    return encoding


def _axis_title(t: Title, lang: str) -> str | None:
    return None if t is None else text_in(t, lang)


def _x_encoding(field: str, x_type: str, title: Title, lang: str) -> dict[str, Any]:
    enc: dict[str, Any] = {"field": field, "type": x_type, "title": _axis_title(title, lang)}
    if x_type == "temporal":
        enc["axis"] = {"format": "%m-%d" if lang == "zh" else "%b %d", "labelAngle": 0}
    elif x_type == "nominal":
        enc["sort"] = None
        enc["axis"] = {"labelAngle": 0}
    return enc


def line_chart(
    rows: Iterable[Mapping[str, Any]],
    x: str,
    y: str,
    *,
    color: str | None = None,
    x_type: str = "temporal",
    title: Title = None,
    x_title: Title = None,
    y_title: Title = None,
    lang: str | None = None,
    width: int | str = 640,
    height: int = 260,
) -> dict[str, Any]:
    """A line chart of ``y`` over ``x`` (one line per ``color`` value when given), points on the line."""
    lang = resolve_lang(lang)
    values = records(rows)
    enc: dict[str, Any] = {
        "x": _x_encoding(x, x_type, x_title, lang),
        "y": {"field": y, "type": "quantitative", "title": _axis_title(y_title, lang)},
        "tooltip": [{"field": x, "type": x_type}, {"field": y, "type": "quantitative", "format": ",.2f"}],
    }
    if color is not None:
        enc["color"] = {"field": color, "type": "nominal", "title": None}
        enc["tooltip"].insert(0, {"field": color, "type": "nominal"})
    spec = base_spec(values, lang, title, width, height)
    spec["mark"] = {"type": "line", "point": True}
    spec["encoding"] = add_href(enc, values)
    return spec


def bar_chart(
    rows: Iterable[Mapping[str, Any]],
    x: str,
    y: str,
    *,
    stack: str | None = None,
    horizontal: bool = False,
    x_type: str = "nominal",
    title: Title = None,
    x_title: Title = None,
    y_title: Title = None,
    colors: Mapping[str, str] | None = None,
    lang: str | None = None,
    width: int | str = 640,
    height: int = 260,
) -> dict[str, Any]:
    """A bar chart of ``y`` per ``x``; with ``stack`` a stacked bar (one colour per ``stack`` value, in the
    order the values first appear, or ``colors``' order and colours when given); ``horizontal`` lays the
    categories on the vertical axis."""
    lang = resolve_lang(lang)
    values = records(rows)
    cat = _x_encoding(x, x_type, x_title, lang)
    num: dict[str, Any] = {"field": y, "type": "quantitative", "title": _axis_title(y_title, lang)}
    enc: dict[str, Any] = {"y": cat, "x": num} if horizontal else {"x": cat, "y": num}
    tooltip: list[dict[str, Any]] = [{"field": x, "type": x_type}, {"field": y, "type": "quantitative", "format": ","}]
    if stack is not None:
        order = list(colors) if colors else list(dict.fromkeys(str(v.get(stack)) for v in values))
        color: dict[str, Any] = {"field": stack, "type": "nominal", "title": None, "sort": order}
        if colors:
            color["scale"] = {"domain": list(colors), "range": list(colors.values())}
        enc["color"] = color
        enc["order"] = {"field": f"{stack}__order", "type": "quantitative"}
        for v in values:
            key = str(v.get(stack))
            v[f"{stack}__order"] = order.index(key) if key in order else len(order)
        tooltip.insert(1, {"field": stack, "type": "nominal"})
    enc["tooltip"] = tooltip
    spec = base_spec(values, lang, title, width, height)
    spec["mark"] = {"type": "bar", "tooltip": True}
    spec["encoding"] = add_href(enc, values)
    return spec


def stacked_bar_chart(rows: Iterable[Mapping[str, Any]], x: str, y: str, stack: str, **kwargs: Any) -> dict[str, Any]:
    """A stacked bar chart: :func:`bar_chart` with ``stack``."""
    return bar_chart(rows, x, y, stack=stack, **kwargs)
