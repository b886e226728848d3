"""What a route takes from its app: the runtime (services/core/runtime.py) and the
domain's clock. Who is asking comes from auth.py."""
from __future__ import annotations

from datetime import datetime

from fastapi import Request
from sqlalchemy import Engine

from services.core.runtime import Runtime

__all__ = ["runtime", "engine", "domain_now"]


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def engine(request: Request) -> Engine:
    return request.app.state.runtime.engine


def domain_now(request: Request) -> datetime:
    """The instant a use case runs at: the runtime's clock (a demo's --now), not the
    wall clock that sessions expire by."""
    return request.app.state.runtime.clock()
