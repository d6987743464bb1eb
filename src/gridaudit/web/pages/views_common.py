"""What the dashboard and entity pages share: the chart runtime's URL, the context every such page gets, and
``ReadSession``, a read-only store session (the read models change nothing, so they take no write lock).

Not a page module (no ``router``): imported by ``dashboard.py`` and ``entities.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request

from gridaudit.audit.workflow import STATES
from gridaudit.charts.labels import label
from gridaudit.charts.render import format_locale, runtime_version
from gridaudit.lineloss.settings import BANDS
from gridaudit.web.deps import get_store
from gridaudit.web.render import lang_of

RUNTIME_PATH = "/runtime/vega.js"
_LOCK = threading.Lock()
_READ_ENGINES: dict[str, Any] = {}


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


def _read_engine(store: Any) -> Any:
    """An engine for read-only sessions on the store: for SQLite one without ``BEGIN IMMEDIATE`` (a read takes
    no write lock, so many pages read at once and never queue behind each other), ``query_only`` on, no pool;
    PostgreSQL reads never block, so its engine is the store's own."""
    if store.engine.dialect.name != "sqlite":
        return store.engine
    key = str(store.engine.url)
    with _LOCK:
        if key not in _READ_ENGINES:
            from sqlalchemy import create_engine, event
            from sqlalchemy.pool import NullPool

            engine = create_engine(store.engine.url, poolclass=NullPool)

            @event.listens_for(engine, "connect")
            def _connect(dbapi_con: Any, _record: Any) -> None:
                dbapi_con.execute("PRAGMA busy_timeout = 10000")
                dbapi_con.execute("PRAGMA query_only = ON")

            _READ_ENGINES[key] = engine
        return _READ_ENGINES[key]


def read_session(request: Request) -> Iterator[Any]:
    """A read-only store session for pages that change nothing (the read models); rolled back at the end."""
    from sqlalchemy.orm import Session

    with Session(_read_engine(get_store(request))) as session:
        try:
            yield session
        finally:
            session.rollback()


ReadSession = Annotated[Any, Depends(read_session, scope="function")]
