"""Prefect settings for this application, applied before `import prefect`.

Why each one (measured in STACK-NOTES):
- analytics off: removes "database is locked" tracebacks on first start;
- a 60 s ephemeral start-up timeout: a cold start here takes up to 19 s;
- task-run recorder batches: otherwise an exiting process drops task runs;
- console handlers at WARNING: operators read flow logs in the Prefect UI
  (the API handler still gets INFO); a supervisor's terminal stays clean.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

__all__ = ["configure_prefect"]

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


def configure_prefect(home: Path) -> None:
    """Point Prefect at our home (its ephemeral SQLite lives there) unless told otherwise."""
    os.environ.setdefault("PREFECT_HOME", str(home / "prefect"))
    # Prefect does not create missing parents; its ephemeral server then cannot open its DB
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    for key, value in _DEFAULTS.items():
        os.environ.setdefault(key, value)
    # Prefect's background workers log under their class names, outside the
    # "prefect" tree, e.g. "Still processing items" while flushing on exit.
    for name in ("EventsWorker", "APILogWorker", "QueueService"):
        logging.getLogger(name).setLevel(logging.ERROR)
