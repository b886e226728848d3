"""Prefect settings for this application, applied before `import prefect`.

Why each one (measured in STACK-NOTES):
- analytics off: removes "database is locked" tracebacks on first start;
- a 60 s ephemeral start-up timeout: a cold start here takes up to 19 s;
- task-run recorder batches: otherwise an exiting process drops task runs;
- console handlers at WARNING: operators read flow logs in the Prefect UI
  (the API handler still gets INFO); a supervisor's terminal stays clean;
- expected errors kept off the console (hide_expected_errors): a run that
  fails with one logs its traceback, which the CLI would print above its
  own one-line error; the API handler still records it for the UI.
"""
from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path

from statemachine import errors
from statemachine.errors import RectifyError
from statemachine.time.calendar import CalendarFileError, CalendarNotCovered

__all__ = ["configure_prefect", "hide_expected_errors", "hide_crash_reports"]

_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "200",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_READ_BATCH_SIZE": "200",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL": "WARNING",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_TASK_RUNS_LEVEL": "WARNING",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    "PREFECT_INTERNAL_LOGGING_LEVEL": "ERROR",
    "PREFECT_CLIENT_METRICS_ENABLED": "false",
    "PREFECT_CLI_PROMPT": "false",
}


def configure_prefect(home: Path, *, discover: bool = True) -> None:
    """Point Prefect at our home (its ephemeral SQLite lives there) unless told otherwise,
    and at the local server a `rectify serve` of this home runs, if any (app/local_prefect.py):
    a flow command then takes a second or two, not the ephemeral server's 10-20 s."""
    os.environ.setdefault("PREFECT_HOME", str(home / "prefect"))
    # Prefect does not create missing parents; its ephemeral server then cannot open its DB
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    if discover and not os.environ.get("PREFECT_API_URL"):
        from app.local_prefect import discover as running_server

        if (url := running_server()) is not None:
            os.environ["PREFECT_API_URL"] = url
    for key, value in _DEFAULTS.items():
        os.environ.setdefault(key, value)
    # Prefect's background workers log under their class names, outside the
    # "prefect" tree, e.g. "Still processing items" while flushing on exit.
    for name in ("EventsWorker", "APILogWorker", "QueueService"):
        logging.getLogger(name).setLevel(logging.ERROR)


# a task run's last word names its exception only in the message: "Finished in state
# Failed('Task run encountered an exception Misconfigured: …')"
_FINISHED_WITH = re.compile(r"Finished in state Failed\('Task run encountered an exception (\w+):")
_EXPECTED = frozenset(errors.__all__)


class _NoExpectedErrors(logging.Filter):
    terminating = False

    def filter(self, record: logging.LogRecord) -> bool:
        if self.terminating or _handling_termination():
            return False
        if getattr(record, "rectify_expected", False):  # flows/steps.py: said again in the one line
            return False
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, (RectifyError, CalendarNotCovered, CalendarFileError)):
            return False
        m = _FINISHED_WITH.match(record.getMessage()) if record.levelno >= logging.ERROR else None
        return not (m and m.group(1) in _EXPECTED)


def _handling_termination() -> bool:
    # Prefect's own SIGTERM handler raises TerminationSignal inside a run and logs
    # "Crash detected!" while handling it (with no exc_info on the record), before
    # it passes the signal on to ours (app/cli/__init__.py)
    from prefect.exceptions import TerminationSignal

    return isinstance(sys.exc_info()[1], TerminationSignal)


_FILTER = _NoExpectedErrors()


def hide_expected_errors() -> None:
    """Keep Prefect's "Encountered exception …" records of expected errors off
    this process's console; call after `import prefect` (which makes the handler).

    A filter on the console handler, not on the run loggers: a logger filter
    would also keep the record from the API handler, and operators read a
    failed run's cause in the Prefect UI."""
    from prefect.logging.handlers import PrefectConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler) and _FILTER not in handler.filters:
            handler.addFilter(_FILTER)


def hide_crash_reports() -> None:
    """From now on keep Prefect's records off this process's console: called on
    SIGTERM, when the command's one line says what happened and the runs'
    "Crash detected! … termination signal" records would only repeat it. The
    API handler still sends them to the UI. Safe in a signal handler: it sets
    a flag."""
    _FILTER.terminating = True
