"""What flows need from the outside world, read from this process's Runtime
(services/core/runtime.py) when a task runs, never at import.

The CLI installs its Runtime when it runs a flow in-process; a worker's is
built from its RECTIFY_* environment. Never a flow parameter: credentials
must not show up in the Prefect UI.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping
from weakref import WeakSet

from sqlalchemy import Engine

from notifications.delivery.channels import Channel
from services.core.runtime import Runtime, current, from_environment
from statemachine.time.calendar import WorkingCalendar

__all__ = ["ready", "engine", "calendar", "channels", "reports_dir", "report_copies", "witness", "transient"]


_checked: WeakSet[Runtime] = WeakSet()


def ready(campaign: str | None = None) -> None:
    """A flow's first line: refuse, in one line naming the setting, a run whose
    worker cannot serve it (services/core/readiness.py), before any query
    could create an empty SQLite file; once per runtime."""
    runtime = current()
    if runtime not in _checked:
        from services.core.readiness import check_ready

        check_ready(runtime, from_environment=from_environment())
        _checked.add(runtime)
    method = _scheduled_by()
    if campaign and method:
        _check_owner(runtime, campaign, method)


def _scheduled_by() -> str | None:
    """The scheduling method whose deployment started this run (its `scheduler:` tag), if any."""
    from prefect.runtime import flow_run

    return next((t.split(":", 1)[1] for t in (flow_run.tags or []) if t.startswith("scheduler:")), None)


def _check_owner(runtime: Runtime, campaign: str, method: str) -> None:
    """A deployment's run: its method still schedules the campaign, and (the workers')
    this host runs the version of Rectify that registered it."""
    from services.campaigns.scheduling import METHODS, usurper
    from statemachine.errors import ConflictError, Misconfigured

    with runtime.engine.connect() as conn:
        other = usurper(conn, campaign, method=method)
    if other is not None:
        raise ConflictError(f"campaign {campaign}'s schedule was taken over by {other.sentence()}: this "
                            f"deployment of {METHODS.get(method, method)} does nothing; delete it")
    if method == "workers":
        from importlib.metadata import version

        from prefect.runtime import deployment

        here, deployed = version("rectify"), deployment.version
        if deployed and deployed != here:
            raise Misconfigured(f"this worker runs Rectify {here}, the deployment was registered by "
                                f"{deployed}: install one version on every worker and the deploying host")


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
