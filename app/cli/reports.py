"""Generated reports: the supervisor's weekly / monthly roll-ups, stage summaries
and the final summary report, for any unit (its subtree) and period."""
from __future__ import annotations

from typing import Optional

import typer

from . import output as out
from .context import AppContext
from .params import out_folder
from .root import AS_USER, app

report_app = typer.Typer(no_args_is_help=True,
                         help="Generated reports (周报, 月报, 阶段总结, 总结报告) with charts.")
app.add_typer(report_app, name="report")


@report_app.command("generate")
def generate(ctx: typer.Context,
             kind: str = typer.Argument(..., help="weekly | monthly | stage | final"),
             unit: Optional[str] = typer.Option(None, "--unit", help="Default: the lead unit (whole campaign)."),
             period: Optional[str] = typer.Option(
                 None, "--period", help="weekly: the week's last day YYYY-MM-DD; monthly: YYYY-MM; "
                                        "stage: a stage key; final: final. Default: the latest."),
             fmt: str = typer.Option("md,html,xlsx,docx", "--format",
                                     help="Comma-separated: md, html, xlsx (tables; the final report's "
                                          "ledger in full), docx, pdf (A4, fonts embedded)."),
             out_dir: Optional[str] = typer.Option(
                 None, "--out", help="Folder (default RECTIFY_REPORTS_DIR, else <home>/reports)."),
             force: bool = typer.Option(False, "--force", help="Regenerate a report already made for its period."),
             show: bool = typer.Option(False, "--show", help="Print the Markdown too."),
             actor: Optional[str] = AS_USER):
    """Generate one report (a Prefect flow run; the Markdown is its artifact)."""
    from services.reports.generate import preflight

    c: AppContext = ctx.obj
    code = c.campaign(None)
    user = c.user(actor)
    formats = tuple(f.strip() for f in fmt.split(",") if f.strip())
    preflight(c.db(), code, kind=kind, unit=unit, period=period, formats=formats, actor=user, now=c.now)
    # refused here, not as a failed flow run
    folder = out_folder(out_dir if out_dir else c.runtime.reports_dir)
    c.prefect()
    from services.core.runtime import use

    from app.flow_runner import run_report

    with use(c.runtime.but(reports_dir=folder) if out_dir else c.runtime):
        g = run_report(code, kind, unit=unit, period=period, actor=user, as_of=c.now, force=force,
                       formats=formats)
    # the files are in the folder either way: a recorded report is copied there
    state = "generated" if g.created else "already generated, its files written (use --force to regenerate)"
    if g.provisional:
        state += f"; provisional (临时): figures as of {out.local(g.as_of)}, made again once the period ends"
    from statemachine.reports.titles import KIND_WORDS

    # "原平市 月报 2023-09", "忻州市 总结报告" (a final report's period is its kind)
    period_shown = "" if g.period == kind else f" {g.period}"
    out.say(f"{g.unit_name} {KIND_WORDS.get(kind, kind)}{period_shown}: {state}")
    for f, path in sorted(g.files.items()):
        out.say(f"  {f}: {path}")
    if show:
        out.say(g.markdown)


@report_app.command("list")
def list_(ctx: typer.Context, unit: Optional[str] = typer.Option(None, "--unit", help="Only this unit's reports (code or name)."),
          as_json: bool = typer.Option(False, "--json", help="JSON for programs (keys, times in Asia/Shanghai).")):
    """Reports generated so far."""
    from services.reports.generate import list_generated

    c: AppContext = ctx.obj
    rows = list_generated(c.db(), c.campaign(None), unit=unit)
    if as_json:
        return out.emit_json(rows)
    out.table(["kind", "period", "as of", "generated", "files"],
              [(r["kind"], r["period"], out.local(r["as_of"]), out.local(r["generated_at"]),
                " ".join(sorted(r["files"].values()))) for r in rows])
