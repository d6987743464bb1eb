"""Errors of the web layer and how every error becomes a response: an HTML error page (templates/error.html)
for pages, JSON ``{"error": {...}}`` for ``/api/``. No stack trace, SQL or exception text from an unexpected
error ever reaches the response; refusals of the audit loop (``AuditError``) are shown with their zh/en text.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from gridaudit.audit.errors import AuditError, Conflict, Forbidden, IllegalTransition, NotFound
from gridaudit.i18n import Text
from gridaudit.web.render import lang_of, pick, render

log = logging.getLogger("gridaudit.web")


class LoginRequired(AuditError):
    """The page or call needs a logged-in user (pages redirect to /login; the API answers 401)."""


class CsrfRefused(Forbidden):
    """A browser POST without the session's CSRF token."""


class Throttled(AuditError):
    """Too many failed logins for this username from this address."""


class BadInput(AuditError):
    """A form or query value the handler cannot use (400)."""


STATUS: tuple[tuple[type[AuditError], int], ...] = (
    (LoginRequired, 401),
    (Throttled, 429),
    (NotFound, 404),
    (Forbidden, 403),
    (IllegalTransition, 409),
    (Conflict, 409),
    (AuditError, 400),
)

TITLES: dict[int, Text] = {
    400: Text("请求有误", "Bad request"),
    401: Text("请先登录", "Please log in"),
    403: Text("无权访问", "Forbidden"),
    404: Text("页面不存在", "Not found"),
    405: Text("不支持的请求方式", "Method not allowed"),
    409: Text("无法执行", "Cannot be done now"),
    429: Text("尝试过于频繁", "Too many attempts"),
    500: Text("服务器内部错误", "Internal server error"),
}

# pydantic error types → what to tell a person (the field name is added in front)
VALIDATION: dict[str, Text] = {
    "missing": Text("必须填写", "is required"),
    "int_parsing": Text("应为整数", "must be a whole number"),
    "int_from_float": Text("应为整数", "must be a whole number"),
    "float_parsing": Text("应为数字", "must be a number"),
    "finite_number": Text("应为有限的数字", "must be a finite number"),
    "bool_parsing": Text("应为是或否", "must be yes or no"),
    "date_parsing": Text("应为日期（YYYY-MM-DD）", "must be a date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": Text("应为日期（YYYY-MM-DD）", "must be a date (YYYY-MM-DD)"),
    "string_too_long": Text("过长", "is too long"),
    "string_too_short": Text("过短", "is too short"),
    "greater_than": Text("数值过小", "is too small"),
    "greater_than_equal": Text("数值过小", "is too small"),
    "less_than": Text("数值过大", "is too large"),
    "less_than_equal": Text("数值过大", "is too large"),
    "literal_error": Text("不是可选的值", "is not one of the allowed values"),
    "enum": Text("不是可选的值", "is not one of the allowed values"),
    "string_pattern_mismatch": Text("格式不对", "has the wrong format"),
    "json_invalid": Text("不是有效的 JSON", "is not valid JSON"),
    "model_attributes_type": Text("格式不对", "has the wrong format"),
    "dict_type": Text("应为 JSON 对象", "must be a JSON object"),
}
OTHER = Text("的值无效", "has an invalid value")


def status_of(exc: AuditError) -> int:
    """The HTTP status of a refusal."""
    return next(code for cls, code in STATUS if isinstance(exc, cls))


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, message: Text | None = None, **extra: Any) -> Response:
    """The error page (or JSON for the API) for ``status`` with an optional zh/en ``message``."""
    lang = lang_of(request)
    title = TITLES.get(status, Text("错误", "Error"))
    text = message or title
    if _is_api(request):
        body = {"error": {"status": status, "message": pick(lang, text), "zh": text.zh, "en": text.en, **extra}}
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(body, status_code=status, headers=headers)
    return render(request, "error.html", status_code=status, status=status, title=title, message=text, **extra)


def validation_text(errors: list[dict]) -> Text:
    """One zh/en sentence per invalid field (``field: problem``), from FastAPI's validation errors."""
    zh, en = [], []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form", "header", "cookie")]
        field = ".".join(loc) or "?"
        what = VALIDATION.get(str(err.get("type")), OTHER)
        zh.append(f"{field} {what.zh}")
        en.append(f"{field} {what.en}")
    return Text("输入有误：" + "；".join(zh), "invalid input: " + "; ".join(en))


def install(app: FastAPI) -> None:
    """Register the handlers of refusals, validation errors and HTTP errors on ``app`` (unexpected
    exceptions are turned into the 500 page by the app's middleware, see ``app.py``)."""

    @app.exception_handler(AuditError)
    async def _audit(request: Request, exc: AuditError) -> Response:
        if isinstance(exc, LoginRequired) and not _is_api(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            from urllib.parse import quote

            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return error_response(request, status_of(exc), Text(exc.zh, exc.en))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 400, validation_text(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        response = error_response(request, exc.status_code)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response


def server_error(request: Request, exc: BaseException) -> Response:
    """The 500 page for an unexpected exception: logged with its traceback on the server, never shown."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    try:
        return error_response(request, 500)
    except Exception:  # noqa: BLE001 - the error page itself failed: plain text, still no details
        return Response("500 Internal Server Error / 服务器内部错误", status_code=500, media_type="text/plain")
