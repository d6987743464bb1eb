"""The charts of each page, built from its read model with the shared builders (:mod:`gridaudit.charts`).

Returns ``{name: spec}``; the page embeds each spec as a JSON data block that our own script renders.
Marks link to the list behind them where there is one (the dashboard's findings and band counts).
"""

from __future__ import annotations

from typing import Any

from gridaudit.charts import (
    band_counts_chart,
    daily_use_chart,
    findings_chart,
    loss_trend_chart,
    supply_sales_loss_chart,
)
from gridaudit.i18n import Text
from gridaudit.lineloss.settings import LossSettings
from gridaudit.views.area import LossEntityView
from gridaudit.views.customer import CustomerView
from gridaudit.views.dashboard import Dashboard


def _normal(settings: LossSettings | None, level: str, unit: str | None) -> tuple[tuple[float, float], float]:
    b = (settings or LossSettings()).bands_for(unit, level)
    return (b.negative_below, b.watch_from), b.high_from


def dashboard_charts(d: Dashboard, lang: str, settings: LossSettings | None = None) -> dict[str, dict[str, Any]]:
    """Findings by family (count and money), area bands of the month, band history and the unit trend."""
    rows = [
        {
            "family": r["family"],
            "severity": r["severity"],
            "count": r["count"].value,
            "yuan": r["yuan"].value,
            "href": r["count"].href,
        }
        for r in d.findings
    ]
    out = {
        "findings_count": findings_chart(rows, "count", lang=lang),
        "findings_yuan": findings_chart(rows, "yuan", lang=lang),
    }
    if d.loss is not None:
        bands = [
            {"level": level, "band": band, "count": fig.value, "href": fig.href}
            for level, per in d.loss.bands.items()
            for band, fig in per.items()
            if fig.value
        ]
        out["bands"] = band_counts_chart(bands, by="level", lang=lang)
        history = [r for r in d.loss.history if r["level"] == "area"]
        out["band_history"] = band_counts_chart(
            history, by="period", title=Text("台区线损分档（按月）", "Area bands by month"), lang=lang
        )
        normal, high = _normal(settings, "unit", d.unit)
        trend = [{"period": r["period"], "loss_rate_pct": r["loss_rate_pct"], "name": r["name"]} for r in d.loss.trend]
        out["trend"] = loss_trend_chart(trend, normal, high, lang=lang)
    return out


def customer_charts(c: CustomerView, lang: str) -> dict[str, dict[str, Any]]:
    """Daily use with the meter events and the suspected theft window."""
    if not c.usage:
        return {}
    return {"daily_use": daily_use_chart(c.usage, c.events, c.theft_window, lang=lang)}


def loss_entity_charts(v: LossEntityView, lang: str, settings: LossSettings | None = None) -> dict[str, dict[str, Any]]:
    """Daily supply, sales and loss of the month and the monthly loss-rate trend with the normal band."""
    out: dict[str, dict[str, Any]] = {}
    if v.daily:
        days = [
            {
                "day": r["first_day"],
                "supply_kwh": r["supply_kwh"],
                "sales_kwh": r["sales_kwh"],
                "loss_kwh": r["loss_kwh"],
            }
            for r in v.daily
        ]
        out["daily"] = supply_sales_loss_chart(days, lang=lang)
    if v.history:
        normal, high = _normal(settings, v.level, v.entity.get("unit_id"))
        trend = [{"period": r["period"], "loss_rate_pct": r["loss_rate_pct"]} for r in v.history]
        out["trend"] = loss_trend_chart(trend, normal, high, lang=lang)
    return out
