"""Operators' commands on the outbox: what waits, what failed, send again, send now."""
from __future__ import annotations

from typing import Optional

import typer

from statemachine.errors import InvalidInput

from . import output as out
from .context import AppContext
from .params import limit_option
from .root import app

outbox_app = typer.Typer(no_args_is_help=True, help="Messages waiting, sent or dead (the outbox).")
app.add_typer(outbox_app, name="outbox")


@outbox_app.command("list")
def list_(ctx: typer.Context, state: Optional[str] = typer.Option(None, "--state", help="pending | sent | dead"),
          limit: int = limit_option(100, help="At most this many messages, the latest."),
          as_json: bool = typer.Option(False, "--json", help="JSON for programs (keys, times in Asia/Shanghai).")):
    """The newest messages first."""
    from dataclasses import asdict

    from services.notices.outbox import list_messages

    c: AppContext = ctx.obj
    rows = list_messages(c.db(), state=state, limit=limit)
    if as_json:
        drop = ("body_text", "body_html")
        return out.emit_json([{k: v for k, v in asdict(r).items() if k not in drop} for r in rows])
    out.table(["id", "state", "channel", "to", "subject", "attempts", "next attempt", "last error"],
              [(r.id, r.state, r.channel, r.recipient, r.subject[:40], r.attempts,
                out.local(r.next_attempt_at) if r.state == "pending" else "", (r.last_error or "")[:60])
               for r in rows])


@outbox_app.command("show")
def show(ctx: typer.Context, ref: str = typer.Argument(..., metavar="ID|KEY", help="The message's id or key (see 'rectify outbox list')."),
         html: bool = typer.Option(False, "--html", help="The HTML body instead of the text.")):
    """One message (by id or key): its headers and body."""
    from notifications.delivery.channels import message_id
    from services.notices.outbox import get_message

    c: AppContext = ctx.obj
    m = get_message(c.db(), ref)
    out.say(f"message {m.id} · {m.state} · {m.channel} → {m.recipient} · attempts {m.attempts}")
    out.say(f"key: {m.key}")
    if m.channel == "email":
        out.say(f"Message-ID: {message_id(m.key)}")
    out.say(f"subject: {m.subject}")
    out.say(f"created: {out.local(m.created_at)}; "
            + (f"sent: {out.local(m.sent_at)}" if m.state == "sent" else
               "dead" if m.state == "dead" else f"next attempt: {out.local(m.next_attempt_at)}"))
    if m.claimed_by:
        out.say(f"claimed by {m.claimed_by} until {out.local(m.claimed_until)}")
    if m.last_error:
        out.say(f"last error: {m.last_error}")
    out.say("")
    out.say((m.body_html or "(no HTML body)") if html else m.body_text)


@outbox_app.command("retry")
def retry(ctx: typer.Context, ref: Optional[str] = typer.Argument(None, metavar="[ID|KEY]", help="The message's id or key (or --dead)."),
          dead: bool = typer.Option(False, "--dead", help="Every dead message.")):
    """Send a dead (or waiting) message again at the next delivery."""
    from services.notices.outbox import retry as retry_one, retry_dead

    c: AppContext = ctx.obj
    if dead == bool(ref):
        raise InvalidInput("say which: a message id or key, or --dead")
    if dead:
        out.say(f"{retry_dead(c.db(), now=c.now)} dead messages queued again")
    else:
        m = retry_one(c.db(), ref, now=c.now)
        out.say(f"message {m.id} queued again ({m.channel} → {m.recipient})")


@outbox_app.command("deliver")
def deliver(ctx: typer.Context, batch: int = limit_option(100, "--batch", help="Messages per batch.")):
    """Run the delivery flow now (as of --now)."""
    c: AppContext = ctx.obj
    c.db()
    # checked here, before Prefect starts: a drain with no channel at all would
    # only spend every message's attempts (a bad setting was refused at start)
    if not c.runtime.channels:
        raise InvalidInput("no delivery channel configured (RECTIFY_SMTP_HOST, RECTIFY_WEBHOOK_URL "
                           "or RECTIFY_FILE_DROP): nothing sent")
    c.prefect()
    from app.delivery_runner import run_delivery

    r = run_delivery(c.now, batch=batch)
    out.say(f"delivered {r.sent}, to retry {r.failed}, dead {r.dead}"
            + (f", given back {r.released}" if r.released else ""))
    for line in r.problems:
        out.say(f"  {line}")
