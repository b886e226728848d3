"""Commands on the database, plans, campaigns, units and deliverables."""
from __future__ import annotations

import json
from typing import Optional

import typer
from sqlalchemy import select

from . import output as out
from .context import AppContext
from .params import version_option
from .root import AS_USER, app
from statemachine.errors import ConflictError, InvalidInput

unit_app = typer.Typer(no_args_is_help=True, help="Participating units: stages and deliverables.")
app.add_typer(unit_app, name="unit")


@app.command()
def init(ctx: typer.Context):
    """Create the database (or bring it to the current schema)."""
    c: AppContext = ctx.obj
    before, after = c.migrate()
    out.say(f"database ready at schema {after}" + ("" if before is None else f" (was {before})"))


@app.command()
def migrate(ctx: typer.Context):
    """Apply pending schema migrations (Alembic)."""
    init(ctx)


@app.command()
def plans():
    """List the plan files shipped with Rectify."""
    from services.campaigns.plans import read_plan, shipped_plans

    rows = []
    for name, path in shipped_plans().items():
        p = read_plan(path)
        rows.append((name, p.campaign.code, p.campaign.doc_number, p.campaign.title,
                     len(p.units), " → ".join(s.name for s in p.stages)))
    out.table(["file", "code", "文号", "title", "units", "stages"], rows)


@app.command()
def load(ctx: typer.Context, plan: str = typer.Argument(..., help="A plan file, or a shipped plan's name."),
         check: bool = typer.Option(False, "--check", help="Only validate the file, and for a campaign "
                                    "already loaded show what the revised plan would change."),
         doc_no: Optional[str] = typer.Option(None, "--doc-no", help="Revise the loaded campaign: the 文号 "
                                              "of the document revising its plan.")):
    """Validate a campaign plan file and load it as a new campaign, or revise a loaded one.

    Notice templates in a `notices/` folder beside the plan file are checked and
    stored with the campaign now; later changes to that folder change nothing.

    A plan whose campaign is already loaded is a revision: `--check` shows what it
    changes (stages, dates, units, duties, running items' deadlines) and changes
    nothing; `--doc-no 文号` applies it, audited with that 文号. Without `--doc-no`
    it is refused, so a plan is never revised by loading it twice by mistake."""
    from services.campaigns.load import load_plan
    from services.campaigns.notice_templates import read_notice_folder
    from services.campaigns.plans import locate_plan, read_plan
    from services.campaigns.revision import check_revision, revise_plan

    c: AppContext = ctx.obj
    p = read_plan(plan)
    path = locate_plan(plan).resolve()
    templates = read_notice_folder(path)
    overriding = f", {len(templates)} notice template{'s' if len(templates) > 1 else ''}" if templates else ""
    if check:
        loaded = _loaded(c, p.campaign.code)
        _warn_of_collisions(plan, p)
        out.say(f"{plan}: valid plan for '{p.campaign.code}' ({len(p.units)} units, "
                f"{len(p.stages)} stages{overriding})")
        if loaded is not None:
            for line in check_revision(loaded, p, source=str(path), calendar=c.calendar,
                                       doc_number=doc_no).lines():
                out.say(line)
        return
    c.migrate()
    if _loaded(c, p.campaign.code) is not None:
        if doc_no is None:
            raise ConflictError(f"campaign '{p.campaign.code}' is already loaded: see what the plan changes "
                                f"with --check, and revise it with --doc-no 文号")
        rev = revise_plan(c.engine, p, source=str(path), doc_number=doc_no, now=c.now, calendar=c.calendar,
                          notice_templates=templates)
        _warn_of_collisions(plan, p)
        for line in rev.lines():
            out.say(line)
        return
    if doc_no is not None:
        raise InvalidInput(f"--doc-no revises a loaded campaign; '{p.campaign.code}' is not loaded")
    load_plan(c.engine, p, source=str(path), now=c.now, notice_templates=templates)
    _warn_of_collisions(plan, p)  # after loading: a refusal stays the one line on stderr
    out.say(f"loaded campaign '{p.campaign.code}' {p.campaign.title} ({p.campaign.doc_number}): "
            f"{len(p.units)} units, {len(p.participants())} participating, {len(p.stages)} stages"
            f"{overriding}")


def _loaded(c: AppContext, code: str):
    """The engine of a database holding campaign `code`, or None (no database yet, or no such campaign)."""
    from models.tables import Campaign
    from statemachine.errors import RectifyError

    try:
        engine = c.db()
    except RectifyError:  # no database, or one at an older schema: nothing to revise in it yet
        return None
    with engine.connect() as conn:
        found = conn.execute(select(Campaign.__table__.c.id).where(Campaign.__table__.c.code == code)).first()
    return engine if found else None


def _warn_of_collisions(source: str, plan) -> None:
    for warning in plan.name_collisions():
        out.warn(f"{source}: {warning}")


@app.command()
def campaigns(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="JSON for programs (keys, times in Asia/Shanghai).")):
    """List loaded campaigns."""
    from dataclasses import asdict

    from services.campaigns.load import list_campaigns

    rows = list_campaigns(ctx.obj.db())
    if as_json:
        return out.emit_json([asdict(r) for r in rows])
    out.table(["code", "文号", "title", "issuing unit", "period", "units"],
              [(r.code, r.doc_number, r.title, r.issuing_unit, f"{r.start_date} – {r.end_date}",
                f"{r.participants}/{r.units}") for r in rows])


