"""Jinja2 for the pages: autoescaped, StrictUndefined (a missing value is a bug,
never an empty string), one environment per process."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import HTMLResponse

from statemachine.time.calendar import TZ

from .auth import csrf_token, finish
from .display import FILTERS, countdown

__all__ = ["render", "TEMPLATES", "ROLE_LABELS"]

TEMPLATES = Path(__file__).with_name("templates")
ROLE_LABELS = {"supervisor": "督导人员", "officer": "工作人员", "inspector": "督察人员"}


def _local(at: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "—" if at is None else at.astimezone(TZ).strftime(fmt)


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["local"] = _local
    env.filters["role"] = lambda role: ROLE_LABELS.get(role, role)
    env.filters.update(FILTERS)
    env.globals["countdown"] = countdown
    return env


def render(request: Request, template: str, /, *, status: int = 200, **context) -> HTMLResponse:
    """A page: the template with the CSRF token for its forms and whoever is signed in."""
    ctx = {"csrf": csrf_token(request), "who": getattr(request.state, "identity", None), **context}
    return finish(request, HTMLResponse(_env().get_template(template).render(**ctx), status_code=status))
