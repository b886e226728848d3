"""Commands on problems and clues."""
from __future__ import annotations

from datetime import date
from typing import List, Optional

import typer

from statemachine.charts.clue import CLUE_CHART
from statemachine.errors import InvalidInput
from statemachine.charts.labels import STATE_LABELS, TRIGGER_LABELS, key_of, state_label, trigger_label

from . import output as out
from .context import AppContext
from .params import limit_option, version_option
from .root import AS_USER, app

clue_app = typer.Typer(no_args_is_help=True, help="Problems and clues (问题线索).")
app.add_typer(clue_app, name="clue")


def _label(state: str) -> str:
    return state_label("clue", state)


def _state_key(state: Optional[str]) -> Optional[str]:
    """--state: a key (rectifying) or its name (整改中)."""
    return key_of(state, STATE_LABELS["clue"], what="state", option="--state") if state else None


def _trigger_key(trigger: str) -> str:
    """A trigger by key (substantiate) or name (查实); anything else the use case refuses."""
    names = {t: n for t, n in TRIGGER_LABELS["clue"].items() if t in CLUE_CHART.triggers}
    return next((t for t, n in names.items() if n == trigger), trigger)


def _date(value: Optional[str], flag: str) -> Optional[date]:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{flag}: '{value}' is not a date (YYYY-MM-DD)") from None


def _on_clue(ctx: typer.Context, use_case, number: str, actor: Optional[str], *, calendar: bool = False, **kw):
    """One use case on one clue in one transaction, as the named user at the acting time;
    `calendar`: the use case counts working days on this process's calendar."""
    c: AppContext = ctx.obj
    with c.work() as uow:
        return use_case(uow, c.campaign(None), number, actor=c.user(actor), now=c.acting_now(),
                        **({"calendar": c.calendar} if calendar else {}), **kw)


@clue_app.command("add")
def add(ctx: typer.Context,
        unit: str = typer.Option(..., "--unit", help="责任单位 (unit code or name)."),
        channel: str = typer.Option(..., "--channel", help="线索来源, e.g. 12345, 12328, 信访投诉 (信访), 自查自纠."),
        aspect: str = typer.Option(..., "--aspect", help="问题方面 (key or name)."),
        summary: str = typer.Option(..., "--summary", help="问题表现."),
        reporter: Optional[str] = typer.Option(None, "--reporter", help="反映人 (fictional in tests)."),
        phone: Optional[str] = typer.Option(None, "--phone", help="反映人联系电话."),
        kind: Optional[str] = typer.Option(None, "--kind",
                                           help="clue | self_inspection | carried_over (default: by channel)."),
        actor: Optional[str] = AS_USER):
    """Register one clue."""
    from services.clues.lifecycle import NewClue, add_clues

    c: AppContext = ctx.obj
    numbers = add_clues(c.db(), c.campaign(None), [NewClue(
        channel=channel, aspect=aspect, summary=summary, unit=unit, reporter_name=reporter,
        reporter_phone=phone, kind=kind)], actor=c.user(actor), now=c.acting_now(), calendar=c.calendar)
    out.say(numbers[0])


@clue_app.command("import")
def import_(ctx: typer.Context, file: str = typer.Argument(..., help="The CSV file (UTF-8 or GB18030)."),
            actor: Optional[str] = AS_USER):
    """Import clues from CSV (columns: channel, aspect, summary, unit, …; 工单号 makes it
    idempotent); all rows or none, every bad cell named."""
    from services.clues.importing import import_clue_csv

    c: AppContext = ctx.obj
    r = import_clue_csv(c.db(), c.campaign(None), file, actor=c.user(actor), now=c.acting_now(),
                        calendar=c.calendar)
    out.say(str(r))


