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
