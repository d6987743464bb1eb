"""Log in, log out and the start page.

The login form posts ``username``, ``password`` and the pre-login session's ``csrf_token``; a successful login
ends that session and starts a new one (new random id) for the user. Failed logins are throttled per username
and client address (``WebSettings.login_attempts`` per ``login_window_s``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from gridaudit.i18n import Text
from gridaudit.web import sessions
from gridaudit.web.deps import Context, csrf_protect, get_settings, get_store, idle
from gridaudit.web.errors import Throttled
from gridaudit.web.render import nav_for, render

router = APIRouter()

BAD_LOGIN = Text("用户名或密码不正确", "wrong username or password")


def set_session_cookie(request: Request, response: Response, raw_id: str) -> None:
    """Send the session id: HttpOnly, SameSite=Lax, Secure when the app runs behind TLS."""
    response.set_cookie(
        sessions.COOKIE,
        raw_id,
        httponly=True,
        samesite="lax",
        secure=get_settings(request).secure_cookies,
        path="/",
    )


def safe_next(target: str | None) -> str:
    """Where to go after login: a path on this site only (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/")
def home(request: Request, ctx: Context) -> Response:
    """The first menu entry this user may use (the login page for nobody)."""
    if ctx.user is None:
        return RedirectResponse("/login", status_code=303)
    items = nav_for(request, ctx.user.role)
    return RedirectResponse(items[0].path if items else "/tasks", status_code=303)


@router.get("/login")
def login_page(request: Request, ctx: Context, next: str | None = None) -> Response:  # noqa: A002 - the form field
    """The login form (a pre-login session is opened for its CSRF token)."""
    if ctx.user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_form(request, ctx, 200, next=next)


def _login_form(request: Request, ctx: Context, status: int, **extra: object) -> Response:
    fresh = None
    if ctx.session is None:
        with get_store(request).transaction() as s:
            fresh = sessions.create(s, None)
        ctx.session = fresh
    response = render(request, "login.html", status_code=status, **extra)
    if fresh is not None:
        set_session_cookie(request, response, fresh.raw_id)
    return response


@router.post("/login", dependencies=[Depends(csrf_protect)])
def login(
    request: Request,
    ctx: Context,
    username: str = Form(..., max_length=64),
    password: str = Form(..., max_length=1024),
    next: str | None = Form(None),  # noqa: A002 - the form field
) -> Response:
    """Check the password; on success renew the session id and go on to ``next``."""
    from gridaudit.audit.credentials import check_password

    settings = get_settings(request)
    client = request.client.host if request.client else "?"
    store = get_store(request)
    with store.transaction() as s:
        if sessions.throttled(s, username, client, settings.login_attempts, settings.login_window_s):
            raise Throttled(
                f"登录失败次数过多，请 {settings.login_window_s} 秒后再试",
                f"too many failed logins; try again in {settings.login_window_s} seconds",
            )
        user = check_password(s, username, password)
        if user is None:
            sessions.record_failure(s, username, client)
    if user is None:
        return _login_form(request, ctx, 401, message=BAD_LOGIN, username=username, next=next)
    with store.transaction() as s:
        sessions.clear_failures(s, username, client)
        sessions.end(s, ctx.session.raw_id if ctx.session else None)
        sessions.purge(s, idle(request))
        opened = sessions.create(s, user.user_id)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, response, opened.raw_id)
    return response


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request, ctx: Context) -> Response:
    """End the session (deleted from the store) and go to the login page."""
    with get_store(request).transaction() as s:
        sessions.end(s, ctx.session.raw_id if ctx.session else None)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response
