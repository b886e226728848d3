"""Calling flows from the CLI/scheduler process with Prefect configured and quiet."""
from __future__ import annotations

import atexit
import threading
from contextlib import ExitStack
from datetime import datetime

from statemachine.errors import PrefectUnavailable

__all__ = ["run_sweep", "run_enforcement", "run_escalation", "run_open_round", "run_close_round",
           "quiet_flows", "PrefectUnavailable"]

_process_settings = ExitStack()


def quiet_flows() -> None:
    """Run flows without the heartbeat thread for the rest of this process.

    Joining that thread costs ~1 s per sync flow run (STACK-NOTES), and
    entering `temporary_settings` costs ~0.15 s, so it is entered once per
    process, not per run. Long deployment runs (workers) keep heartbeats.
    """
    from .prefect_env import hide_expected_errors

    hide_expected_errors()
    if _process_settings._exit_callbacks:  # already entered
        return
    # Prefect keeps settings in a contextvar: entered in a worker thread they
    # would be invisible to the others and could not be reset at exit. Entered
    # here, in the main thread, and closed by atexit in that same context.
    # Threads that run flows (the scheduler's) run in a copy of this context.
    if threading.current_thread() is not threading.main_thread():
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    _process_settings.enter_context(temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}))
    atexit.register(_process_settings.close)


def run_sweep(campaign: str, as_of: datetime):
    from flows.deadline_sweep import deadline_sweep

    return _run(deadline_sweep, campaign=campaign, as_of=as_of)


def run_enforcement(campaign: str, as_of: datetime, *, deliver: bool = True):
    """The nightly job: sweep, escalation pass, delivery (flows/enforce.py)."""
    from flows.enforce import daily_enforcement

    return _run(daily_enforcement, campaign=campaign, as_of=as_of, deliver=deliver)


def run_escalation(campaign: str, as_of: datetime):
    from flows.ladder import escalation_pass

    return _run(escalation_pass, campaign=campaign, as_of=as_of)


def run_open_round(campaign: str, code: str, actor: str, as_of: datetime):
    from flows.lookback import open_round

    return _run(open_round, campaign=campaign, code=code, actor=actor, as_of=as_of)


def run_close_round(campaign: str, code: str, actor: str, as_of: datetime):
    from flows.lookback import close_round

    return _run(close_round, campaign=campaign, code=code, actor=actor, as_of=as_of)


def run_report(campaign: str, kind: str, *, unit: str | None, period: str | None, actor: str,
               as_of: datetime, force: bool, formats: tuple[str, ...]):
    from flows.reports import generate_report

    return _run(generate_report, campaign=campaign, kind=kind, unit=unit, period=period, actor=actor,
                as_of=as_of, force=force, formats=formats)


def run_tags(campaign: str | None) -> list[str]:
    """The tags of every run of ours, started here or by a deployment's schedule
    (app/prefect_serve.py): the UI filters a campaign's runs by `campaign:<code>`."""
    return ["rectify"] + ([f"campaign:{campaign}"] if campaign else [])


def _run(flow, **params):
    from prefect import tags

    quiet_flows()
    try:
        # A run started here cannot be attached to a deployment without going through
        # it (run_deployment: a worker, another process). It carries the deployment's
        # tags and the flow's templated name instead, so it sits beside the scheduled ones.
        with tags(*run_tags(params.get("campaign"))):
            return flow(**params)
    except RuntimeError as e:
        # Prefect says "Failed to reach API at …" (remote) or speaks of the
        # ephemeral server (local one failed to start): both are set-up
        # problems the operator fixes, not crashes.
        if any(m in str(e) for m in ("Prefect API", "ephemeral", "reach API")):
            from statemachine.masking import mask_secrets

            raise PrefectUnavailable(f"cannot reach the Prefect API: {mask_secrets(str(e))} "
                                     f"(PREFECT_API_URL, or PREFECT_HOME for the local one)") from None
        raise