@clue_app.command("show")
def show(ctx: typer.Context, number: str = typer.Argument(..., help="The clue's number, e.g. XS-2023-00001."),
         as_json: bool = typer.Option(False, "--json", help="JSON for programs (keys, times in Asia/Shanghai).")):
    """One clue with its full audited history."""
    from dataclasses import asdict

    from services.clues.lifecycle import get_clue

    c: AppContext = ctx.obj
    v = get_clue(c.db(), c.campaign(None), number)
    if as_json:
        return out.emit_json(asdict(v))
    out.say(f"{v.number} · {_label(v.state)} · {v.channel} · {c.aspect_name(v.aspect)} · version {v.version}"
            + (" · 已逾期" if v.overdue(c.now) else ""))
    out.say(f"  {v.summary}")
    out.say(f"  责任单位 {v.unit}  责任人 {v.owner or '—'}  核查时限 {out.local(v.verify_due_at)}  "
            f"整改时限 {out.local(v.deadline_at)}")
    for label, value in (("整改措施", v.measures), ("可验证成果", v.evidence), ("理由", v.reason)):
        if value:
            out.say(f"  {label}: {value}")
    _show_record(c, number)
    out.table(["#", "时间", "操作人", "操作", "原状态", "新状态", "理由"],
              [(h["seq"], out.local(h["at"]), h["actor"], trigger_label(_kind(h), h["trigger"]),
                state_label(_kind(h), h["from_state"]), state_label(_kind(h), h["to_state"]), h["reason"])
               for h in v.history], title="办理记录")


def _kind(record: dict) -> str:
    """The vocabulary a history record's trigger and states are named in (its chart's)."""
    from services.clues.history import ENTITY_KINDS

    return ENTITY_KINDS.get(record["entity"], "clue")
def _show_record(c: AppContext, number: str) -> None:
    """Sources (合并), the item merged into, callbacks (回访): phone numbers masked."""
    from services.clues.record import item_record
    from statemachine.charts.callback import LABELS as CALLBACK_LABELS, RESULTS, CallbackState

    r = item_record(c.db(), c.campaign(None), number)
    if r.merged_into:
        out.say(f"  已合并至 {r.merged_into}")
    if r.callback != "none":
        due = f"（时限 {out.local(r.callback_due_at)}）" if r.callback == "owed" else ""
        out.say(f"  回访: {CALLBACK_LABELS[CallbackState(r.callback)]}{due}")
    if len(r.sources) > 1 or any(s.source_ref or s.reporter_name or s.reporter_phone for s in r.sources):
        out.table(["来源", "工单号", "反映人", "联系电话", "受理时间", "并自"],
                  [(s.channel, s.source_ref or "—", s.reporter_name or "—", s.reporter_phone or "—",
                    out.local(s.received_at), s.merged_from or "—") for s in r.sources], title="来源")
    if r.callbacks:
        out.table(["时间", "回访人", "结果", "责任单位有过错", "按时", "重办", "说明"],
                  [(out.local(b.at), b.by, RESULTS[b.result], "是" if b.unit_at_fault else "否",
                    "是" if b.on_time else "否", "是" if b.redo else "否", b.note or "") for b in r.callbacks],
                  title="回访记录")


@clue_app.command("list")
def list_(ctx: typer.Context,
          unit: Optional[str] = typer.Option(None, "--unit", help="A unit (code or name): its subtree's clues."),
          state: Optional[str] = typer.Option(None, "--state", help="A state: key or name (rectifying, 整改中)."),
          overdue: bool = typer.Option(False, "--overdue", help="Only the clues overdue now (as of --now)."),
          limit: int = limit_option(200, help="At most this many clues."),
          as_json: bool = typer.Option(False, "--json", help="JSON for programs (keys, times in Asia/Shanghai).")):
    """List clues (of a unit's subtree, in a state, or overdue now)."""
    from dataclasses import asdict

    from services.clues.lifecycle import list_clues

    c: AppContext = ctx.obj
    rows = list_clues(c.db(), c.campaign(None), unit=unit, state=_state_key(state),
                      overdue_as_of=c.now if overdue else None, limit=limit)
    if as_json:
        return out.emit_json([asdict(r) for r in rows])
    def due(r):  # the deadline that runs in this state: verification, then rectification
        return r.verify_due_at if r.state in ("received", "verifying") else \
            r.deadline_at if r.state == "rectifying" else None

    out.table(["编号", "状态", "责任单位", "线索来源", "问题方面", "时限", "预警", "问题表现"],
              [(r.number, _label(r.state), r.unit, r.channel, c.aspect_name(r.aspect),
                out.local(r.deadline_at or r.verify_due_at, "%Y-%m-%d"), c.warning(due(r)),
                r.summary[:40]) for r in rows])


