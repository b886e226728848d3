"""The root `rectify` Typer app and its global options; command modules add to it."""
from __future__ import annotations

from typing import Optional

import typer

from services.runtime import use

from .context import AppContext

__all__ = ["app", "AS_USER"]

AS_USER = typer.Option(None, "--as", envvar="RECTIFY_USER", help="Who is acting (a username of the plan).")

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Rectify: special rectification campaigns (专项整治) as state machines.")


@app.callback()
def _root(
    ctx: typer.Context,
    db: Optional[str] = typer.Option(None, "--db", envvar="RECTIFY_DB",
                                     help="Database URL (default: SQLite in ~/.rectify)."),
    now: Optional[str] = typer.Option(None, "--now", envvar="RECTIFY_NOW",
                                      help="Pretend it is this instant (Asia/Shanghai), e.g. 2023-05-10."),
    campaign: Optional[str] = typer.Option(None, "--campaign", "-c", envvar="RECTIFY_CAMPAIGN",
                                           help="Campaign code (default: the only one loaded)."),
):
    c = AppContext.start(db=db, now=now, campaign=campaign)  # a bad setting stops here, in one line
    # flows this command runs in-process use this runtime, never the environment
    ctx.with_resource(use(c.runtime))
    ctx.obj = c
