"""Operator commands: the sweep, status, the audit, the scheduler, the demo."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from statemachine.charts.labels import cause_label, state_label, trigger_label

from . import output as out
from .calendar import warn_if_calendar_ends
from .context import AppContext
from .params import count_option, limit_option
from .root import app

audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log.")
app.add_typer(audit_app, name="audit")


def warn_if_no_channel(c: AppContext) -> None:
    """Notices issued with no channel are never sent: serve says so at start, before
    the first is issued, enforce after a run that issued none (the nightly run fails
    on those it issues, in one line)."""
    if not c.runtime.channels:
        from services.notices.undelivered import NO_CHANNEL

        out.warn(f"no delivery channel configured ({NO_CHANNEL}): the notices issued will not be sent")


def _for_flows(ctx: typer.Context) -> tuple[AppContext, str]:
    """The campaign, a migrated database, an instant in its period (statemachine/time/period.py),
    Prefect configured: what running a flow that changes the campaign needs."""
    c: AppContext = ctx.obj
    code = c.campaign(None)
    c.db()
    c.acting_now(code)
    c.prefect()
    return c, code


def _acts(actions: dict[str, int]) -> str:
    """What an escalation pass did, by the ladder board's names (已下发通知 2, 已催办 1)."""
    from services.ladder.board import ACTION_LABELS

    return ", ".join(f"{ACTION_LABELS.get(k, k)} {v}" for k, v in actions.items())


@app.command()
def sweep(ctx: typer.Context):
    """Run the deadline sweep flow now (as of --now): record missed deadlines once."""
    c, code = _for_flows(ctx)
    from app.flow_runner import run_sweep

    r = run_sweep(code, c.now)
    parts = ", ".join(f"{cause_label(k)} {v}" for k, v in r.new_lapses.items())
    out.say(f"sweep {code} as of {out.local(r.as_of)}: {r.total} new lapses ({parts})")


@app.command()
def enforce(ctx: typer.Context,
            no_delivery: bool = typer.Option(False, "--no-delivery", help="Queue notices, send nothing.")):
    """The nightly job now (as of --now): sweep, escalation pass, delivery of notices."""
    c, code = _for_flows(ctx)
    from app.flow_runner import run_enforcement

    # a run that issued notices with no channel fails, its one error line saying so;
    # one that issued none still hears it, once it is done
    r = run_enforcement(code, c.now, deliver=not no_delivery)
    warn_if_no_channel(c)
    parts = ", ".join(f"{cause_label(k)} {v}" for k, v in r.sweep.new_lapses.items() if v)
    acts = _acts(r.escalation.actions)
    out.say(f"enforce {code} as of {out.local(r.sweep.as_of)}: {r.sweep.total} new lapses"
            + (f" ({parts})" if parts else "") + f"; cases: {acts or 'nothing to do'}"
            + ("" if no_delivery else f"; messages sent {r.delivered}, failed {r.failed}"))


@app.command("escalation-pass")
def escalation_pass(ctx: typer.Context):
    """Only the escalation pass now: new lapses → cases, chases, next levels."""
    c, code = _for_flows(ctx)
    from app.flow_runner import run_escalation

    r = run_escalation(code, c.now)
    acts = _acts(r.actions)
    out.say(f"escalation pass {code} as of {out.local(r.as_of)}: {acts or 'nothing to do'}")


@app.command("escalation-round", hidden=True)
def escalation_round(ctx: typer.Context):
    """The old name of escalation-pass ("round" is 回头看's word), kept for the crontabs
    and scripts that use it; it says so on stderr and goes in a later release."""
    out.warn("'rectify escalation-round' is now 'rectify escalation-pass'; the old name will go")
    escalation_pass(ctx)


