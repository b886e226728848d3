"""What flows need from the outside world, resolved lazily in the run's process.

Flows take small parameters (campaign code, instant); the database comes
from the worker's environment (RECTIFY_DB), never from a flow parameter,
so credentials do not show up in the Prefect UI.
"""
from __future__ import annotations

import os
from functools import lru_cache

from sqlalchemy import Engine

from models.db import default_url, make_engine, normalize_url
from statemachine.calendar import WorkingCalendar

__all__ = ["engine", "calendar", "transient", "reports_dir"]


@lru_cache(maxsize=4)
def _engine(url: str) -> Engine:
    return make_engine(url)


def engine() -> Engine:
    return _engine(normalize_url(default_url()))


@lru_cache(maxsize=4)
def _calendar(path: str | None) -> WorkingCalendar:
    return WorkingCalendar.from_file(path)


def calendar() -> WorkingCalendar:
    return _calendar(os.environ.get("RECTIFY_CALENDAR_OVERRIDES") or None)


def transient(task, task_run, state) -> bool:
    """Retry a task on infrastructure trouble, never on a refusal of ours (bad
    input, permissions, a conflict): those fail the same way every time."""
    from statemachine.errors import RectifyError

    return not isinstance(getattr(state, "data", None), RectifyError)


def reports_dir():
    """Where generated reports are written: RECTIFY_REPORTS_DIR, else <home>/reports."""
    from pathlib import Path

    from models.db import default_home

    return Path(os.environ.get("RECTIFY_REPORTS_DIR") or default_home() / "reports")
