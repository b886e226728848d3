"""Every answer that is not a success, as its client reads it.

Under /api/ an error is `application/problem+json` (RFC 9457): `status`,
`title` (the HTTP phrase), `detail` (the one line the CLI would print) and
`error` (its class in statemachine/errors.py, whose `http_status` is the
status). A page gets the same line in a Chinese error page; a page that
needs a signed-in person sends a signed-out browser to the sign-in page.

A malformed body or parameter is a 422 naming the field; an unknown path a
404. Anything unexpected is logged with an incident number and answered 500
with that number only: no traceback, no SQL, no message of the exception
ever reaches a response.
"""
from __future__ import annotations

import logging
import uuid
from html import escape
from http import HTTPStatus
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from statemachine.errors import NotSignedIn, RectifyError, TooManyAttempts

from .auth import auth_of, bearer_token
from .templating import render

__all__ = ["install", "CatchAll", "PROBLEM", "is_api", "problem"]

log = logging.getLogger("rectify.web")
PROBLEM = "application/problem+json"
_PAGE_TITLES = {400: "请求有误", 401: "请先登录", 403: "无权操作", 404: "找不到", 405: "不支持此操作",
                409: "状态冲突", 412: "内容已被修改", 413: "内容过大", 422: "输入有误", 429: "尝试过多",
                500: "内部错误", 502: "外部服务出错", 503: "服务暂不可用"}
_HTTP_DETAIL = {404: "找不到该页面", 405: "不支持此请求方法"}


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def problem(status: int, detail: str, *, error: str, headers: dict | None = None) -> JSONResponse:
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail,
            "error": error}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _page(request: Request, status: int, detail: str, headers: dict | None = None) -> Response:
    resp = render(request, "error.html", status=status, title=_PAGE_TITLES.get(status, HTTPStatus(status).phrase),
                  status_code=status, detail=detail)
    resp.headers.update(headers or {})
    return resp


def answer(request: Request, status: int, detail: str, *, error: str, headers: dict | None = None) -> Response:
    if is_api(request):
        return problem(status, detail, error=error, headers=headers)
    return _page(request, status, detail, headers)


def _sign_in_url(request: Request, *, expired: bool) -> str:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/sign-in?next={quote(path, safe='')}" + ("&expired=1" if expired else "")


async def _rectify_error(request: Request, exc: RectifyError) -> Response:
    headers: dict[str, str] = {}
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(exc.retry_after)
    if not isinstance(exc, NotSignedIn):
        return answer(request, exc.http_status, str(exc) or type(exc).__name__, error=type(exc).__name__,
                      headers=headers)
    auth = auth_of(request)
    given = bearer_token(request) is not None  # then the cookie was not even looked at
    had_session = auth.session_cookie in request.cookies and not given
    if is_api(request):
        headers["WWW-Authenticate"] = 'Bearer realm="rectify"' + (', error="invalid_token"' if given else "")
        resp = problem(401, str(exc), error=type(exc).__name__, headers=headers)
    elif request.method in ("GET", "HEAD"):
        resp = RedirectResponse(_sign_in_url(request, expired=had_session), status_code=303)
    else:
        resp = _page(request, 401, str(exc))
    if had_session:  # a dead session's cookie is of no use to anyone
        auth.end_session(resp)
    return resp


def _one_line(errors) -> str:
    parts = []
    for e in errors[:5]:
        loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path", "header",
                                                                    "cookie"))
        parts.append(f"{loc or 'body'}: {e.get('msg', 'invalid')}")
    more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts)[:400] + more


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    return answer(request, 422, _one_line(exc.errors()), error="InvalidInput")


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    status = exc.status_code
    if status < 400:  # a redirect raised as an exception keeps its own meaning
        return Response(status_code=status, headers=exc.headers)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != HTTPStatus(status).phrase else \
        _HTTP_DETAIL.get(status, HTTPStatus(status).phrase)
    return answer(request, status, detail, error=HTTPStatus(status).phrase.replace(" ", ""),
                  headers=dict(exc.headers or {}))


class CatchAll:
    """The last word on anything unexpected: logged in full here, a bare 500 to the client."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def watch(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            incident = uuid.uuid4().hex[:12]
            log.exception("unexpected error, incident %s: %s %s", incident, scope.get("method"),
                          scope.get("path"))
            if started:  # too late to answer: the server closes the connection
                return
            detail = f"internal error (incident {incident}); the operator's log has the details"
            if scope.get("path", "").startswith("/api/"):
                resp: Response = problem(500, detail, error="InternalError")
            else:
                resp = HTMLResponse(f"<!doctype html><html lang='zh-CN'><meta charset='utf-8'>"
                                    f"<title>内部错误</title><h1>内部错误</h1>"
                                    f"<p>{escape(detail)}</p><p><a href='/'>返回首页</a></p></html>",
                                    status_code=500)
            await resp(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RectifyError, _rectify_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(CatchAll)
