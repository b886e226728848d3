"""Uploads are refused for their size before anything reads them.

Starlette parses a multipart body whole (to a temporary file) the first time
anyone asks for the form, and the CSRF check asks before any route runs
(auth.csrf_guard). So the bound is checked here, outermost, on the declared
length: an upload (a POST to a path ending in /evidence) must declare its
Content-Length (411 otherwise) and may exceed the largest evidence file by
FORM_OVERHEAD at most (413 otherwise, problem+json under /api/). The server
then never reads more than it declared. The file itself is measured again
by the route (app/web/api/evidence.py): the body's bound is not the file's.
"""
from __future__ import annotations

from starlette.requests import Request

__all__ = ["UploadLimit", "FORM_OVERHEAD", "is_upload"]

FORM_OVERHEAD = 64 * 1024  # boundaries, part headers, the CSRF field
_DRAIN = 8 * 2**20  # read (and drop) at most this much of a refused body, so its client hears why


def is_upload(scope) -> bool:
    return scope.get("method") == "POST" and scope.get("path", "").rstrip("/").endswith("/evidence")


class UploadLimit:
    """Pure ASGI middleware: the declared size of an upload, checked before it is read."""

    def __init__(self, app, *, max_bytes: int):
        self.app = app
        self.max_body = max_bytes + FORM_OVERHEAD
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not is_upload(scope):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is None or not declared.strip().isdigit():
            return await self._refuse(scope, receive, send, 411,
                                      "an upload must declare its Content-Length", "LengthRequired")
        if int(declared) > self.max_body:
            await self._drain(receive, int(declared))
            from services.core.input_files import size_text

            return await self._refuse(scope, receive, send, 413,
                                      f"the upload is {size_text(int(declared))}, larger than the "
                                      f"{size_text(self.max_bytes)} an evidence file may be", "TooLarge")
        await self.app(scope, receive, send)

    @staticmethod
    async def _drain(receive, declared: int) -> None:
        # a client still sending when the answer comes may never read it
        left = min(declared, _DRAIN)
        while left > 0:
            message = await receive()
            if message["type"] != "http.request":
                return
            left -= len(message.get("body", b""))
            if not message.get("more_body"):
                return

    @staticmethod
    async def _refuse(scope, receive, send, status: int, detail: str, error: str) -> None:
        from .errors import answer

        resp = answer(Request(scope, receive), status, detail, error=error,
                      headers={"Connection": "close"})
        await resp(scope, receive, send)
