"""The web app's commands: `rectify web` serves it; `rectify user …` is the
administrator's side of signing in (one-time links, disabling an account).

These run on the server, as its operator: like `--as`, they are the trusted
administration, not something a person of the plan can reach over HTTP.
"""
from __future__ import annotations

import getpass
from datetime import datetime, timezone
from typing import Optional

import typer

from . import output as out
from .context import AppContext
from .root import AS_USER, app

user_app = typer.Typer(no_args_is_help=True,
                       help="Web accounts of the plan's people: one-time links, disabling.")
app.add_typer(user_app, name="user")

OPERATOR = "operator"


@app.command()
def web(ctx: typer.Context,
        host: Optional[str] = typer.Option(None, "--host", help="Listen on (default RECTIFY_WEB_HOST, 127.0.0.1)."),
        port: Optional[int] = typer.Option(None, "--port", min=1, max=65535,
                                            help="Port (default RECTIFY_WEB_PORT, 8000).")):
    """Serve the web app (pages and the JSON API) until stopped.

    Needs RECTIFY_SECRET_KEY (or RECTIFY_WEB_DEV=1 on this machine only); people
    sign in with the one-time links of 'rectify user invite'."""
    from app.web.auth import web_secret
    from app.web.server import listen

    c: AppContext = ctx.obj
    changes = {k: v for k, v in (("web_host", host), ("web_port", port)) if v is not None}
    runtime = c.runtime.but(**changes) if changes else c.runtime
    web_secret(runtime.settings)  # before the database: the one line says what is missing
    c.db()
    server = listen(runtime)
    if runtime.settings.web_dev and not runtime.settings.secret_key:
        out.say("development mode: a random secret key for this process (forms of an earlier run "
                "must be reloaded)")
    host = runtime.settings.web_host
    out.say(f"web app on http://{f'[{host}]' if ':' in host else host}:{server.port} "
            f"(public URL {runtime.settings.web_url}); Ctrl-C stops it")
    server.run()


def _admin(c: AppContext) -> tuple[str, dict]:
    """Who does it: --as if given, else the server's operator; with the login running it."""
    try:
        os_user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in a container
        os_user = "?"
    return c.user(None) or OPERATOR, {"via": "cli", "os_user": os_user}


USERNAME = typer.Argument(..., help="The person's username in the plan (e.g. off.yuanping).")


def _wall_now() -> datetime:
    # links expire by the wall clock the web app checks them with, whatever --now says
    return datetime.now(timezone.utc)


def _issue(ctx: typer.Context, username: str, purpose: str) -> None:
    from services.accounts.accounts import Limits
    from services.accounts.links import invite, reset

    c: AppContext = ctx.obj
    by, detail = _admin(c)
    issue = invite if purpose == "invite" else reset
    link = issue(c.db(), c.campaign(None), username, by=by, now=_wall_now(),
                 valid_for=Limits.of(c.settings).link_valid, detail=detail)
    what = "invitation" if purpose == "invite" else "password reset"
    out.say(f"{what} for {link.account.label}, valid until {out.local(link.expires_at)} "
            f"(Asia/Shanghai), once; send it to them in person or by a trusted channel:")
    out.say(link.url(c.settings.web_url))


@user_app.command("invite")
def user_invite(ctx: typer.Context, username: str = USERNAME, actor: Optional[str] = AS_USER):
    """A one-time link for USER to set their first password."""
    _issue(ctx, username, "invite")


@user_app.command("reset")
def user_reset(ctx: typer.Context, username: str = USERNAME, actor: Optional[str] = AS_USER):
    """A one-time link for USER to set a new password (unlocks the account when used)."""
    _issue(ctx, username, "reset")


@user_app.command("disable")
def user_disable(ctx: typer.Context, username: str = USERNAME, actor: Optional[str] = AS_USER):
    """USER can no longer sign in: sessions end, tokens and links are void."""
    from services.accounts.links import disable

    c: AppContext = ctx.obj
    by, detail = _admin(c)
    d = disable(c.db(), c.campaign(None), username, by=by, now=_wall_now(), detail=detail)
    out.say(f"disabled {d.account.label}: {d.sessions_ended} sessions ended, "
            f"{d.tokens_revoked} tokens revoked")


@user_app.command("enable")
def user_enable(ctx: typer.Context, username: str = USERNAME, actor: Optional[str] = AS_USER):
    """USER may sign in again with their password (if they have one; else invite)."""
    from services.accounts.links import enable

    c: AppContext = ctx.obj
    by, detail = _admin(c)
    acc = enable(c.db(), c.campaign(None), username, by=by, now=_wall_now(), detail=detail)
    hint = "" if acc.has_password else f"; no password yet: 'rectify user invite {username}'"
    out.say(f"enabled {acc.label}{hint}")


@user_app.command("list")
def user_list(ctx: typer.Context):
    """The campaign's people and their web accounts: invited, active, locked, disabled."""
    from services.accounts.accounts import account_states

    c: AppContext = ctx.obj
    now = _wall_now()
    out.table(["username", "name", "unit", "role", "account", "last sign-in"],
              [(a.username, a.name, a.unit_name, a.role, a.state(now), out.local(last))
               for a, last in account_states(c.db(), c.campaign(None))])
