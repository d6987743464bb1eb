"""The charts of the audit trade, as Vega-Lite specs: daily use with meter events and the suspected theft
window, an area's (or feeder's) daily supply/sales/loss, the loss-rate trend with the normal band, band
counts and findings by family and severity with money at stake.

Each builder takes plain rows (mappings; dates as ``date``/``datetime``, periods as ``YYYY-MM``) and
``lang`` (``zh`` or ``en``; default the process language) and returns a dict; codes (family, severity,
band, level, event type) are shown by their labels (:mod:`gridaudit.charts.labels`). A row may carry
``href`` to link its mark to the list behind it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from gridaudit.charts.base import (
    Title,
    add_href,
    bar_chart,
    base_spec,
    json_value,
    period_value,
    records,
)
from gridaudit.charts.labels import (
    BAND_COLOR,
    BAND_LABEL,
    SEVERITY_COLOR,
    SEVERITY_LABEL,
    label,
    resolve_lang,
    text_in,
)
from gridaudit.i18n import Text

_DAY = Text("日期", "day")
_KWH = Text("电量（千瓦时）", "energy (kWh)")
_MONTH = Text("月份", "month")
_RATE = Text("线损率（%）", "loss rate (%)")
_WINDOW = Text("疑似窃电时段", "suspected theft window")
_FROM = Text("开始", "from")
_TO = Text("结束（不含）", "until (exclusive)")
_EVENTS = Text("电能表事件", "meter events")
_AT = Text("发生时间", "at")
_ENDED = Text("结束时间", "ended")
_DETAIL = Text("详情", "detail")
_T_USE = Text("日用电量", "Daily use")
_T_SSL = Text("供电量、售电量与损失电量", "Supply, sales and loss")
_T_TREND = Text("线损率趋势", "Loss-rate trend")
_T_BANDS = Text("线损分档数量", "Loss bands")
SERIES_COLOR = {"supply_kwh": "#1f77b4", "sales_kwh": "#2e8b57", "loss_kwh": "#d9480f"}


def _day_axis(lang: str, title: Title = _DAY) -> dict[str, Any]:
    return {
        "title": None if title is None else text_in(title, lang),
        "format": "%m-%d" if lang == "zh" else "%b %d",
        "labelAngle": 0,
    }


def _month_axis(lang: str) -> dict[str, Any]:
    return {"title": text_in(_MONTH, lang), "format": "%Y-%m", "labelAngle": 0}


def _end_exclusive(end: date | datetime) -> Any:
    """The end of an inclusive day window as the next midnight (so the shading covers the last day)."""
    if isinstance(end, datetime):
        return json_value(end)
    return json_value(end + timedelta(days=1))


def daily_use_chart(
    usage: Iterable[Mapping[str, Any]],
    events: Iterable[Mapping[str, Any]] = (),
    theft_window: tuple[date | datetime, date | datetime] | None = None,
    *,
    title: Title = _T_USE,
    lang: str | None = None,
    width: int | str = 640,
    height: int = 240,
) -> dict[str, Any]:
    """Daily use (rows ``day``, ``kwh``) as a line, meter events (rows ``ts``, ``event_type``, optional
    ``ended_at``, ``detail``) as vertical rules coloured by type, the suspected theft window (first and last
    day, inclusive) shaded."""
    lang = resolve_lang(lang)
    values = records(usage, ["day", "kwh"])
    layers: list[dict[str, Any]] = []
    if theft_window is not None:
        start, end = theft_window
        win = [{"start": json_value(start), "end": _end_exclusive(end), "what": text_in(_WINDOW, lang)}]
        layers.append(
            {
                "data": {"values": win},
                "mark": {"type": "rect", "color": "#f4a6a6", "opacity": 0.35},
                "encoding": {
                    "x": {"field": "start", "type": "temporal"},
                    "x2": {"field": "end"},
                    "tooltip": [
                        {"field": "what", "type": "nominal", "title": " "},
                        {"field": "start", "type": "temporal", "title": text_in(_FROM, lang)},
                        {"field": "end", "type": "temporal", "title": text_in(_TO, lang)},
                    ],
                },
            }
        )
        layers.append(
            {
                "data": {"values": win},
                "mark": {"type": "text", "align": "left", "baseline": "top", "dx": 4, "dy": 4, "color": "#a61e1e"},
                "encoding": {"x": {"field": "start", "type": "temporal"}, "y": {"value": 0}, "text": {"field": "what"}},
            }
        )
    layers.append(
        {
            "mark": {"type": "line", "point": {"size": 18}, "color": "#1f77b4"},
            "encoding": {
                "x": {"field": "day", "type": "temporal", "axis": _day_axis(lang)},
                "y": {"field": "kwh", "type": "quantitative", "title": text_in(_KWH, lang)},
                "tooltip": [
                    {"field": "day", "type": "temporal", "title": text_in(_DAY, lang)},
                    {"field": "kwh", "type": "quantitative", "format": ",.2f", "title": text_in(_KWH, lang)},
                ],
            },
        }
    )
    ev = []
    for e in events:
        row = {
            "ts": json_value(e["ts"]),
            "event": label("event", str(e["event_type"]), lang),
            "ended_at": json_value(e.get("ended_at")),
            "detail": e.get("detail") or "",
        }
        ev.append(row)
    if ev:
        layers.append(
            {
                "data": {"values": ev},
                "mark": {"type": "rule", "strokeWidth": 2, "strokeDash": [4, 2]},
                "encoding": {
                    "x": {"field": "ts", "type": "temporal"},
                    "color": {
                        "field": "event",
                        "type": "nominal",
                        "title": text_in(_EVENTS, lang),
                        "scale": {"scheme": "set1"},
                    },
                    "tooltip": [
                        {"field": "event", "type": "nominal", "title": text_in(_EVENTS, lang)},
                        {"field": "ts", "type": "temporal", "format": "%Y-%m-%d %H:%M", "title": text_in(_AT, lang)},
                        {
                            "field": "ended_at",
                            "type": "temporal",
                            "format": "%Y-%m-%d %H:%M",
                            "title": text_in(_ENDED, lang),
                        },
                        {"field": "detail", "type": "nominal", "title": text_in(_DETAIL, lang)},
                    ],
                },
            }
        )
    spec = base_spec(values, lang, title, width, height)
    spec["layer"] = layers
    return spec


def supply_sales_loss_chart(
    rows: Iterable[Mapping[str, Any]],
    *,
    title: Title = _T_SSL,
    lang: str | None = None,
    width: int | str = 640,
    height: int = 260,
) -> dict[str, Any]:
    """An area's or feeder's daily supply, sales and loss (rows ``day``, ``supply_kwh``, ``sales_kwh``,
    ``loss_kwh``; a missing or None value leaves a gap) as three lines."""
    lang = resolve_lang(lang)
    series = list(SERIES_COLOR)
    names = {s: label("series", s, lang) for s in series}
    values = []
    for row in rows:
        for s in series:
            if row.get(s) is not None:
                values.append({"day": json_value(row["day"]), "series": names[s], "kwh": json_value(row[s])})
    spec = base_spec(values, lang, title, width, height)
    spec["mark"] = {"type": "line", "point": {"size": 16}}
    spec["encoding"] = {
        "x": {"field": "day", "type": "temporal", "axis": _day_axis(lang)},
        "y": {"field": "kwh", "type": "quantitative", "title": text_in(_KWH, lang)},
        "color": {
            "field": "series",
            "type": "nominal",
            "title": None,
            "sort": [names[s] for s in series],
            "scale": {"domain": [names[s] for s in series], "range": [SERIES_COLOR[s] for s in series]},
        },
        "tooltip": [
            {"field": "day", "type": "temporal", "title": text_in(_DAY, lang)},
            {"field": "series", "type": "nominal", "title": " "},
            {"field": "kwh", "type": "quantitative", "format": ",.1f", "title": text_in(_KWH, lang)},
        ],
    }
    return spec


def loss_trend_chart(
    rows: Iterable[Mapping[str, Any]],
    normal: tuple[float, float] = (0.0, 7.0),
    high_from: float | None = 10.0,
    *,
    title: Title = _T_TREND,
    lang: str | None = None,
    width: int | str = 640,
    height: int = 240,
) -> dict[str, Any]:
    """Monthly loss rate (rows ``period`` YYYY-MM, ``loss_rate_pct``, optional ``name`` for one line per
    entity) with the normal band ``normal`` (percent points, e.g. the bands' negative_below..watch_from)
    shaded and the high-loss threshold as a dashed rule."""
    lang = resolve_lang(lang)
    values = []
    for row in rows:
        v = {"period": period_value(str(row["period"])), "rate": json_value(row.get("loss_rate_pct"))}
        if row.get("name") is not None:
            v["name"] = str(row["name"])
        if "href" in row:
            v["href"] = row["href"]
        values.append(v)
    lo, hi = normal
    band_name = f"{text_in(BAND_LABEL['normal'], lang)} {lo:g}–{hi:g}%"
    layers: list[dict[str, Any]] = [
        {
            "data": {"values": [{"lo": lo, "hi": hi, "what": band_name}]},
            "mark": {"type": "rect", "color": BAND_COLOR["normal"], "opacity": 0.12},
            "encoding": {
                "y": {"field": "lo", "type": "quantitative"},
                "y2": {"field": "hi"},
                "tooltip": [{"field": "what", "type": "nominal", "title": " "}],
            },
        }
    ]
    if high_from is not None:
        layers.append(
            {
                "data": {"values": [{"v": high_from, "what": f"{text_in(BAND_LABEL['high'], lang)} > {high_from:g}%"}]},
                "mark": {"type": "rule", "color": BAND_COLOR["high"], "strokeDash": [6, 3]},
                "encoding": {
                    "y": {"field": "v", "type": "quantitative"},
                    "tooltip": [{"field": "what", "type": "nominal", "title": " "}],
                },
            }
        )
    line_enc: dict[str, Any] = {
        "x": {"field": "period", "type": "temporal", "timeUnit": "yearmonth", "axis": _month_axis(lang)},
        "y": {"field": "rate", "type": "quantitative", "title": text_in(_RATE, lang)},
        "tooltip": [
            {
                "field": "period",
                "type": "temporal",
                "timeUnit": "yearmonth",
                "format": "%Y-%m",
                "title": text_in(_MONTH, lang),
            },
            {"field": "rate", "type": "quantitative", "format": ".2f", "title": text_in(_RATE, lang)},
        ],
    }
    if any("name" in v for v in values):
        line_enc["color"] = {"field": "name", "type": "nominal", "title": None}
        line_enc["tooltip"].insert(0, {"field": "name", "type": "nominal", "title": " "})
    layers.append({"mark": {"type": "line", "point": True}, "encoding": add_href(line_enc, values)})
    spec = base_spec(values, lang, title, width, height)
    spec["layer"] = layers
    return spec


def band_counts_chart(
    rows: Iterable[Mapping[str, Any]],
    by: str | None = None,
    *,
    title: Title = _T_BANDS,
    lang: str | None = None,
    width: int | str = 640,
    height: int = 240,
) -> dict[str, Any]:
    """How many entities fall in each loss band (rows ``band``, ``count``; with ``by="level"`` also
    ``level``, one stacked bar per level; with ``by="period"`` also ``period``, one stacked bar per month)."""
    lang = resolve_lang(lang)
    if by not in (None, "level", "period"):
        raise ValueError(f"by must be None, 'level' or 'period', not {by!r}")
    colors = {text_in(BAND_LABEL[b], lang): c for b, c in BAND_COLOR.items()}
    data = []
    for row in rows:
        v: dict[str, Any] = {"band": label("band", str(row["band"]), lang), "count": int(row["count"])}
        if by == "level":
            v["level"] = label("level", str(row["level"]), lang)
        elif by == "period":
            v["period"] = str(row["period"])
        if "href" in row:
            v["href"] = row["href"]
        data.append(v)
    count_title = label("series", "count", lang)
    if by is None:
        spec = bar_chart(
            data,
            "band",
            "count",
            stack="band",
            colors=colors,
            y_title=count_title,
            title=title,
            lang=lang,
            width=width,
            height=height,
        )
        spec["encoding"]["x"]["sort"] = list(colors)
        return spec
    cat = "level" if by == "level" else "period"
    data.sort(key=lambda v: str(v[cat]) if by == "period" else 0)
    return bar_chart(
        data,
        cat,
        "count",
        stack="band",
        colors=colors,
        horizontal=by == "level",
        x_title=None if by == "level" else _MONTH,
        y_title=count_title,
        title=title,
        lang=lang,
        width=width,
        height=height,
    )


def findings_chart(
    rows: Iterable[Mapping[str, Any]],
    measure: str = "count",
    *,
    title: Title = None,
    lang: str | None = None,
    width: int | str = 640,
    height: int = 260,
) -> dict[str, Any]:
    """Findings by family, stacked by severity (rows ``family``, ``severity``, ``count``, ``yuan``): bar
    height is ``measure`` (``count`` or ``yuan``, the money at stake); the tooltip shows both."""
    lang = resolve_lang(lang)
    if measure not in ("count", "yuan"):
        raise ValueError(f"measure must be 'count' or 'yuan', not {measure!r}")
    colors = {text_in(SEVERITY_LABEL[s], lang): c for s, c in SEVERITY_COLOR.items()}
    data = []
    for row in rows:
        v: dict[str, Any] = {
            "family": label("family", str(row["family"]), lang),
            "severity": label("severity", str(row["severity"]), lang),
            "count": int(row.get("count") or 0),
            "yuan": round(float(row.get("yuan") or 0.0), 2),
        }
        if "href" in row:
            v["href"] = row["href"]
        data.append(v)
    if title is None:
        title = (
            Text("问题数（按类别与严重程度）", "Findings by family and severity")
            if measure == "count"
            else Text("涉及金额（按类别与严重程度）", "Money at stake by family and severity")
        )
    spec = bar_chart(
        data,
        "family",
        measure,
        stack="severity",
        colors=colors,
        y_title=label("series", measure, lang),
        title=title,
        lang=lang,
        width=width,
        height=height,
    )
    spec["encoding"]["tooltip"] = [
        {"field": "family", "type": "nominal", "title": text_in(Text("类别", "family"), lang)},
        {"field": "severity", "type": "nominal", "title": text_in(Text("严重程度", "severity"), lang)},
        {"field": "count", "type": "quantitative", "format": ",", "title": label("series", "count", lang)},
        {"field": "yuan", "type": "quantitative", "format": ",.2f", "title": label("series", "yuan", lang)},
    ]
    return spec
