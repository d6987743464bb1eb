"""FastAPI dependencies every page and API module uses: who is asking, the case store, the dataset, CSRF.

* ``web_context`` (cached per request): the user from ``Authorization: Bearer`` (API token) or from the
  session cookie, the open session and its CSRF token. ``current_user`` is its user or None;
  ``require_user`` refuses anonymous requests (pages redirect to /login, the API answers 401);
  ``require_roles(*roles)`` also checks the role (task actions are checked by ``gridaudit.audit.access.can``
  inside the actions themselves: do not re-check them here).
* ``csrf_protect``: put ``dependencies=[Depends(csrf_protect)]`` on every browser POST; the form carries the
  session's token in the hidden field ``csrf_token`` (or the header ``X-CSRF-Token``). Requests with a
  bearer token need none (no cookie is involved).
* ``ReadSession``: a read-only store session for every GET page and API route (nothing to commit, so no
  write lock: on SQLite a plain deferred transaction with ``query_only`` on, never ``BEGIN IMMEDIATE``, so
  readers never queue behind each other or behind a writer). ``StoreSession``: a ``Store.transaction``
  session for POST handlers (commit when it returns, roll back on any error, before the response is sent).
* ``Engine``: the app's ``DatasetEngines`` fork on the dataset's current version (one engine per dataset
  version per worker, of the kind the web settings name, a fork per request: ``gridaudit.web.engines``).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gridaudit.audit.errors import AuditError, Forbidden
from gridaudit.audit.models import User
from gridaudit.audit.workflow import ROLES
from gridaudit.web import sessions
from gridaudit.web.errors import CsrfRefused, LoginRequired
from gridaudit.web.settings import WebSettings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from gridaudit.audit.store import Store
    from gridaudit.engines import Engine as DatasetEngine

bearer_scheme = HTTPBearer(auto_error=False, description="API token: gridaudit audit users token ID")


@dataclass
class WebContext:
    """Who is asking: the user (None: nobody logged in), the browser session, whether a bearer token was used."""

    user: User | None
    session: sessions.OpenSession | None
    via_token: bool = False

    @property
    def csrf_token(self) -> str:
        """The CSRF token of the session ('' without one)."""
        return self.session.csrf_token if self.session is not None else ""


def get_settings(request: Request) -> WebSettings:
    """The app's settings."""
    return request.app.state.settings


def get_store(request: Request) -> Store:
    """The app's open case store."""
    return request.app.state.store


def idle(request: Request) -> timedelta:
    """How long an unused session lives."""
    return timedelta(minutes=get_settings(request).idle_minutes)


def web_context(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)] = None
) -> WebContext:
    """Resolve the bearer token or the session cookie once per request (kept in ``request.state.web``)."""
    cached = getattr(request.state, "web", None)
    if cached is not None:
        return cached
    from sqlalchemy.orm import Session

    from gridaudit.audit.credentials import user_for_token

    store = get_store(request)
    if credentials is not None:
        with Session(_reader(request)) as s:
            user = user_for_token(s, credentials.credentials)
        if user is None:
            raise LoginRequired("API 令牌无效或已停用", "the API token is invalid or revoked")
        ctx = WebContext(user, None, via_token=True)
    else:
        raw = request.cookies.get(sessions.COOKIE)
        with Session(_reader(request)) as s:  # most requests only read their session: no write lock
            opened, due = sessions.peek(s, raw, idle(request))
            user = s.get(User, opened.user_id) if opened is not None and opened.user_id else None
            due = due or (user is not None and not user.active)
        if due:  # expired, inactive or due for renewal: the same lookup again in a write transaction
            with store.transaction() as s:
                opened = sessions.load(s, raw, idle(request))
                user = s.get(User, opened.user_id) if opened is not None and opened.user_id else None
                if user is not None and not user.active:
                    sessions.end(s, opened.raw_id if opened else None)
                    user, opened = None, None
        ctx = WebContext(user, opened)
    request.state.web = ctx
    return ctx


