"""What flows need from the outside world, read from this process's Runtime
(services/core/runtime.py) when a task runs, never at import.

The CLI installs its Runtime when it runs a flow in-process; a worker's is
built from its RECTIFY_* environment. Never a flow parameter: credentials
must not show up in the Prefect UI.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from sqlalchemy import Engine

from notifications.delivery.channels import Channel
from services.core.runtime import current
from statemachine.time.calendar import WorkingCalendar

__all__ = ["engine", "calendar", "channels", "reports_dir", "report_copies", "witness", "transient"]


def engine() -> Engine:
    return current().engine


def calendar() -> WorkingCalendar:
    return current().calendar


def channels() -> Mapping[str, Channel]:
    return current().channels


def reports_dir() -> Path:
    return current().reports_dir


def report_copies() -> Path | None:
    """The folder a run also writes its reports' files to; the reports themselves
    are in the database (services/reports/store.py). RECTIFY_REPORTS_DIR when set
    (a shared folder, say); else a run in this process (the command line) uses its
    reports folder, and a deployment's run on a worker writes none: a worker's own
    disk is where nobody else can read them (issue 17)."""
    rt = current()
    if rt.settings.reports_dir is not None:
        return rt.reports_dir
    from prefect.runtime import deployment

    return None if deployment.id else rt.reports_dir


def witness() -> tuple[str, str]:
    """(channel, recipient) the audit head goes to each night; channel '' when none."""
    s = current().settings
    return s.witness_channel, s.witness_to


def transient(task, task_run, state) -> bool:
    """Retry a task on infrastructure trouble, never on a refusal of ours (bad
    input, permissions, a conflict): those fail the same way every time."""
    from statemachine.errors import RectifyError

    return not isinstance(getattr(state, "data", None), RectifyError)