def _input(reason, measures, deadline, owner, evidence, stage_result, long_term):
    from services.clues.lifecycle import ClueInput

    return ClueInput(reason=reason, measures=measures, deadline=_date(deadline, "--deadline"),
                     owner=owner, evidence=evidence, stage_result=stage_result,
                     long_term_measure=long_term)


REASON = typer.Option(None, "--reason", help="Why (dismiss, reject, transfer, reopen, extend; kept in the audit).")
MEASURES = typer.Option(None, "--measures", help="整改措施 (substantiate).")
DEADLINE = typer.Option(None, "--deadline", help="完成时限 YYYY-MM-DD (substantiate, reopen; extend: the new one).")
OWNER = typer.Option(None, "--owner", help="责任人 (substantiate).")
EVIDENCE = typer.Option(None, "--evidence", help="可验证成果 reference (submit_evidence).")
STAGE_RESULT = typer.Option(None, "--stage-result", help="阶段性成效 (defer).")
LONG_TERM = typer.Option(None, "--long-term", help="长期举措 (defer).")


@clue_app.command("transition")
def transition(ctx: typer.Context, number: str = typer.Argument(..., help="The clue's number."),
               trigger: str = typer.Argument(..., help=" | ".join(
                   f"{t} {TRIGGER_LABELS['clue'][t]}" for t in CLUE_CHART.triggers)),
               actor: Optional[str] = AS_USER, reason: Optional[str] = REASON,
               measures: Optional[str] = MEASURES, deadline: Optional[str] = DEADLINE,
               owner: Optional[str] = OWNER, evidence: Optional[str] = EVIDENCE,
               stage_result: Optional[str] = STAGE_RESULT, long_term: Optional[str] = LONG_TERM,
               version: Optional[int] = version_option("Refuse if the clue changed since this version.")):
    """Fire a trigger on a clue: verify, substantiate, dismiss, submit_evidence, approve, extend (延期), …"""
    from services.clues.lifecycle import transition as fire

    c: AppContext = ctx.obj
    data = _input(reason, measures, deadline, owner, evidence, stage_result, long_term)
    with c.work() as uow:  # one transaction: schema check, campaign, the transition
        v = fire(uow, c.campaign(None), number, _trigger_key(trigger), actor=c.user(actor), now=c.acting_now(),
                 data=data,
                 expected_version=version, calendar=c.calendar)
    out.say(f"{v.number} → {_label(v.state)} (version {v.version})")


@clue_app.command("bulk")
def bulk(ctx: typer.Context, trigger: str = typer.Argument(..., help="The trigger: key or name (verify, 核查)."),
         numbers: Optional[List[str]] = typer.Argument(None, help="The clues' numbers (or --unit, --state)."),
         unit: Optional[str] = typer.Option(None, "--unit", help="The clues of this unit."),
         state: Optional[str] = typer.Option(None, "--state", help="The clues in this state: key or name."),
         actor: Optional[str] = AS_USER, reason: Optional[str] = REASON,
         measures: Optional[str] = MEASURES, deadline: Optional[str] = DEADLINE,
         owner: Optional[str] = OWNER, evidence: Optional[str] = EVIDENCE,
         stage_result: Optional[str] = STAGE_RESULT, long_term: Optional[str] = LONG_TERM):
    """Fire a trigger on many clues at once (set-based); ineligible ones are skipped."""
    from services.clues.lifecycle import bulk_transition

    if not numbers and not unit and not state:
        raise InvalidInput("say which clues: numbers, --unit or --state")
    c: AppContext = ctx.obj
    data = _input(reason, measures, deadline, owner, evidence, stage_result, long_term)
    with c.work() as uow:
        r = bulk_transition(uow, c.campaign(None), _trigger_key(trigger), actor=c.user(actor),
                            now=c.acting_now(), data=data, numbers=numbers or None, unit=unit,
                            state=_state_key(state), calendar=c.calendar)
    out.say(f"{trigger_label('clue', r.trigger)}: {len(r.moved)} moved, {r.skipped} skipped")