Context = Annotated[WebContext, Depends(web_context)]


def current_user(ctx: Context) -> User | None:
    """The logged-in user, or None."""
    return ctx.user


def require_user(ctx: Context) -> User:
    """The logged-in user; anonymous requests are refused (``LoginRequired``)."""
    if ctx.user is None:
        raise LoginRequired("请先登录", "please log in")
    return ctx.user


CurrentUser = Annotated[User, Depends(require_user)]


def require_roles(*roles: str) -> Callable[..., User]:
    """A dependency returning the logged-in user when their role is one of ``roles``, else ``Forbidden``."""

    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            names_zh = "、".join(ROLES.get(r, (r, r))[0] for r in roles)
            raise Forbidden(
                f"此页面仅限 {names_zh} 使用（{user.user_id} 是 {ROLES.get(user.role, (user.role,))[0]}）",
                f"this page is for {', '.join(roles)} only ({user.user_id} is {user.role})",
            )
        return user

    return check


async def csrf_protect(request: Request, ctx: Context) -> None:
    """Refuse a browser POST whose ``csrf_token`` (form field or ``X-CSRF-Token`` header) is not its session's."""
    if ctx.via_token:
        return
    given = request.headers.get("X-CSRF-Token")
    if given is None and request.method not in ("GET", "HEAD", "OPTIONS"):
        kind = request.headers.get("content-type", "")
        if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf_token")
            given = value if isinstance(value, str) else None
    if ctx.session is None or not given or not hmac.compare_digest(given, ctx.session.csrf_token):
        raise CsrfRefused(
            "表单已过期或来源不明（缺少有效的 CSRF 令牌），请刷新页面后重试",
            "the form has expired or did not come from this site (no valid CSRF token); reload the page and retry",
        )


def read_engine(store: Store) -> Any:
    """An SQLAlchemy engine for read-only sessions on ``store``: for SQLite one without ``BEGIN IMMEDIATE``
    (a read takes no write lock, so many pages read at once and never queue behind each other or a writer),
    ``query_only`` on, no pool; PostgreSQL reads never block, so its engine is the store's own."""
    if store.engine.dialect.name != "sqlite":
        return store.engine
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    engine = create_engine(store.engine.url, poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_con: Any, _record: Any) -> None:
        dbapi_con.execute("PRAGMA busy_timeout = 10000")
        dbapi_con.execute("PRAGMA query_only = ON")

    return engine


def _reader(request: Request) -> Any:
    state = request.app.state
    if getattr(state, "read_engine", None) is None:
        state.read_engine = read_engine(get_store(request))
    return state.read_engine


def read_session(request: Request) -> Iterator[Session]:
    """A read-only store session (use through ``ReadSession``); rolled back at the end, nothing is written."""
    from sqlalchemy.orm import Session

    with Session(_reader(request)) as session:
        try:
            yield session
        finally:
            session.rollback()


ReadSession = Annotated[Any, Depends(read_session, scope="function")]


def store_session(request: Request) -> Iterator[Session]:
    """One ``Store.transaction`` for the handler (use through ``StoreSession``: it ends before the response)."""
    with get_store(request).transaction() as s:
        yield s


StoreSession = Annotated[Any, Depends(store_session, scope="function")]


def dataset_engine(request: Request) -> Iterator[DatasetEngine]:
    """An engine on the app's dataset (its current version) for one request: a fork of the worker's shared
    engine (``gridaudit.web.engines.DatasetEngines``), closed after the handler; use only the
    :class:`gridaudit.engines.Engine` protocol on it."""
    engines = getattr(request.app.state, "engines", None)
    if engines is None:
        raise AuditError(
            "未配置数据集（gridaudit serve --dataset DIR）", "no dataset configured (gridaudit serve --dataset DIR)"
        )
    with engines.cursor() as engine:
        yield engine


Engine = Annotated[Any, Depends(dataset_engine, scope="function")]