@app.command()
def status(ctx: typer.Context,
           as_json: bool = typer.Option(False, "--json", help="JSON for programs (keys, times in Asia/Shanghai).")):
    """Where the campaign stands: per unit stage, clues, overdue, lapses; the rate."""
    from services.campaigns.load import campaign_id
    from services.notices.undelivered import undelivered
    from services.reports.status import campaign_status

    c: AppContext = ctx.obj
    warn_if_calendar_ends(c)
    s = campaign_status(c.db(), c.campaign(None), as_of=c.now)
    left = undelivered(c.engine, campaign_id(c.engine, s.campaign), configured=c.channels())
    if as_json:  # the instants as datetimes: emit_json gives them in Asia/Shanghai, never UTC
        return out.emit_json(s.as_dict() | {"as_of": s.as_of, "last_sweep": s.last_sweep}
                             | {"delivery": left.as_dict() | {"problem": left.sentence() or None}})
    out.say(f"{s.title} ({s.campaign}) as of {out.local(s.as_of)}; last sweep "
            f"{out.local(s.last_sweep) if s.last_sweep else 'never'}")
    out.table(["unit", "单位", "阶段", "open", "closed", "overdue", "lapses", "rate"],
              [(u.code, u.name, u.stage, u.open, u.closed, u.overdue, u.lapses,
                "—" if u.figures.rate is None else f"{u.figures.rate * 100:.1f}%") for u in s.units])
    out.say(s.figures.sentence())
    out.say(f"delivery needs attention: {left.sentence()}" if left.any else "delivery: nothing dead, nothing unsent")


@audit_app.command("verify")
def audit_verify(ctx: typer.Context,
                 witness: Optional[Path] = typer.Option(
                     None, "--witness", metavar="FILE",
                     help="Also hold the chain against the heads a witness saw: a file written by "
                          "'rectify audit head --append FILE', a witness message the nightly job "
                          "dropped (RECTIFY_WITNESS_CHANNEL=file), or the drop folder.")):
    """Check the hash chain and the stored evidence files; exit 3 and name the first bad record or file."""
    import sys

    from services.campaigns.load import campaign_id
    from services.core.audit import verify
    from services.core.witness import read_witness
    from services.evidence.integrity import verify_files
    from services.evidence.store import EvidenceStore

    c: AppContext = ctx.obj
    code = c.campaign(None)
    marks = read_witness(witness, campaign=code) if witness else None
    cid = campaign_id(c.db(), code)
    r = verify(c.engine, cid, witness=marks)
    if not r.ok:
        print(f"rectify: error: audit chain of {code} BROKEN at record {r.broken_at}: {r.why}",
              file=sys.stderr)
        raise typer.Exit(3)
    with c.engine.connect() as conn:
        files = verify_files(conn, cid, EvidenceStore(c.settings.evidence_folder))
    if not files.ok:
        more = f" (and {len(files.problems) - 1} more)" if len(files.problems) > 1 else ""
        print(f"rectify: error: evidence of {code} does not hold: {files.problems[0]}{more}", file=sys.stderr)
        raise typer.Exit(3)
    out.say(f"audit chain of {code} intact: {r.records} records, head {r.head.check_code}"
            + (f"; agrees with the {len(marks)} heads witnessed in {witness}" if marks else "")
            + f"; {files.files} evidence files intact")
    return 0


@audit_app.command("head")
def audit_head_(ctx: typer.Context,
                append: Optional[Path] = typer.Option(
                    None, "--append", metavar="FILE",
                    help="Add the head to this witness file (kept where the database's "
                         "administrators cannot write).")):
    """Where the chain ends now: its sequence number, hash and check code (校验码)."""
    from services.campaigns.load import campaign_id
    from services.core.audit import audit_head
    from services.core.witness import append_witness, read_witness
    from statemachine.errors import AuditBroken

    c: AppContext = ctx.obj
    code = c.campaign(None)
    # a witness that already saw more than the chain now holds must not be
    # extended with the shorter head: that would bury the evidence
    marks = read_witness(append, campaign=code, name="--append") if append and append.is_file() else None
    try:
        head = audit_head(c.db(), campaign_id(c.engine, code), witness=marks)
    except AuditBroken as e:
        raise AuditBroken(f"{str(e).replace('audit chain', f'audit chain of {code}', 1)}; "
                          f"run 'rectify audit verify'") from None
    if append:
        append_witness(append, head, campaign=code)
    out.say(f"{code} audit head: seq {head.seq} hash {head.hash} check code {head.check_code}"
            + (f" (appended to {append})" if append else ""))


