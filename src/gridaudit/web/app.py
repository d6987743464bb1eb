"""The web app: ``create_app(WebSettings(...))`` returns a FastAPI app. ``gridaudit serve`` runs it with uvicorn.

How to add a page or an API module (nothing is registered by hand):

* **A page**: a module in ``gridaudit/web/pages/`` exposing ``router = APIRouter()``; it is included
  (modules in name order) with ``include_in_schema=False``. Optionally ``NAV = [NavItem("/path", "中文",
  "English", order=…, roles=(…))]`` puts entries in the top menu (shown only to those roles). Handlers only
  parse, call the parts' functions and render::

      from fastapi import APIRouter, Depends, Form, Request
      from gridaudit.web.deps import CurrentUser, StoreSession, csrf_protect
      from gridaudit.web.render import NavItem, render

      router = APIRouter()
      NAV = [NavItem("/things", "事项", "things", order=40)]

      @router.get("/things")
      def things(request: Request, user: CurrentUser, s: StoreSession):
          return render(request, "things.html", rows=...)

      @router.post("/things/{id}/do", dependencies=[Depends(csrf_protect)])
      def do(request: Request, id: int, user: CurrentUser, s: StoreSession, note: str = Form("")): ...

  Import the annotated dependencies (``CurrentUser``, ``StoreSession``, ``Engine``…) at module level: with
  ``from __future__ import annotations`` FastAPI resolves them from the module's globals.
  Templates go in ``gridaudit/web/templates/`` and ``{% extends "base.html" %}`` (block ``content``; text
  through ``t("中文", "English")``; every POST form carries
  ``<input type="hidden" name="csrf_token" value="{{ csrf_token }}">``). No inline script or style
  attribute handlers (CSP ``script-src 'self'``): put JavaScript in ``static/app.js`` or a static file of
  your own.
* **An API module**: a module in ``gridaudit/web/api/`` exposing ``router``; it is included under
  ``/api/v1`` and appears in ``/api/v1/openapi.json``. Use ``CurrentUser`` (bearer token or session) and,
  on POST, ``Depends(csrf_protect)`` (a no-op for bearer tokens). Refusals are ``AuditError`` subclasses:
  they become JSON errors with the right status (``web/errors.py``).

Roles and unit scope are decided by ``gridaudit.audit.access`` (and the actions themselves); a page shows a
form only when ``access.can`` allows it, and the server refuses the POST anyway.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from gridaudit import __version__
from gridaudit.web import api, errors, pages
from gridaudit.web.render import LANG_COOKIE, NavItem, request_lang
from gridaudit.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]

STATIC = Path(__file__).parent / "static"
API_PREFIX = "/api/v1"
# No inline script anywhere; styles only from our own files; nothing may frame the app.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def discover(package: ModuleType) -> list[ModuleType]:
    """The modules of ``package`` (gridaudit.web.pages or .api), in name order."""
    names = sorted(info.name for info in pkgutil.iter_modules(package.__path__) if not info.name.startswith("_"))
    return [importlib.import_module(f"{package.__name__}.{name}") for name in names]


def _routers(package: ModuleType) -> list[tuple[ModuleType, APIRouter]]:
    return [(m, m.router) for m in discover(package) if isinstance(getattr(m, "router", None), APIRouter)]


def shutdown(app: FastAPI) -> None:
    """Close what the app holds open: the dataset engines and the read-only store engine (the store itself
    is the caller's: ``app.state.store.dispose()``)."""
    if app.state.engines is not None:
        app.state.engines.close()
    if app.state.read_engine is not None and app.state.read_engine is not app.state.store.engine:
        app.state.read_engine.dispose()
        app.state.read_engine = None


def create_app(settings: WebSettings) -> FastAPI:
    """The app for ``settings``: opens the case store (it must exist: ``gridaudit audit init``), includes
    every page and API module, static files, security headers, error pages."""
    from gridaudit.audit.store import open_store
    from gridaudit.web.engines import DatasetEngines

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        shutdown(app)

    app = FastAPI(
        lifespan=lifespan,
        title="gridaudit API",
        version=__version__,
        description="gridaudit REST API: the audit loop's tasks and the findings (bearer tokens: "
        "gridaudit audit users token ID).",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # FastAPI's docs pages load their JavaScript from a CDN: none here
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = open_store(settings.store, settings.attachments)
    app.state.read_engine = None  # made on first use (web.deps.read_session)
    app.state.engines = DatasetEngines(settings.dataset, settings.engine) if settings.dataset is not None else None
    nav: list[NavItem] = []
    for module, router in _routers(pages):
        app.include_router(router, include_in_schema=False)
        nav.extend(getattr(module, "NAV", []))
    for _module, router in _routers(api):
        app.include_router(router, prefix=API_PREFIX)
    app.state.nav = sorted(nav, key=lambda i: (i.order, i.en))
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    errors.install(app)

    @app.middleware("http")
    async def _frame(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.lang = request_lang(request)
        try:
            response = await call_next(request)
        except Exception as exc:  # noqa: BLE001 - any unexpected error: the 500 page, no details
            response = errors.server_error(request, exc)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        asked = request.query_params.get("lang")
        if asked is not None and asked == request.state.lang and request.cookies.get(LANG_COOKIE) != asked:
            response.set_cookie(LANG_COOKIE, asked, max_age=365 * 86400, samesite="lax", secure=settings.secure_cookies)
        return response

    return app
