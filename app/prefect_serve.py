"""Scale-out mode (RECTIFY_SCHEDULER=prefect): Prefect deployments with cron
schedules, one per campaign, served from this process.

The Prefect server's scheduler creates the runs (exactly one per fire time);
this process executes them. It needs a real Prefect server (PREFECT_API_URL:
`prefect server start`, on PostgreSQL at scale): the ephemeral API schedules
nothing (STACK-NOTES). The runs' processes are configured by the RECTIFY_*
environment this one passes on, like any worker's.
"""
from __future__ import annotations

import os

from statemachine.errors import InvalidInput

from app.cli.context import AppContext
from app.cli.settings import Settings

__all__ = ["deployments", "serve_deployments", "check_serving", "SCHEDULER_TAG"]

# a run of these deployments checks that `serve` still owns its campaign (flows/deps.py)
SCHEDULER_TAG = "scheduler:serve"


def deployments(c: AppContext, *, cron_override: str | None = None) -> list:
    from prefect.schedules import Cron

    from app.flow_runner import run_tags
    from flows.enforce import daily_enforcement
    from services.campaigns.load import list_campaigns
    from services.core.directory import campaign_row

    engine = c.db()
    out = []
    with engine.connect() as conn:
        for camp in list_campaigns(engine):
            row = campaign_row(conn, camp.code)
            cron = cron_override or row.sweep_cron
            # the campaign's own zone, as `rectify deploy` and the embedded scheduler use it
            out.append(daily_enforcement.to_deployment(
                name=f"enforce-{camp.code}", parameters={"campaign": camp.code},
                schedules=[Cron(cron, timezone=row.timezone)], tags=[*run_tags(camp.code), SCHEDULER_TAG],
                description=f"Nightly enforcement of {camp.title} ({camp.doc_number}): "
                            f"deadline sweep, escalation pass, delivery of notices; at '{cron}' {row.timezone}"))
    if not out:
        raise InvalidInput("no campaign loaded: nothing to schedule (run 'rectify load PLAN')")
    return out


def check_serving(c: AppContext) -> None:
    """Refuse, in one line, what cannot serve deployments (before any warning is printed)."""
    if not os.environ.get("PREFECT_API_URL"):
        raise InvalidInput("RECTIFY_SCHEDULER=prefect needs a Prefect server: start one "
                           "('prefect server start') and set PREFECT_API_URL")
    # Prefect runs each flow run in a fresh process, which builds its runtime
    # from the environment it inherits from this one: a flag cannot reach it
    if c.settings.db_url != Settings.from_env().db_url:
        raise InvalidInput("--db does not reach the flow runs Prefect starts in processes of "
                           "their own: set RECTIFY_DB instead")


def _replace_others(names: list[str]) -> None:
    """Delete a deployment of the same name that another method registered (`rectify deploy`'s
    worker deployment, from this database before a take-over or from another one on this
    server): Prefect's upsert would keep its pool and leave no path to run the served code
    from, so every served run would crash loading the flow. Serve's own, from an earlier
    start, is kept (and updated), with its runs' history."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from flows.enforce import daily_enforcement

    with get_client(sync_client=True) as client:
        for name in names:
            try:
                d = client.read_deployment_by_name(f"{daily_enforcement.name}/{name}")
            except ObjectNotFound:
                continue
            if SCHEDULER_TAG not in (d.tags or []):
                client.delete_deployment(d.id)


def serve_deployments(c: AppContext, *, cron_override: str | None = None, take_over: bool = False) -> None:
    check_serving(c)
    import socket
    from datetime import datetime, timezone

    from prefect import serve

    from app.cli import output as out
    from services.campaigns.scheduling import claim_scheduling

    served = deployments(c, cron_override=cron_override)
    # after every check that can refuse: a refused serve must not have taken a campaign over
    replaced = claim_scheduling(c.db(), [d.parameters["campaign"] for d in served], method="serve",
                                detail=f"{socket.gethostname()}:{os.getpid()}", take_over=take_over,
                                now=datetime.now(timezone.utc))
    for o in replaced:
        out.warn(f"{o.campaign}: took its schedule over from {o.sentence()}: stop that scheduler")
    _replace_others([d.name for d in served])  # only once the campaigns are serve's
    serve(*served, print_starting_message=True)