@audit_app.command("log")
def audit_log(ctx: typer.Context, limit: int = limit_option(50, help="At most this many records, the latest.")):
    """The latest audit records."""
    from sqlalchemy import select

    from models.tables import AuditRecord
    from services.campaigns.load import campaign_id

    c: AppContext = ctx.obj
    A = AuditRecord.__table__
    cid = campaign_id(c.db(), c.campaign(None))
    with c.engine.connect() as conn:
        rows = conn.execute(select(A).where(A.c.campaign_id == cid).order_by(A.c.seq.desc())
                            .limit(limit)).all()
    def state(entity: str, value: str | None) -> str:  # a unit's "state" is its stage
        return c.stage_name(value) if entity == "unit" else state_label(entity, value)

    out.table(["#", "时间", "操作人", "对象", "操作", "原状态", "新状态", "理由"],
              [(r.seq, out.local(r.at), r.actor, f"{r.entity}:{r.entity_id}",
                trigger_label("stage" if r.entity == "unit" else r.entity, r.trigger),
                state(r.entity, r.from_state), state(r.entity, r.to_state), r.reason)
               for r in reversed(rows)])


@app.command()
def serve(ctx: typer.Context,
          cron: Optional[str] = typer.Option(None, "--cron",
                                             help="Override the plans' sweep cron (5 fields, or 6 with seconds)."),
          holder: Optional[str] = typer.Option(None, "--name", help="This scheduler's name in the logs."),
          take_over: bool = typer.Option(False, "--take-over",
                                         help="Take the campaigns' schedules over from another scheduling "
                                              "method ('rectify deploy', the other mode of serve).")):
    """Fire the nightly job (sweep, escalation pass, delivery) on each campaign's cron until stopped.

    RECTIFY_SCHEDULER=embedded (default): APScheduler in this process, and a local
    Prefect server with its UI on 127.0.0.1 (PREFECT_SERVER_API_PORT, default 4200)
    unless PREFECT_API_URL names one; flow commands of this home use it.
    RECTIFY_SCHEDULER=prefect: serve Prefect deployments with cron schedules
    (needs a Prefect server, PREFECT_API_URL). RECTIFY_SERVE_WEB=1: the web app too.
    One scheduling method per campaign: refused when another owns it, unless --take-over."""
    from services.campaigns.load import campaign_codes
    from services.campaigns.scheduling import check_scheduling

    c: AppContext = ctx.obj
    with c.db().connect() as conn:  # before anything starts: a refusal is the one line
        check_scheduling(conn, campaign_codes(conn), take_over=take_over,
                         method="serve" if c.settings.scheduler == "prefect" else "embedded")
    web = None
    if c.settings.serve_web:  # RECTIFY_SERVE_WEB: the web app in a thread beside the scheduler
        from app.web.server import start_beside

        web = start_beside(c.runtime)
        out.say(f"web app on {c.settings.web_host}:{web.port} (public URL {c.settings.web_url})")
    local = None
    try:
        c.prefect(discover=False)
        if c.settings.scheduler != "prefect" and not os.environ.get("PREFECT_API_URL"):
            # the embedded default: a local Prefect server with its UI beside the scheduler,
            # which the flow commands of this home use too (app/local_prefect.py)
            from app.local_prefect import start

            local = start()
            os.environ["PREFECT_API_URL"] = local.api_url  # before Prefect is imported here
            out.say(f"Prefect UI at {local.ui_url} (API {local.api_url}, 127.0.0.1 only); "
                    f"rectify's flow commands of this home use it while this runs")
        if c.settings.scheduler == "prefect":
            from app.prefect_serve import check_serving

            check_serving(c)  # a refusal is the one line: no warnings above it
        warn_if_calendar_ends(c)  # at start; each nightly run warns again in its log and artifact
        warn_if_no_channel(c)
        if c.settings.scheduler == "prefect":
            from app.prefect_serve import serve_deployments

            return serve_deployments(c, cron_override=cron, take_over=take_over)
        from app.scheduler import run_forever

        run_forever(c, cron_override=cron, holder=holder, take_over=take_over)
    finally:
        if local is not None:
            local.stop()
        if web is not None:
            web.stop()


@app.command()
def demo(ctx: typer.Context,
         clues: int = count_option(300, "--clues", help="How many clues to generate."),
         seed: int = count_option(2023, "--seed", help="Random seed (the replay is reproducible)."),
         out_dir: Optional[str] = typer.Option(None, "--out", help="Where the demo keeps its files."),
         until: Optional[str] = typer.Option(None, "--until",
                                             help="Stop the replay after this day (default 2023-10-31).")):
    """Replay the 忻州 campaign (seed 003) from 2023-03-15 to 10-31 through the real flows."""
    from app.demo.replay import run_demo

    run_demo(ctx.obj, clues=clues, seed=seed, out_dir=out_dir, until=until)
