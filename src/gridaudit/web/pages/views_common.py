"""What the dashboard and entity pages share: the chart runtime's URL and the context every such page gets
(their read-only store session is ``gridaudit.web.deps.ReadSession``, re-exported here for older imports).

Not a page module (no ``router``): imported by ``dashboard.py`` and ``entities.py``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from gridaudit.audit.workflow import STATES
from gridaudit.charts.labels import label
from gridaudit.charts.render import format_locale, runtime_version
from gridaudit.lineloss.settings import BANDS
from gridaudit.web.deps import ReadSession
from gridaudit.web.render import lang_of

RUNTIME_PATH = "/runtime/vega.js"
__all__ = ["RUNTIME_PATH", "ReadSession", "label_in", "page_context"]


# kinds whose labels the reports keep (gridaudit.reports.labels): one table each for the report and the pages
REPORT_KINDS = ("outcome", "rect_status", "rule", "entity", "violation")


def label_in(lang: str, kind: str, code: Any) -> str:
    """The label of ``code`` of ``kind`` in ``lang`` (``charts.labels.label``, or the reports' labels for
    outcomes, rectification states, rule titles, entity types and violation types)."""
    if kind in REPORT_KINDS:
        from gridaudit.reports import labels as report_labels

        text = getattr(report_labels, kind)(None if code is None else str(code))
        return str(text.zh if lang == "zh" else text.en)
    return label(kind, str(code), lang)


def page_context(request: Request, charts: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """``lbl(kind, code)`` (labels of codes), ``charts`` (name → spec), the runtime URL and the d3 locale."""
    lang = lang_of(request)
    return {
        "lbl": lambda kind, code: label_in(lang, kind, code),
        "charts": charts or {},
        "runtime_url": f"{RUNTIME_PATH}?v={runtime_version()}",
        "chart_locale": format_locale(lang) if charts else None,
        "states": STATES,
        "bands": BANDS,
    }
