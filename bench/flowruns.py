"""What the benchmarks ask of Prefect: a private home for its local API, and how
many task runs a flow run recorded (they are recorded asynchronously)."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from uuid import UUID

__all__ = ["bench_home", "task_runs"]


def bench_home() -> Path:
    """A fresh folder for Prefect's local API and the file-drop channel, configured."""
    from app.prefect_env import configure_prefect

    home = Path(tempfile.mkdtemp(prefix="rectify-bench-"))
    configure_prefect(home)
    os.environ["RECTIFY_FILE_DROP"] = str(home / "drop")
    return home


def task_runs(flow_run_id, *, at_least: int, timeout: float = 15.0) -> int:
    """The flow run's task runs, waiting until `at_least` are recorded and the count settles."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline, last = time.monotonic() + timeout, -1
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(str(flow_run_id))])))
            if (len(runs) >= at_least and len(runs) == last) or time.monotonic() > deadline:
                return len(runs)
            last = len(runs)
            time.sleep(0.5)
