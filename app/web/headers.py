"""The security headers every response carries, error pages and static files too.

The pages load nothing from elsewhere and run no inline script: the CSP says
'self' for everything, forbids framing (with X-Frame-Options for old
browsers) and plugins. Responses are not cached, except static files; the
referrer is never sent, so a one-time link in the address bar stays there.
"""
from __future__ import annotations

__all__ = ["SecurityHeaders", "CSP"]

CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
_ALWAYS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]
_HSTS = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeaders:
    """Pure ASGI middleware (not BaseHTTPMiddleware: that buffers streamed downloads)."""

    def __init__(self, app, *, https: bool = False):
        self.app = app
        self.headers = _ALWAYS + ([_HSTS] if https else [])

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.headers if k not in present]
                if not static and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
