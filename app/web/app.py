"""The app factory: `create_app(runtime)` is the whole web app of one runtime.

A context adds its routers to ROUTERS (its API under app/web/api/, its pages
under app/web/pages/); every route then has, without asking, the CSRF check
(auth.csrf_guard), the error answers (errors.py) and the security headers
(headers.py). A route that needs the person asks `Depends(signed_in)`.
"""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Sequence

from fastapi import APIRouter, Depends, FastAPI
from starlette.staticfiles import StaticFiles

from services.core.runtime import Runtime

from . import errors, openapi
from .api import docs as api_docs, evidence, me, tokens
from .api import audit, campaigns, cases, clues, duties, ledgers, notices, ranking, reports, rounds, units
from .auth import Clock, WebAuth, csrf_guard, wall_clock, web_secret
from .headers import SecurityHeaders
from .pages import account, home
from .pages import audit as audit_pages, cases as case_pages, clues as clue_pages, dashboard, \
    lookback as round_pages, notices as notice_pages, ranking as ranking_pages, reports as report_pages, work
from .uploads import UploadLimit

__all__ = ["create_app", "ROUTERS", "OPENAPI_URL"]

STATIC = Path(__file__).with_name("static")
OPENAPI_URL = "/api/v1/openapi.json"
ROUTERS: tuple[APIRouter, ...] = (me.router, tokens.router, api_docs.router, account.router, home.router,
                                  evidence.router,
                                  campaigns.router, units.router, clues.router, cases.router, notices.router,
                                  duties.router, rounds.router, reports.router, ledgers.router, audit.router,
                                  work.router, dashboard.router, clue_pages.router,
                                  case_pages.router, notice_pages.router, round_pages.router, report_pages.router,
                                  audit_pages.router, ranking.router, ranking_pages.router)


def _version() -> str:
    try:
        return version("rectify")
    except PackageNotFoundError:  # pragma: no cover - a checkout never installed
        return "0"


def create_app(runtime: Runtime, *, clock: Clock | None = None,
               routers: Sequence[APIRouter] = ()) -> FastAPI:
    """The web app of `runtime`. Refused (Misconfigured) without a secret key, unless in
    development mode. `clock` is what sessions, links and tokens expire by (the wall
    clock; a test passes its own); `routers` are added after the app's own."""
    auth = WebAuth(runtime, web_secret(runtime.settings), clock or wall_clock)
    app = FastAPI(title="Rectify", version=_version(), openapi_url=OPENAPI_URL, docs_url=None,
                  redoc_url=None, swagger_ui_oauth2_redirect_url=None, debug=False,
                  dependencies=[Depends(csrf_guard)],
                  description="专项整治: supervisors and units. Sign in in a browser (a session "
                              "cookie; unsafe requests carry X-CSRF-Token) or send "
                              "`Authorization: Bearer <personal access token>`.")
    app.state.runtime = runtime
    app.state.auth = auth
    errors.install(app)
    openapi.install(app)
    app.add_middleware(UploadLimit, max_bytes=runtime.settings.evidence_max_bytes)  # before CSRF reads a form
    app.add_middleware(SecurityHeaders, https=auth.secure)  # outermost: error pages get them too
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in (*ROUTERS, *routers):
        app.include_router(router)
    return app
