"""Rendering pages: the Jinja2 templates, the language of a request, the navigation and ``render``.

Templates get ``t(zh, en)`` (or ``t(text)`` for anything with ``.zh``/``.en``) which picks the request's
language, ``lang``, ``user``, ``csrf_token`` (put it in every POST form as a hidden field ``csrf_token``),
``nav`` (the menu entries this user's role may use), ``lang_url(code)`` and ``request``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates

from gridaudit.audit.workflow import ROLES
from gridaudit.i18n import LANGS, Bilingual

if TYPE_CHECKING:
    from fastapi import Request
    from starlette.responses import Response

TEMPLATES = Path(__file__).parent / "templates"
LANG_COOKIE = "ga_lang"

templates = Jinja2Templates(directory=str(TEMPLATES))


@dataclass(frozen=True)
class NavItem:
    """One entry of the top menu. A page module lists its entries in ``NAV``; ``roles`` None: every role.
    Entries are shown by ``order``, then label."""

    path: str
    zh: str
    en: str
    order: int = 50
    roles: tuple[str, ...] | None = None

    def allowed(self, role: str | None) -> bool:
        """Whether a user of ``role`` sees this entry (nobody logged in sees none)."""
        return role is not None and (self.roles is None or role in self.roles)


def request_lang(request: Request) -> str:
    """The request's language: ``?lang=`` when valid, else the remembered cookie, else the app default."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    kept = request.cookies.get(LANG_COOKIE)
    if kept in LANGS:
        return kept
    return str(getattr(request.app.state, "settings", None) and request.app.state.settings.lang or "zh")


def lang_of(request: Request) -> str:
    """The language chosen for this request (set by the app's middleware; ``request_lang`` otherwise)."""
    return str(getattr(request.state, "lang", None) or request_lang(request))


def pick(lang: str, zh: str | Bilingual, en: str | None = None) -> str:
    """``zh`` or ``en`` by ``lang`` (``pick(lang, text)`` for anything with ``.zh``/``.en``)."""
    if en is None:
        if isinstance(zh, str):
            return zh
        return zh.zh if lang == "zh" else zh.en
    return str(zh) if lang == "zh" else en


def tr(request: Request, zh: str | Bilingual, en: str | None = None) -> str:
    """``pick`` in the request's language: for messages built in handlers."""
    return pick(lang_of(request), zh, en)


def lang_url(request: Request, code: str) -> str:
    """The current URL with ``lang=code`` (the language switch links)."""
    params = dict(request.query_params)
    params["lang"] = code
    return f"{request.url.path}?{urlencode(params)}"


def nav_for(request: Request, role: str | None) -> list[NavItem]:
    """The menu entries a user of ``role`` may use, in order."""
    items: list[NavItem] = getattr(request.app.state, "nav", [])
    return [i for i in items if i.allowed(role)]


def render(request: Request, template: str, status_code: int = 200, **ctx: Any) -> Response:
    """Render ``template`` in the request's language with the common context (see the module docstring)."""
    lang = lang_of(request)
    web = getattr(request.state, "web", None)
    user = web.user if web is not None else None
    context = {
        "request": request,
        "lang": lang,
        "t": lambda zh, en=None: pick(lang, zh, en),
        "user": user,
        "csrf_token": web.csrf_token if web is not None else "",
        "nav": nav_for(request, user.role if user is not None else None),
        "lang_url": lambda code: lang_url(request, code),
        "roles": ROLES,
        **ctx,
    }
    return templates.TemplateResponse(request, template, context, status_code=status_code)