@clue_app.command("typical")
def typical(ctx: typer.Context, number: str = typer.Argument(..., help="The item's number."),
            note: Optional[str] = typer.Option(None, "--note", help="Why it is typical (正面/反面典型)."),
            clear: bool = typer.Option(False, "--clear", help="No longer a typical case."),
            actor: Optional[str] = AS_USER):
    """Mark an item as a typical case (典型案例) for the reports; supervisors above its unit."""
    from services.clues.typical import mark_typical

    c: AppContext = ctx.obj
    if not clear and note is None:
        raise InvalidInput("--note is required (or --clear)")
    mark_typical(c.db(), c.campaign(None), number, note=None if clear else note, actor=c.user(actor),
                 now=c.acting_now())
    out.say(f"{number}: {'no longer a typical case' if clear else 'typical case: ' + note}")


# -- 延期 as a request and a decision; 挂账 ----------------------------------------------
CLUE_NUMBER = typer.Argument(..., help="The clue's number, e.g. XS-2023-00001.")


@clue_app.command("request-extension")
def request_extension(ctx: typer.Context, number: str = CLUE_NUMBER,
                      until: str = typer.Option(..., "--until", help="The deadline asked for, YYYY-MM-DD."),
                      reason: Optional[str] = REASON, actor: Optional[str] = AS_USER):
    """The unit asks for more time (延期申请) before its deadline; the level above decides."""
    from services.clues.extensions import request_extension as ask

    day = _date(until, "--until")
    v = _on_clue(ctx, ask, number, actor, calendar=True, until=day, reason=reason)
    out.say(f"{v.number}: extension to {v.asked} asked for (deadline {v.previous}); waits for the level above")


@clue_app.command("approve-extension")
def approve_extension(ctx: typer.Context, number: str = CLUE_NUMBER,
                      until: Optional[str] = typer.Option(None, "--until",
                                                          help="Grant an earlier date than asked, YYYY-MM-DD."),
                      note: Optional[str] = typer.Option(None, "--note", help="A note kept with the decision."), actor: Optional[str] = AS_USER):
    """The level above grants the waiting extension request (the deadline moves)."""
    from services.clues.extensions import approve_extension as approve

    day = _date(until, "--until")
    v = _on_clue(ctx, approve, number, actor, calendar=True, until=day, note=note)
    out.say(f"{v.number}: extension granted, deadline {v.previous} → {v.deadline}")


@clue_app.command("refuse-extension")
def refuse_extension(ctx: typer.Context, number: str = CLUE_NUMBER, reason: Optional[str] = REASON,
                     actor: Optional[str] = AS_USER):
    """The level above refuses the waiting extension request (the deadline stays)."""
    from services.clues.extensions import refuse_extension as refuse

    v = _on_clue(ctx, refuse, number, actor, reason=reason)
    out.say(f"{v.number}: extension to {v.asked} refused, deadline stays {v.deadline}")


@clue_app.command("suspend")
def suspend(ctx: typer.Context, number: str = CLUE_NUMBER, reason: Optional[str] = REASON,
            actor: Optional[str] = AS_USER):
    """挂账: stop a clue's clock (a supervisor above its unit); suspended time does not count."""
    from services.clues.suspension import suspend as stop

    v = _on_clue(ctx, stop, number, actor, reason=reason)
    out.say(f"{v.number}: clock suspended")


@clue_app.command("resume")
def resume(ctx: typer.Context, number: str = CLUE_NUMBER, reason: Optional[str] = REASON,
           actor: Optional[str] = AS_USER):
    """恢复计时: start a suspended clue's clock again; its deadlines move on by the days it stood."""
    from services.clues.suspension import resume as restart

    v = _on_clue(ctx, restart, number, actor, calendar=True, reason=reason)
    moved = f", deadline {v.deadline}" if v.deadline else ""
    out.say(f"{v.number}: clock running, moved on {v.moved_by} working day(s){moved}")


# -- 签收, 退单 / 改派 -------------------------------------------------------------------------
@clue_app.command("sign")
def sign(ctx: typer.Context, number: str = CLUE_NUMBER, actor: Optional[str] = AS_USER):
    """签收: a member of the clue's unit signs for it (before verifying it, or returning it)."""
    from services.clues.signing import sign as sign_for

    v = _on_clue(ctx, sign_for, number, actor)
    out.say(f"{v.number}: signed for by {v.signed_by} ({v.unit})" + (" · 超时签收 (late)" if v.late else ""))


