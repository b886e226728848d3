"""Operators' commands on the outbox: what waits, what failed, send again, send now."""
from __future__ import annotations

from typing import Optional

import typer

from statemachine.errors import InvalidInput

from . import output as out
from .cli_root import app
from .context import AppContext

outbox_app = typer.Typer(no_args_is_help=True, help="Messages waiting, sent or dead (the outbox).")
app.add_typer(outbox_app, name="outbox")


@outbox_app.command("list")
def list_(ctx: typer.Context, state: Optional[str] = typer.Option(None, "--state", help="pending | sent | dead"),
          limit: int = typer.Option(100, "--limit"), as_json: bool = typer.Option(False, "--json")):
    """The newest messages first."""
    from dataclasses import asdict

    from services.outbox import list_messages

    c: AppContext = ctx.obj
    rows = list_messages(c.db(), state=state, limit=limit)
    if as_json:
        return out.emit_json([asdict(r) | {"body_text": None} for r in rows])
    out.table(["id", "state", "channel", "to", "subject", "attempts", "next attempt", "last error"],
              [(r.id, r.state, r.channel, r.recipient, r.subject[:40], r.attempts,
                out.local(r.next_attempt_at) if r.state == "pending" else "", (r.last_error or "")[:60])
               for r in rows])


@outbox_app.command("show")
def show(ctx: typer.Context, ref: str):
    """One message (by id or key): its headers and text."""
    from services.outbox import get_message

    c: AppContext = ctx.obj
    m = get_message(c.db(), ref)
    out.say(f"message {m.id} · {m.state} · {m.channel} → {m.recipient} · attempts {m.attempts}")
    out.say(f"key: {m.key}\nsubject: {m.subject}\ncreated: {out.local(m.created_at)}; sent: {out.local(m.sent_at)}")
    if m.last_error:
        out.say(f"last error: {m.last_error}")
    out.say("")
    out.say(m.body_text)


@outbox_app.command("retry")
def retry(ctx: typer.Context, ref: Optional[str] = typer.Argument(None),
          dead: bool = typer.Option(False, "--dead", help="Every dead message.")):
    """Send a dead (or waiting) message again at the next delivery."""
    from services.outbox import retry as retry_one, retry_dead

    c: AppContext = ctx.obj
    if dead == bool(ref):
        raise InvalidInput("say which: a message id or key, or --dead")
    if dead:
        out.say(f"{retry_dead(c.db(), now=c.now)} dead messages queued again")
    else:
        m = retry_one(c.db(), ref, now=c.now)
        out.say(f"message {m.id} queued again ({m.channel} → {m.recipient})")


@outbox_app.command("deliver")
def deliver(ctx: typer.Context):
    """Run the delivery flow now."""
    c: AppContext = ctx.obj
    c.db()
    c.prefect()
    from .flow_runner import _run
    from flows.deliver import deliver_outbox

    r = _run(deliver_outbox, as_of=c.now)
    out.say(f"delivered {r.sent}, to retry {r.failed}, dead {r.dead}")
    for i, ch, to, outcome, err in r.lines:
        if outcome != "sent":
            out.say(f"  message {i} ({ch} → {to}): {outcome}: {err}")
