"""Signing in over HTTP: the one module a province's single sign-on would replace.

Who is asking, in this order:

    Authorization: Bearer rct_…   a personal access token (services/accounts/tokens.py);
                                  cookies are then ignored, and so is CSRF
    the session cookie            a server-side session (services/accounts/sessions.py)
    neither                       nobody: `signed_in` answers 401 (an API) or sends
                                  the browser to the sign-in page (a page)

A router asks with `who: Identity = Depends(signed_in)`: `who.actor` is the
services' own `Actor` (services/core/directory.py), `who.campaign` the code
the services take, so a route calls `transition(engine, who.campaign, …,
actor=who.actor.username, …)` and the services decide what that person may
do. No route decides it.

CSRF: every unsafe request (POST, PUT, PATCH, DELETE) that comes with a
cookie carries the synchronizer token of that cookie, in the form field
`csrf_token` or the header `X-CSRF-Token`: an HMAC, under the secret key, of
the session key (signed in) or of a random pre-session cookie (the sign-in
and set-password forms). A forged or missing token is a 403 before the
route runs, so nothing changes. Requests with a Bearer token are exempt: a
browser never adds that header by itself. The app-wide dependency
`csrf_guard` does this for every route, present and future.

Cookies are HttpOnly and SameSite=Lax; when the public URL is https they are
Secure and named `__Host-…` (no Domain, Path=/).

Throttling: besides the account lock (services/accounts/sessions.py), an
address that failed `address_failures` sign-ins within `lock_minutes` is
refused (429, Retry-After) before any password is checked. The count is kept
in this process's memory (bounded): one process serves one machine's web app;
behind several processes each counts its own, so put the limit in the
reverse proxy as well when scaling out.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from ipaddress import ip_address
from typing import Callable
from urllib.parse import urlsplit

from fastapi import Depends, Request
from starlette.responses import Response

from services.accounts.accounts import Identity, Limits
from services.accounts.sessions import session_identity
from services.accounts.tokens import token_identity
from services.core.directory import Actor
from services.core.runtime import Runtime
from services.core.settings import Settings, env_name
from statemachine.errors import InvalidInput, Misconfigured, NotSignedIn, PermissionDenied, TooManyAttempts

__all__ = ["WebAuth", "web_secret", "signed_in", "signed_in_actor", "by_session", "optional_identity",
           "csrf_guard", "form_binding", "csrf_token", "client_address", "AddressThrottle", "Clock",
           "auth_of", "finish", "bearer_token", "CSRF_FIELD", "CSRF_HEADER", "wall_clock"]

log = logging.getLogger("rectify.web.auth")

Clock = Callable[[], datetime]
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
CSRF_REFUSED = "表单校验失败（CSRF 令牌缺失或无效）：请刷新页面后重试"
_LOOPBACK = ("localhost",)


def wall_clock() -> datetime:
    """Sessions, links and tokens expire by the wall clock, even when a demo's runtime
    pretends to be in 2023 (--now): their lifetimes are real time."""
    return datetime.now(timezone.utc)


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK:
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def web_secret(settings: Settings) -> bytes:
    """The key CSRF tokens are signed with; refused (Misconfigured) when there is none,
    except in the explicit development mode, which gets a random one per process."""
    if settings.secret_key:
        return settings.secret_key.encode("utf-8")
    if not settings.web_dev:
        raise Misconfigured(f"{env_name('secret_key')} is not set: the web app needs a secret key of "
                            f"32 characters or more (python3 -c 'import secrets; "
                            f"print(secrets.token_urlsafe(32))'), or {env_name('web_dev')}=1 "
                            f"for a development server on this machine only")
    if not _is_loopback(settings.web_host):
        raise Misconfigured(f"{env_name('web_dev')} serves this machine only: {env_name('web_host')} "
                            f"'{settings.web_host}' is not a loopback address (set {env_name('secret_key')})")
    return secrets.token_bytes(32)


class AddressThrottle:
    """Failed sign-ins per client address within a window, in this process's memory."""

    def __init__(self, *, limit: int, window: timedelta, max_addresses: int = 10_000):
        self.limit, self.window, self.max_addresses = limit, window, max_addresses
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, address: str, now: datetime) -> deque[datetime]:
        times = self._failures.get(address)
        if times is None:
            return deque()
        while times and now - times[0] >= self.window:
            times.popleft()
        if not times:
            del self._failures[address]
        return times

    def retry_after(self, address: str, now: datetime) -> int | None:
        """Seconds until the address may try again, or None when it may now."""
        with self._lock:
            times = self._recent(address, now)
            if len(times) < self.limit:
                return None
            return max(1, int((times[-self.limit] + self.window - now).total_seconds()) + 1)

    def failed(self, address: str, now: datetime) -> None:
        with self._lock:
            times = self._recent(address, now)
            if address not in self._failures:
                self._failures[address] = times
            self._failures.move_to_end(address)
            times.append(now)
            while len(times) > self.limit:  # only the last `limit` failures matter
                times.popleft()
            while len(self._failures) > self.max_addresses:
                self._failures.popitem(last=False)

    def check(self, address: str, now: datetime) -> None:
        wait = self.retry_after(address, now)
        if wait is not None:
            raise TooManyAttempts(f"该地址登录失败次数过多：请 {max(1, wait // 60)} 分钟后再试",
                                  retry_after=wait)


