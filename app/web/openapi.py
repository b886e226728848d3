"""The OpenAPI document as the app answers: every error of every operation is
problem+json (errors.py), and the two ways of being signed in are declared."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .errors import PROBLEM

__all__ = ["install"]

PROBLEM_SCHEMA = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "detail", "error"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string", "description": "the HTTP status phrase"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "one line saying what is wrong"},
        "error": {"type": "string", "description": "the class in Rectify's error tree"},
    },
}
_PROBLEM_REF = {"content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "a personal access token (rct_…), made on the 'my tokens' page"},
    "session": {"type": "apiKey", "in": "cookie", "name": "rectify_session",
                "description": "a browser's session (__Host-rectify_session over https); unsafe "
                               "methods then need the X-CSRF-Token header"},
}


def install(app: FastAPI) -> None:
    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, description=app.description,
                          routes=app.routes)
        components = doc.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        schemas["Problem"] = PROBLEM_SCHEMA
        components["securitySchemes"] = SCHEMES
        doc["security"] = [{"bearer": []}, {"session": []}]
        for item in doc.get("paths", {}).values():
            for op in item.values():
                responses = op.setdefault("responses", {})
                responses.pop("422", None)
                responses["4XX"] = {"description": "refused: problem+json with the one-line reason",
                                    **_PROBLEM_REF}
                responses["5XX"] = {"description": "the server's fault, or a service it needs",
                                    **_PROBLEM_REF}
        app.openapi_schema = doc
        return doc

    app.openapi = openapi
