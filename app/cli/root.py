"""The root `rectify` Typer app and its global options; command modules add to it."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Optional

import typer

from services.core.runtime import use
from statemachine.errors import InvalidInput, RectifyError, UsageError

from .context import AppContext
from .settings import parse_instant

__all__ = ["app", "AS_USER", "GLOBAL_OPTIONS"]

# Global options take a value and may be given anywhere on the line: app/cli/__init__.py
# moves them in front of the command before typer parses it.
GLOBAL_OPTIONS = ("--db", "--now", "--campaign", "-c", "--as")

# `--as` is global (the root's, below); a command still declares it so its
# --help lists it, but the value given on the line always reaches the root.
# No envvar here: RECTIFY_USER would otherwise beat a hoisted --as.
AS_USER = typer.Option(None, "--as", help="Who is acting (a username of the plan); global, may go anywhere.")

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Rectify: special rectification campaigns (专项整治) as state machines.")


def _version(value: bool) -> None:
    if value:
        try:
            typer.echo(f"rectify {version('rectify')}")
        except PackageNotFoundError:  # run from a checkout that was never installed
            typer.echo("rectify (version unknown: not installed)")
        raise typer.Exit()


def _instant(value: Optional[str]) -> Optional[str]:
    # Checked while parsing, so a bad --now is a usage error before any command runs.
    if value:
        try:
            parse_instant(value)
        except RectifyError as e:
            raise typer.BadParameter(str(e).removeprefix("--now: ")) from None
    return value


@app.callback()
def _root(
    ctx: typer.Context,
    db: Optional[str] = typer.Option(None, "--db", envvar="RECTIFY_DB",
                                     help="Database URL (default: SQLite in ~/.rectify)."),
    now: Optional[str] = typer.Option(None, "--now", envvar="RECTIFY_NOW", callback=_instant,
                                      help="Pretend it is this instant (Asia/Shanghai), e.g. 2023-05-10."),
    campaign: Optional[str] = typer.Option(None, "--campaign", "-c", envvar="RECTIFY_CAMPAIGN",
                                           help="Campaign code (default: the only one loaded)."),
    user: Optional[str] = typer.Option(None, "--as", envvar="RECTIFY_USER",
                                       help="Who is acting (a username of the plan)."),
    _: bool = typer.Option(False, "--version", is_eager=True, callback=_version,
                           help="Print the version and exit."),
):
    try:  # every setting is checked here, at start: one line naming the variable
        c = AppContext.start(db=db, now=now, campaign=campaign, user=user)
    except InvalidInput as e:
        raise UsageError(str(e)) from None
    # flows this command runs in-process use this runtime, never the environment
    ctx.with_resource(use(c.runtime))
    ctx.call_on_close(c.runtime.close)  # run in this process (tests, a shell), no pool outlives it
    ctx.obj = c