@app.command()
def show(ctx: typer.Context,
         campaign: Optional[str] = typer.Argument(None, help="The campaign's code (default: --campaign, "
                                                   "RECTIFY_CAMPAIGN, or the only one loaded)."),
         as_json: bool = typer.Option(False, "--json", help="The plan as JSON, for programs.")):
    """Show a campaign: document, stages with deadlines and deliverables, duties."""
    from services.campaigns.load import plan_of, stages_of
    from services.core.directory import campaign_row

    c: AppContext = ctx.obj
    code = c.campaign(campaign)
    with c.db().connect() as conn:
        row = campaign_row(conn, code)
        stages = stages_of(conn, row.id)
        plan = plan_of(conn, row.id)
    if as_json:
        return out.emit_json(json.loads(plan.model_dump_json()))
    out.say(f"{row.title}\n{row.doc_number} · {row.issuing_unit} · {row.start_date} – {row.end_date} "
            f"· {row.timezone} · sweep cron '{row.sweep_cron}'")
    out.say("整治内容: " + "；".join(a.name for a in plan.aspects))
    out.table(["#", "stage", "name", "start", "deadline", "deliverables"],
              [(s.idx + 1, s.key, s.name, s.start_date, "长期推进" if s.ongoing else s.end_date,
                "、".join(d["name"] for d in s.deliverables)) for s in stages], title="stages")
    if plan.reporting:
        out.table(["duty", "name", "schedule"],
                  [(d.key, d.name, _schedule(d.schedule)) for d in plan.reporting], title="reporting")


def _schedule(s) -> str:
    if s.kind == "weekly":
        return f"every {s.weekday} {s.at:%H:%M}"
    if s.kind == "monthly":
        return f"monthly by day {s.day}"
    if s.kind == "once":
        return f"once, by {s.due}"
    return f"at the end of stage {s.stage or '(each)'}"


@app.command()
def units(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="JSON for programs (keys, times in Asia/Shanghai).")):
    """List units with their stage and lapses."""
    from dataclasses import asdict

    from services.campaigns.units import list_units

    c: AppContext = ctx.obj
    rows = list_units(c.db(), c.campaign(None))
    if as_json:
        return out.emit_json([asdict(r) for r in rows])
    out.table(["code", "name", "level", "parent", "stage", "lapses"],
              [(r.code, r.name, r.level, r.parent, r.stage_name or "(supervising)", r.lapses)
               for r in rows])


@app.command()
def users(ctx: typer.Context):
    """List the people of the campaign (who may act as whom)."""
    from models.tables import Unit, User
    from services.core.directory import campaign_row

    c: AppContext = ctx.obj
    U, US = Unit.__table__, User.__table__
    with c.db().connect() as conn:
        cid = campaign_row(conn, c.campaign(None)).id
        rows = conn.execute(select(US.c.username, US.c.name, US.c.role, U.c.name.label("unit"))
                            .join(U, U.c.id == US.c.unit_id).where(US.c.campaign_id == cid)
                            .order_by(U.c.path, US.c.username)).all()
    out.table(["username", "name", "role", "unit"], rows)


@unit_app.command("deliver")
def deliver(ctx: typer.Context, unit: str = typer.Argument(..., help="The unit (code or name)."), key: str = typer.Argument(..., help="Deliverable key."),
            attachment: str = typer.Option(..., "--attachment", help="Reference to the document."),
            stage: Optional[str] = typer.Option(None, "--stage", help="Default: the unit's stage."),
            actor: Optional[str] = AS_USER):
    """Record a stage deliverable (by whom, when, with an attachment reference)."""
    from services.campaigns.units import record_deliverable

    c: AppContext = ctx.obj
    record_deliverable(c.db(), c.campaign(None), unit, key, attachment=attachment,
                       actor=c.user(actor), now=c.acting_now(), stage=stage)
    out.say(f"recorded {key} for {unit}")


@unit_app.command("advance")
def advance(ctx: typer.Context, unit: str = typer.Argument(..., help="The unit (code or name)."), actor: Optional[str] = AS_USER,
            version: Optional[int] = version_option("Refuse if the unit changed.")):
    """Advance a unit to its next stage (refused while deliverables are missing)."""
    from services.campaigns.units import advance as do_advance

    c: AppContext = ctx.obj
    dest = do_advance(c.db(), c.campaign(None), unit, actor=c.user(actor), now=c.acting_now(),
                      expected_version=version)
    out.say(f"{unit} → {c.stage_name(dest)}")


@unit_app.command("show")
def unit_show(ctx: typer.Context, unit: str = typer.Argument(..., help="The unit (code or name).")):
    """A unit's stage, what it has delivered and what is still missing."""
    from services.campaigns.load import stages_of
    from services.core.directory import campaign_row, unit_by_code
    from services.campaigns.units import deliverables_of

    c: AppContext = ctx.obj
    with c.db().connect() as conn:
        cid = campaign_row(conn, c.campaign(None)).id
        u = unit_by_code(conn, cid, unit)
        stages = {s.key: s for s in stages_of(conn, cid)}
        done = deliverables_of(conn, u.id, u.stage_key) if u.stage_key else set()
    out.say(f"{u.name} ({u.code}) · stage: {stages[u.stage_key].name if u.stage_key in stages else u.stage_key}"
            f" · version {u.version}")
    if u.stage_key in stages:
        out.table(["deliverable", "name", "recorded"],
                  [(d["key"], d["name"], "yes" if d["key"] in done else "missing")
                   for d in stages[u.stage_key].deliverables])


# `rectify deliverable record UNIT KEY` reads naturally too
deliverable_app = typer.Typer(no_args_is_help=True, help="Stage deliverables.")
app.add_typer(deliverable_app, name="deliverable")
deliverable_app.command("record")(deliver)