@clue_app.command("return")
def return_(ctx: typer.Context, number: str = CLUE_NUMBER, reason: Optional[str] = REASON,
            actor: Optional[str] = AS_USER):
    """退单: a member of the clue's unit returns it as not its own, within the plan's return window."""
    from services.clues.returns import return_clue

    v = _on_clue(ctx, return_clue, number, actor, calendar=True, reason=reason)
    out.say(f"{v.number}: returned by {v.from_unit}; waits for the level above (reassign or refuse-return)")


@clue_app.command("reassign")
def reassign(ctx: typer.Context, number: str = CLUE_NUMBER,
             to: str = typer.Option(..., "--to", help="The unit it goes to (code or name)."),
             note: Optional[str] = typer.Option(None, "--note", help="A note kept with the decision."),
             actor: Optional[str] = AS_USER):
    """改派: the level above moves a returned clue to another unit; its clock restarts there."""
    from services.clues.returns import reassign as move

    v = _on_clue(ctx, move, number, actor, calendar=True, to=to, note=note)
    sign = f", sign for it by {out.local(v.sign_due_at)}" if v.sign_due_at else ""
    out.say(f"{v.number}: reassigned from {v.from_unit} to {v.unit}; verify by {out.local(v.verify_due_at)}{sign}")


@clue_app.command("refuse-return")
def refuse_return(ctx: typer.Context, number: str = CLUE_NUMBER, reason: Optional[str] = REASON,
                  actor: Optional[str] = AS_USER):
    """The level above refuses a return: the clue stays with its unit (its clock never stopped)."""
    from services.clues.returns import refuse_return as refuse

    v = _on_clue(ctx, refuse, number, actor, calendar=True, reason=reason)
    out.say(f"{v.number}: return refused; it stays with {v.unit}")
# -- 合并, 回访, 重办 ------------------------------------------------------------------------
@clue_app.command("merge")
def merge(ctx: typer.Context, number: str = typer.Argument(..., help="The duplicate (DUP), e.g. XS-2023-00002."),
          into: str = typer.Option(..., "--into", help="The item kept (KEEP): it takes every source of DUP."),
          reason: Optional[str] = typer.Option(None, "--reason", help="Why they are one matter (kept in the audit)."),
          actor: Optional[str] = AS_USER):
    """合并: merge a duplicate into the item kept (a supervisor above both items' units)."""
    from services.clues.merging import merge as merge_items

    v = _on_clue(ctx, merge_items, number, actor, calendar=True, into=into, reason=reason)
    told = f"; {len(v.told)} reporter(s) told the outcome ({', '.join(v.told)})" if v.told else ""
    out.say(f"{v.number} → {_label(v.state)}, merged into {v.into}: {v.sources_moved} source(s) moved{told}")


@clue_app.command("callback")
def callback(ctx: typer.Context, number: str = CLUE_NUMBER,
             result: str = typer.Option(..., "--result", help="满意 | 基本满意 | 不满意 | 未联系上 (or its key)."),
             note: Optional[str] = typer.Option(None, "--note", help="What the reporter said."),
             unit_at_fault: bool = typer.Option(False, "--unit-at-fault",
                                                help="不满意 through the unit's fault: 重办 may follow."),
             actor: Optional[str] = AS_USER):
    """回访: record the callback of a closed item's reporters (the supervising level)."""
    from services.clues.callbacks import call_back
    from statemachine.charts.callback import RESULTS

    v = _on_clue(ctx, call_back, number, actor, result=result, note=note, unit_at_fault=unit_at_fault)
    late = "" if v.on_time else f" (late: due {out.local(v.due_at)})"
    fault = ", the unit at fault: 重办 may follow" if v.unit_at_fault else ""
    out.say(f"{v.number}: callback recorded, {RESULTS[v.result]}{fault}{late}")


@clue_app.command("redo")
def redo(ctx: typer.Context, number: str = CLUE_NUMBER, reason: Optional[str] = REASON,
         deadline: Optional[str] = typer.Option(None, "--deadline",
                                                help="The new deadline, YYYY-MM-DD (default: the plan's limit)."),
         actor: Optional[str] = AS_USER):
    """重办: send an item back to rectifying after a callback found the unit at fault."""
    from services.clues.callbacks import redo as send_back

    day = _date(deadline, "--deadline")
    v = _on_clue(ctx, send_back, number, actor, calendar=True, reason=reason, deadline=day)
    out.say(f"{v.number} → {_label(v.state)}, deadline {v.deadline}")
