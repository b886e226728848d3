"""`/api/v1/docs`: the OpenAPI document as a plain page (the usual Swagger UI loads
scripts from elsewhere, which the CSP forbids and an intranet may not reach)."""
from __future__ import annotations

from fastapi import APIRouter, Request

from ..templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_METHODS = ("get", "post", "put", "patch", "delete")


@router.get("/api/v1/docs")
def api_docs(request: Request):
    doc = request.app.openapi()
    ops = [(method.upper(), path, op.get("summary", ""), ", ".join(op.get("tags", [])))
           for path, item in sorted(doc.get("paths", {}).items())
           for method, op in item.items() if method in _METHODS]
    return render(request, "api_docs.html", title=doc["info"]["title"], version=doc["info"]["version"],
                  ops=ops, openapi_url=request.app.openapi_url)
