"""Reporting duties (报送): what is owed and by when, and recording submissions."""
from __future__ import annotations

from dataclasses import asdict
from typing import Optional

import typer

from . import output as out
from .context import AppContext
from .root import AS_USER, app

duty_app = typer.Typer(no_args_is_help=True, help="Reporting duties (报送): owed, late, submitted.")
app.add_typer(duty_app, name="duty")


@duty_app.command("owed")
def owed(ctx: typer.Context,
         unit: Optional[str] = typer.Option(None, "--unit", help="This unit and those below it."),
         duty: Optional[str] = typer.Option(None, "--duty", help="One duty (its key in the plan)."),
         status: Optional[str] = typer.Option(None, "--status",
                                              help="missing | late | submitted | due_soon | upcoming"),
         late: bool = typer.Option(False, "--late", help="Only what is missing or came late."),
         as_json: bool = typer.Option(False, "--json", help="JSON for programs (keys, times in Asia/Shanghai).")):
    """Every report due so far and the next of each duty, with its status."""
    from services.reports.duties import owed as owed_lines

    c: AppContext = ctx.obj
    lines = owed_lines(c.db(), c.campaign(None), as_of=c.now, unit=unit, duty=duty, status=status)
    if late:
        lines = [ln for ln in lines if ln.status in ("missing", "late")]
    if as_json:
        return out.emit_json([asdict(ln) | {"status_label": ln.status_label} for ln in lines])
    out.table(["unit", "单位", "duty", "报送事项", "period", "due", "status", "submitted", "attachment"],
              [(ln.unit, ln.unit_name, ln.duty, ln.name, ln.period, out.local(ln.due_at),
                f"{ln.status} {ln.status_label}", out.local(ln.submitted_at), ln.attachment)
               for ln in lines],
              title=f"报送情况 as of {out.local(c.now)}")
    missing = sum(ln.status == "missing" for ln in lines)
    out.say(f"{len(lines)} reports · {missing} missing · {sum(ln.status == 'late' for ln in lines)} late")


@duty_app.command("submit")
def submit(ctx: typer.Context,
           unit: str = typer.Option(..., "--unit", help="The reporting unit (code or name)."),
           duty: str = typer.Option(..., "--duty", help="The duty's key in the plan, e.g. weekly_report."),
           attachment: str = typer.Option(..., "--attachment", help="Reference to the report file."),
           period: Optional[str] = typer.Option(
               None, "--period", help="2023-04-20 (weekly/once), 2023-05 (monthly), a stage key; "
                                      "default: the one just missed, else the next due."),
           note: Optional[str] = typer.Option(None, "--note", help="A note kept with the submission."),
           actor: Optional[str] = AS_USER):
    """Record a unit's report for one period; late if after its due time."""
    from services.reports.duties import submit as submit_report

    c: AppContext = ctx.obj
    ln = submit_report(c.db(), c.campaign(None), unit=unit, duty=duty, attachment=attachment,
                       period=period, note=note, actor=c.user(actor), now=c.acting_now())
    out.say(f"{ln.unit_name} · {ln.name} · {ln.period} (due {out.local(ln.due_at)}) → "
            f"{ln.status} {ln.status_label}")
