"""Calling flows from the CLI/scheduler process with Prefect configured and quiet."""
from __future__ import annotations

from datetime import datetime

from statemachine.errors import RectifyError

__all__ = ["run_sweep", "quiet_flows"]


def quiet_flows():
    """A context without the flow heartbeat thread: joining it costs ~1 s per sync
    flow run (STACK-NOTES); long deployment runs keep their heartbeats."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    return temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})


class PrefectUnavailable(RectifyError):
    pass


def run_sweep(campaign: str, as_of: datetime):
    from flows.deadline_sweep import deadline_sweep

    try:
        with quiet_flows():
            return deadline_sweep(campaign=campaign, as_of=as_of)
    except RuntimeError as e:
        if "Prefect API" in str(e) or "ephemeral" in str(e):
            raise PrefectUnavailable(f"cannot reach the Prefect API: {e} "
                                     f"(PREFECT_API_URL, or PREFECT_HOME for the local one)") from None
        raise
