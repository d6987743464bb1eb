"""Charts: Vega-Lite specs built once in Python, shared by the web app and the reports (DESIGN §6).

Builders (:mod:`.builders`, generic ones in :mod:`.base`) return plain dicts with their data inline and
labels in zh or en; :mod:`.render` turns a spec into SVG/PNG with the system CJK font (reports) and serves
the browser runtime that vl-convert-python ships (web). :mod:`.labels` names the codes charts show.
"""

from gridaudit.charts.base import bar_chart, line_chart, stacked_bar_chart
from gridaudit.charts.builders import (
    band_counts_chart,
    daily_use_chart,
    findings_chart,
    loss_trend_chart,
    supply_sales_loss_chart,
)
from gridaudit.charts.fonts import CjkFont, CjkFontError, find_cjk_font
from gridaudit.charts.labels import label

__all__ = [
    "CjkFont",
    "CjkFontError",
    "band_counts_chart",
    "bar_chart",
    "daily_use_chart",
    "find_cjk_font",
    "findings_chart",
    "label",
    "line_chart",
    "loss_trend_chart",
    "stacked_bar_chart",
    "supply_sales_loss_chart",
]
