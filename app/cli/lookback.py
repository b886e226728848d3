"""Look-back rounds (回头看) and field inspections (实地督察): supervisors plan, open,
assign, close; inspectors record checks; anyone in the campaign reads the report."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Optional

import typer

from statemachine.charts.labels import STATE_LABELS, key_of, state_label
from statemachine.charts.lookback import METHODS, OUTCOMES, ROUND_KINDS
from statemachine.errors import InvalidInput

from . import output as out
from .clues import _date
from .context import AppContext
from .params import limit_option, version_option
from .root import AS_USER, app

round_app = typer.Typer(no_args_is_help=True,
                        help="Look-back rounds (回头看) and field inspections (实地督察).")
app.add_typer(round_app, name="round")

ROUND_CODE = typer.Argument(..., help="The round's code (its file's `code`, e.g. lb-2023-08).")
JSON_HELP = "JSON for programs (keys, times in Asia/Shanghai)."


def _read_spec(file: str):
    from services.campaigns.plans import parse_yaml_model, read_yaml_file
    from statemachine.lookback.spec import RoundSpec

    text = read_yaml_file(file, what="round file")
    return parse_yaml_model(text, RoundSpec, source=file,
                            shape="a round file must be a YAML mapping with code, title, scope, deadline …")


def _say_round(v) -> None:
    out.say(f"round {v.code} · {ROUND_KINDS[v.kind]} · {v.title} → {state_label('round', v.state)}"
            f" (version {v.version})")
    out.say(f"  scope {v.scope_name} ({v.scope}) · deadline {v.deadline}"
            + (f" · visits {v.visit_from} – {v.visit_to}" if v.visit_from else "")
            + f" · seed {v.seed}")
    if v.digest:
        out.say(f"  drawn {v.selected} of {v.candidates} closed items · digest {v.digest[:16]}")
    if v.checks:
        out.say("  checks: " + ", ".join(f"{state_label('check', k)} {n}"
                                         for k, n in sorted(v.checks.items())))


@round_app.command("plan")
def plan(ctx: typer.Context, file: str = typer.Argument(..., help="The round file (YAML)."), actor: Optional[str] = AS_USER):
    """Record a round from a YAML file (scope, selection and seed, teams, deadline); opens nothing."""
    from services.lookback.rounds import plan_round

    c: AppContext = ctx.obj
    spec = _read_spec(file)
    v = plan_round(c.db(), c.campaign(None), spec, actor=c.user(actor), now=c.acting_now())
    _say_round(v)


@round_app.command("open")
def open_(ctx: typer.Context, round_: str = typer.Argument(..., metavar="ROUND",
                                                         help="A planned round's code, or a round file."),
          actor: Optional[str] = AS_USER):
    """Open a round (the open-round flow): draw the items, assign teams, notify units and teams.
    Given a file, the round is planned first. Running it again changes nothing."""
    from services.lookback.rounds import get_round, plan_round, preflight

    c: AppContext = ctx.obj
    code_ = c.campaign(None)
    user = c.user(actor)
    if round_.endswith((".yaml", ".yml")) or Path(round_).is_file():
        code = plan_round(c.db(), code_, _read_spec(round_), actor=user, now=c.acting_now()).code
    else:
        code = round_
    preflight(c.db(), code_, code, actor=user, action="open")
    c.prefect()
    from app.flow_runner import run_open_round

    r = run_open_round(code_, code, user, c.acting_now(code_))
    d = r.drawn
    if d.already and r.notified.already:
        out.say(f"round {code} is open already: nothing changed")
    else:
        out.say(f"round {code}: drew {d.selected} of {d.candidates} closed items in {d.units} units "
                f"(seed {d.seed}); notice {r.notified.notice or '—'}, {r.notified.messages} messages queued")
    _say_round(get_round(c.db(), code_, code))


@round_app.command("list")
def list_(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help=JSON_HELP)):
    """All rounds of the campaign."""
    from services.lookback.rounds import list_rounds

    c: AppContext = ctx.obj
    rows = list_rounds(c.db(), c.campaign(None))
    if as_json:
        return out.emit_json([asdict(r) for r in rows])
    out.table(["code", "kind", "title", "state", "scope", "deadline", "selected"],
              [(r.code, ROUND_KINDS[r.kind], r.title, state_label("round", r.state),
                r.scope_name, r.deadline, r.selected) for r in rows])


@round_app.command("show")
def show(ctx: typer.Context, code: str = ROUND_CODE, as_json: bool = typer.Option(False, "--json", help=JSON_HELP)):
    """A round: its rule, seed, teams and their units, and its checks by state."""
    from services.lookback.rounds import get_round

    c: AppContext = ctx.obj
    v = get_round(c.db(), c.campaign(None), code)
    if as_json:
        return out.emit_json(asdict(v))
    _say_round(v)
    for t in v.teams:
        out.say(f"  {t.name} ({t.code}) · leader {t.leader or '—'} · members {', '.join(t.members)}")
        for u_code, u_name, visit, n in t.units:
            out.say(f"    {u_name} ({u_code}) · {n} items" + (f" · visit {visit}" if visit else ""))


@round_app.command("checks")
def checks(ctx: typer.Context, code: str = ROUND_CODE,
           unit: Optional[str] = typer.Option(None, "--unit", help="The checks of this unit (code or name)."),
           team: Optional[str] = typer.Option(None, "--team", help="The checks of this team (督察组, its code)."),
           state: Optional[str] = typer.Option(None, "--state", help="A state: key or name (pending, 待核查)."),
           limit: int = limit_option(200, help="At most this many checks."),
           as_json: bool = typer.Option(False, "--json", help=JSON_HELP)):
    """The round's checks (of a unit, a team, in a state)."""
    from services.lookback.checks import list_checks

    c: AppContext = ctx.obj
    if state:
        state = key_of(state, STATE_LABELS["check"], what="state", option="--state")
    rows = list_checks(c.db(), c.campaign(None), code, unit=unit, team=team, state=state, limit=limit)
    if as_json:
        return out.emit_json([asdict(r) for r in rows])
    out.table(["check", "事项", "单位", "督察组", "状态", "核查方式", "核查人", "核查日期", "发现问题"],
              [(r.id, r.number, r.unit_name, r.team, state_label("check", r.state),
                METHODS.get(r.method or "", None), r.inspector, r.checked_on, (r.findings or "")[:40])
               for r in rows])


