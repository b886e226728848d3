"""Commands on the ledger (台账): export a unit's as the seed's .xlsx template, import it back."""
from __future__ import annotations

from datetime import date
from typing import Optional

import typer

from statemachine.errors import InvalidInput
from statemachine.time.calendar import TZ

from . import output as out
from .context import AppContext
from .root import AS_USER, app

ledger_app = typer.Typer(no_args_is_help=True, help="The ledger (台账) as .xlsx, in the seeds' templates.")
app.add_typer(ledger_app, name="ledger")

TEMPLATE_HELP = "003-2023 (003 附件2) | 003-2022 (003 附件3) | 004 (004 附件2)"


@ledger_app.command("export")
def export(ctx: typer.Context,
           unit: str = typer.Option(..., "--unit", help="The unit (code or name); its subtree is included."),
           template: str = typer.Option(..., "--template", help=TEMPLATE_HELP),
           out_file: str = typer.Option(..., "--out", help="The .xlsx file to write."),
           on: Optional[str] = typer.Option(None, "--date", help="填报时间 YYYY-MM-DD (default: today).")):
    """Write a unit's ledger as the template's .xlsx (hidden 编号 column for re-import)."""
    from services.ledgers.export import write_ledger

    c: AppContext = ctx.obj
    try:
        day = date.fromisoformat(on) if on else c.now.astimezone(TZ).date()
    except ValueError:
        raise InvalidInput(f"--date: '{on}' is not a date (YYYY-MM-DD)") from None
    n = write_ledger(c.db(), c.campaign(None), unit, template, out_file, on=day)
    out.say(f"wrote {n} item{'s' if n != 1 else ''} to {out_file}")


@ledger_app.command("import")
def import_(ctx: typer.Context, file: str = typer.Argument(..., help="The filled-in ledger (.xlsx, as `ledger export` wrote it)."),
            template: Optional[str] = typer.Option(None, "--template",
                                                   help=TEMPLATE_HELP + " (default: recognised from the sheet)"),
            check: bool = typer.Option(False, "--check",
                                       help="Validate every row and report what would change; write nothing."),
            actor: Optional[str] = AS_USER):
    """Read a filled ledger back: new rows become items, known ones are updated; all rows or none."""
    from services.ledgers.importing import import_ledger

    c: AppContext = ctx.obj
    # a check writes nothing: the calendar guard is for changes (statemachine/time/period.py)
    r = import_ledger(c.db(), c.campaign(None), file, actor=c.user(actor), now=c.now if check else c.acting_now(),
                      calendar=c.calendar, template=template, check=check)
    out.say(str(r))
