"""What the dashboard and entity pages share: the chart runtime's URL, the context every such page gets.

Not a page module (no ``router``): imported by ``dashboard.py`` and ``entities.py``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from gridaudit.audit.workflow import STATES
from gridaudit.charts.labels import label
from gridaudit.charts.render import format_locale, runtime_version
from gridaudit.lineloss.settings import BANDS
from gridaudit.web.render import lang_of

RUNTIME_PATH = "/runtime/vega.js"


def page_context(request: Request, charts: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """``lbl(kind, code)`` (labels of codes), ``charts`` (name → spec), the runtime URL and the d3 locale."""
    lang = lang_of(request)
    return {
        "lbl": lambda kind, code: label(kind, str(code), lang),
        "charts": charts or {},
        "runtime_url": f"{RUNTIME_PATH}?v={runtime_version()}",
        "chart_locale": format_locale(lang) if charts else None,
        "states": STATES,
        "bands": BANDS,
    }
