"""`rectify calendar`: which years the working-day calendar covers, from where,
and until when; the one-line warning `status` and `serve` print when it runs out."""
from __future__ import annotations

import sys

import typer

from statemachine.time.calendar import OVERRIDES_ENV, coverage_warning, local_date

from . import output as out
from .context import AppContext
from .root import app

__all__ = ["calendar", "warn_if_calendar_ends"]

_SOURCE = {"package": "{package}", "override file": "override file {file}"}
_EXAMPLE = "deploy/calendar-overrides.example.yaml"


def warn_if_calendar_ends(c: AppContext) -> None:
    """One line on stderr from 30 days before the calendar's coverage ends (as of --now)."""
    if warning := coverage_warning(c.now, c.calendar.coverage()):
        print(f"rectify: warning: {warning}", file=sys.stderr, flush=True)


@app.command()
def calendar(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="JSON for programs (keys, times in Asia/Shanghai).")):
    """Which years the working-day calendar (工作日历) covers, from where, and until when."""
    c: AppContext = ctx.obj
    cov = c.calendar.coverage()
    day = local_date(c.now)
    end = cov.end(day)
    warning = coverage_warning(c.now, cov)

    def source(kind: str) -> str:
        return _SOURCE[kind].format(package=cov.package, file=cov.override_file)

    if as_json:
        out.emit_json({"as_of": c.now, "package": cov.package, "package_years": list(cov.package_years),
                       "override_file": cov.override_file, "override_years": sorted(cov.override_years),
                       "spans": [{"first": a, "last": b, "source": source(k)} for a, b, k in cov.spans()],
                       "covered_until": end, "warning": warning})
    else:
        out.table(["years", "from"], [(f"{a}" if a == b else f"{a}–{b}", source(k)) for a, b, k in cov.spans()],
                  title="工作日历 working-day calendar")
        if cov.override_file is None:
            out.say(f"no override file ({OVERRIDES_ENV} is not set; its format: {_EXAMPLE})")
        out.say(f"as of {day.isoformat()}: covered without a gap until {end.isoformat()} "
                f"({(end - day).days} days)" if end else
                f"as of {day.isoformat()}: {day.year} is NOT covered")
    if warning:
        print(f"rectify: warning: {warning}", file=sys.stderr, flush=True)