@round_app.command("assign")
def assign(ctx: typer.Context, code: str = ROUND_CODE,
           unit: str = typer.Argument(..., help="The unit (code or name) whose checks move."),
           team: str = typer.Argument(..., help="The team (督察组) they go to, by its code."),
           visit: Optional[str] = typer.Option(None, "--visit", help="Visit day YYYY-MM-DD."),
           actor: Optional[str] = AS_USER):
    """Give a unit, and its pending checks, to another team (回避 is enforced)."""
    from services.lookback.checks import reassign_unit

    c: AppContext = ctx.obj
    n = reassign_unit(c.db(), c.campaign(None), code, unit, team, actor=c.user(actor), now=c.acting_now(),
                      visit_on=_date(visit, "--visit"))
    out.say(f"round {code}: {unit} → team {team} ({n} pending checks moved)")


@round_app.command("record")
def record(ctx: typer.Context, code: str = ROUND_CODE, item: str = typer.Argument(..., help="Item number or check id."),
           outcome: str = typer.Argument(..., help=" | ".join(f"{k} {STATE_LABELS['check'][k]}" for k in OUTCOMES)),
           method: Optional[str] = typer.Option(None, "--method",
                                                help=" | ".join(f"{k} {v}" for k, v in METHODS.items())),
           findings: Optional[str] = typer.Option(None, "--findings", help="What the check found."),
           on: Optional[str] = typer.Option(None, "--on", help="Day of the check YYYY-MM-DD (default today)."),
           inspector: Optional[str] = typer.Option(None, "--inspector", help="Who checked (default: you)."),
           deadline: Optional[str] = typer.Option(None, "--deadline",
                                                  help="Relapsed/faked: the reopened item's new deadline."),
           attachment: Optional[str] = typer.Option(None, "--attachment", help="Evidence of the check."),
           version: Optional[int] = version_option(), actor: Optional[str] = AS_USER):
    """Record a check: confirmed (整改到位), relapsed (问题反弹) or faked (弄虚作假)."""
    from services.lookback.checks import CheckInput, record_check

    c: AppContext = ctx.obj
    # by its name (问题反弹) too; anything else the use case refuses, naming the outcomes
    outcome = next((k for k in OUTCOMES if STATE_LABELS["check"][k] == outcome), outcome)
    v = record_check(c.db(), c.campaign(None), code, item, outcome, actor=c.user(actor), now=c.acting_now(),
                     calendar=c.calendar, expected_version=version,
                     data=CheckInput(method=method, inspector=inspector, findings=findings,
                                     checked_on=_date(on, "--on"), attachment=attachment,
                                     deadline=_date(deadline, "--deadline")))
    out.say(f"check {v.id} of {v.number} ({v.unit_name}) → {state_label('check', v.state)}"
            + (f"; reopened with deadline {v.new_deadline} when the round closes" if v.new_deadline else ""))