@dataclass
class WebAuth:
    """What the sign-in layer of one app knows: its runtime, secret, limits and clock."""

    runtime: Runtime
    secret: bytes
    clock: Clock = wall_clock
    limits: Limits = field(init=False)
    throttle: AddressThrottle = field(init=False)
    secure: bool = field(init=False)

    def __post_init__(self) -> None:
        s = self.runtime.settings
        self.limits = Limits.of(s)
        self.throttle = AddressThrottle(limit=s.address_failures, window=timedelta(minutes=s.lock_minutes))
        self.secure = urlsplit(s.web_url).scheme == "https"

    @property
    def session_cookie(self) -> str:
        return "__Host-rectify_session" if self.secure else "rectify_session"

    @property
    def form_cookie(self) -> str:
        return "__Host-rectify_form" if self.secure else "rectify_form"

    def now(self) -> datetime:
        return self.clock()

    def token_for(self, binding: str) -> str:
        mac = hmac.new(self.secret, b"csrf\0" + binding.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")

    def set_cookie(self, response: Response, name: str, value: str) -> None:
        # no Max-Age: the browser drops it on closing; the server ends the session anyway
        response.set_cookie(name, value, httponly=True, samesite="lax", secure=self.secure, path="/")

    def open_session(self, response: Response, key: str) -> None:
        self.set_cookie(response, self.session_cookie, key)

    def end_session(self, response: Response) -> None:
        response.delete_cookie(self.session_cookie, path="/", secure=self.secure, httponly=True,
                               samesite="lax")


def auth_of(request: Request) -> WebAuth:
    return request.app.state.auth


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def bearer_token(request: Request) -> str | None:
    """The token of `Authorization: Bearer …`, else None. Another scheme (a proxy's Basic
    credentials, which a browser adds by itself) counts as no token: it neither signs
    anyone in nor exempts a request from the CSRF check."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


def _binding(request: Request) -> str | None:
    """What this browser's CSRF token is bound to: its session key, else its form cookie."""
    auth = auth_of(request)
    return request.cookies.get(auth.session_cookie) or request.cookies.get(auth.form_cookie)


def csrf_token(request: Request) -> str:
    """The token a page puts in its forms. A browser without any cookie of ours gets a
    random form cookie (set on the page's response by `finish`) to bind it to."""
    binding = _binding(request) or getattr(request.state, "new_form_cookie", None)
    if binding is None:
        binding = request.state.new_form_cookie = secrets.token_urlsafe(32)
    return auth_of(request).token_for(binding)


def finish(request: Request, response: Response) -> Response:
    """Set the form cookie `csrf_token` made for this response's forms, if it made one."""
    new = getattr(request.state, "new_form_cookie", None)
    if new is not None:
        auth_of(request).set_cookie(response, auth_of(request).form_cookie, new)
    return response


async def _sent_token(request: Request) -> str | None:
    sent = request.headers.get(CSRF_HEADER)
    if sent:
        return sent
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in _FORMS:
        return None
    try:
        form = await request.form()  # parsed once: the route's Form() fields read the same
    except Exception:  # noqa: BLE001 - any parser failure is the client's malformed body
        raise InvalidInput("malformed form body") from None
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


async def csrf_guard(request: Request) -> None:
    """App-wide: an unsafe request riding on a cookie must carry that cookie's token."""
    if request.method in SAFE_METHODS or bearer_token(request) is not None:
        return
    binding = _binding(request)
    if binding is None:  # no cookie: nothing ambient to abuse; routes refuse who they don't know
        return
    sent = await _sent_token(request)
    if not sent or not hmac.compare_digest(sent, auth_of(request).token_for(binding)):
        log.warning("CSRF refused: %s %s from %s", request.method, request.url.path, client_address(request))
        raise PermissionDenied(CSRF_REFUSED)


async def form_binding(request: Request) -> None:
    """For the forms of signed-out people (sign-in, set password): the form cookie must be
    there, so that csrf_guard has checked a token (no login CSRF from another site)."""
    if bearer_token(request) is None and _binding(request) is None:
        raise PermissionDenied(CSRF_REFUSED)


def optional_identity(request: Request) -> Identity | None:
    """Who is asking, or None when nobody says; a bad token or a dead session is NotSignedIn."""
    cached = getattr(request.state, "identity", False)
    if cached is not False:
        return cached
    auth = auth_of(request)
    engine = auth.runtime.engine
    token = bearer_token(request)
    if token is not None:
        who = token_identity(engine, token, now=auth.now())
    else:
        key = request.cookies.get(auth.session_cookie)
        who = session_identity(engine, key, now=auth.now(), limits=auth.limits) if key else None
    request.state.identity = who
    return who


def signed_in(who: Identity | None = Depends(optional_identity)) -> Identity:
    """Who is asking; 401 (API) or the sign-in page (pages) when nobody is signed in."""
    if who is None:
        raise NotSignedIn("未登录：请先登录，或以 Authorization: Bearer 提供个人访问令牌")
    return who


def signed_in_actor(who: Identity = Depends(signed_in)) -> Actor:
    """The signed-in person as the services' authority sees them."""
    return who.actor


def by_session(who: Identity = Depends(signed_in)) -> Identity:
    """Signed in in a browser, not by a token: a token cannot make more tokens."""
    if who.via != "session":
        raise PermissionDenied("此操作须由本人登录后进行，不能使用访问令牌")
    return who
