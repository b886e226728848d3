"""`rectify deploy`: register the loaded campaigns' Prefect deployments into a
process work pool (app/deploying.py; the guide is docs/deploy.md)."""
from __future__ import annotations

import typer

from . import output as out
from .context import AppContext
from .root import app

__all__ = ["deploy"]


@app.command()
def deploy(ctx: typer.Context,
           pool: str = typer.Option("rectify", "--pool", metavar="NAME",
                                    help="The process work pool the workers poll."),
           check: bool = typer.Option(False, "--check",
                                      help="Only print what would be registered; Prefect is not contacted."),
           take_over: bool = typer.Option(False, "--take-over",
                                          help="Take the campaigns' schedules over from another scheduler "
                                               "('rectify serve'); stop that one first.")):
    """Register the Prefect deployments of the campaigns loaded in this database (all, or
    --campaign) into a process work pool: the nightly enforcement on each plan's sweep
    cron, the roll-ups as their duties fall due, and the on-demand open-round,
    close-round and generate-report. Workers run the installed package and read their
    own RECTIFY_* settings (docs/deploy.md). Needs PREFECT_API_URL."""
    from app.deploying import deploy_campaigns
    from services.campaigns.load import campaign_codes
    from services.campaigns.scheduling import check_scheduling
    from statemachine.masking import masked_url

    c: AppContext = ctx.obj
    engine = c.db()
    named = [c.settings.campaign] if c.settings.campaign else None
    with engine.connect() as conn:  # whom --take-over replaces, to say so (refused here without it)
        codes = named or campaign_codes(conn)
        replaced = check_scheduling(conn, codes, method="workers", take_over=take_over)
    if not check:
        c.prefect(discover=False)
    deployed = deploy_campaigns(engine=engine, pool=pool, campaigns=named, check=check, take_over=take_over)
    out.table(["deployment", "entrypoint", "schedule"],
              [(r.name, r.entrypoint, "; ".join(r.schedules) or "on demand") for r in deployed.rows],
              title=("would register" if check else "registered") + f" into work pool '{pool}'")
    if deployed.removed:
        out.say(f"removed, no longer planned: {', '.join(deployed.removed)}")
    for o in replaced:
        out.warn(f"{o.campaign}: {'would take' if check else 'took'} its schedule over from {o.sentence()}: "
                 f"stop that scheduler")
    out.say(f"workers: 'prefect worker start --pool {pool} --limit N' on hosts with this version of Rectify "
            f"installed and RECTIFY_DB={masked_url(c.settings.db_url)} in their environment (docs/deploy.md)")