@round_app.command("revise")
def revise(ctx: typer.Context, code: str = ROUND_CODE,
           item: str = typer.Argument(..., help="Item number or check id."),
           reason: str = typer.Option(..., "--reason", help="Why the check is taken back (kept in the audit)."),
           actor: Optional[str] = AS_USER):
    """Take a recorded check back to pending (a supervisor, while the round is open)."""
    from services.lookback.checks import revise_check

    c: AppContext = ctx.obj
    v = revise_check(c.db(), c.campaign(None), code, item, actor=c.user(actor), now=c.acting_now(), reason=reason)
    out.say(f"check {v.id} of {v.number} → {state_label('check', v.state)}")


@round_app.command("close")
def close(ctx: typer.Context, code: str = ROUND_CODE, actor: Optional[str] = AS_USER):
    """Close a round (the close-round flow): unchecked items are missed, relapsed and faked
    items are reopened, faked results go up the ladder (追责问责), the tally is kept."""
    from services.lookback.rounds import preflight

    c: AppContext = ctx.obj
    code_ = c.campaign(None)
    user = c.user(actor)
    preflight(c.db(), code_, code, actor=user, action="close")
    c.prefect()
    from app.flow_runner import run_close_round

    r = run_close_round(code_, code, user, c.acting_now(code_))
    t = r.tally.get("totals", {})
    reopened = sum(1 for ln in r.reopened if ln.note == "reopened")
    out.say(f"round {code} closed: {t.get('checked', 0)} of {t.get('selected', 0)} checked · "
            f"confirmed {t.get('confirmed', 0)} · relapsed {t.get('relapsed', 0)} · faked {t.get('faked', 0)} · "
            f"missed {t.get('missed', 0)}; {reopened} items reopened; "
            f"{len(r.cases)} accountability cases proposed"
            + (f" ({', '.join(f'case {x.case_id} {x.unit_name}' for x in r.cases)})" if r.cases else ""))


@round_app.command("cancel")
def cancel(ctx: typer.Context, code: str = ROUND_CODE,
           reason: str = typer.Option(..., "--reason", help="Why the round is called off (kept in the audit)."),
           actor: Optional[str] = AS_USER):
    """Call off a planned or open round; nothing it found is acted on."""
    from services.lookback.rounds import cancel_round

    c: AppContext = ctx.obj
    _say_round(cancel_round(c.db(), c.campaign(None), code, reason=reason, actor=c.user(actor), now=c.acting_now()))


def _rate(x) -> str:
    return "—" if x is None else f"{x:.1%}"


@round_app.command("report")
def report(ctx: typer.Context, code: str = ROUND_CODE, as_json: bool = typer.Option(False, "--json", help=JSON_HELP)):
    """What the round found: per unit and per aspect, relapse rates, teams, reopened items."""
    from services.lookback.findings import OUTCOME_COLUMNS, round_report

    c: AppContext = ctx.obj
    r = round_report(c.db(), c.campaign(None), code, now=c.now)
    if as_json:
        return out.emit_json(asdict(r))
    t = r.tally
    out.say(f"round {r.code} · {ROUND_KINDS[r.kind]} · {r.title} · {state_label('round', r.state)}"
            + (f" · final tally of {out.local(r.as_of)}" if r.final else f" · as of {out.local(r.as_of)}"))
    cols = list(OUTCOME_COLUMNS) + ["relapse rate"]

    def rows(lines):
        return [(ln["name"], *(ln[k] for k in OUTCOME_COLUMNS), _rate(ln["relapse_rate"])) for ln in lines]

    out.table(["unit", *cols], rows(t["units"] + [t["totals"]]), title="by unit")
    out.table(["aspect", *cols], rows(t["aspects"]), title="by aspect")
    if t["teams"]:
        out.table(["team", *cols, "overdue"],
                  [(*row, ln["overdue"]) for row, ln in zip(rows(t["teams"]), t["teams"])], title="by team")
    if t["reopened"]:
        out.table(["item", "unit", "found", "new deadline", "item now", "findings"],
                  [(x["number"], x["unit"], state_label("check", x["outcome"]), x["deadline"],
                    state_label("clue", x["item_state"]), (x["findings"] or "")[:40]) for x in t["reopened"]], title="reopened items")


@round_app.command("verify")
def verify(ctx: typer.Context, code: str = ROUND_CODE):
    """Re-draw the sample from the recorded seed and show it matches the checks (not hand-picked)."""
    from services.lookback.findings import verify_sample

    c: AppContext = ctx.obj
    v = verify_sample(c.db(), c.campaign(None), code)
    if v.ok:
        how = "re-drawn from seed " + v.seed if v.mode == "sample" else "every closed item (mode all)"
        out.say(f"round {code}: sample OK — {v.selected} items in {v.units} units, {how}; "
                f"digest {v.actual_digest[:16]} as recorded")
        return
    for d in v.differences:
        out.say(f"  {d}")
    raise InvalidInput(f"round {code}: the checks do not match the recorded draw ({len(v.differences)} differences)")
