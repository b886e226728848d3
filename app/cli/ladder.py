"""Supervisors' commands on the escalation ladder (督办) and its notices."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from statemachine.charts.labels import (
    STATE_LABELS,
    cause_label,
    key_of,
    state_label,
    trigger_label,
)
from statemachine.charts.ladder import LEVEL_LABELS, Level
from statemachine.errors import InvalidInput

from . import output as out
from .clues import _date
from .context import AppContext
from .params import id_argument, out_folder, version_option
from .root import AS_USER, app

case_app = typer.Typer(no_args_is_help=True, help="Escalation cases (督办): the ladder's measures.")
notice_app = typer.Typer(no_args_is_help=True, help="Notices issued (通报, 约谈通知书, 督办通知书 …).")
app.add_typer(case_app, name="case")
app.add_typer(notice_app, name="notice")

# the number, the Chinese name or the English one; nothing else reaches a query
_BY_NAME = ({v: k for k, v in LEVEL_LABELS.items()} | {k.name: k for k in Level}
            | {str(int(k)): k for k in Level})


def _level(value: str) -> int:
    if value in _BY_NAME:
        return int(_BY_NAME[value])
    raise InvalidInput(f"--level: '{value}' is not a level (1..5, "
                       + ", ".join(f"{k.name} {v}" for k, v in LEVEL_LABELS.items()) + ")")


def _interview_at(value: Optional[str]):
    from statemachine.time.clock import parse_instant

    return parse_instant(value, name="--interview-at") if value else None


# a 函询约谈's arrangements, given where it is issued (escalate --level 2, case confirm, case escalate)
INTERVIEW_AT = typer.Option(None, "--interview-at", help="约谈时间 (Asia/Shanghai), e.g. '2023-05-16 09:30'; "
                            "inside the campaign, after the notice. Default: the plan's documents.")
INTERVIEW_PLACE = typer.Option(None, "--interview-place", help="约谈地点. Default: the plan's documents.")
ATTENDEES = typer.Option(None, "--attendees", help="参加人员 (who is to attend). Default: the plan's documents.")


def _state(state: str) -> str:
    return state_label("case", state)


def _say_case(c: AppContext, v) -> None:
    notice = f"; notice {v.notices[-1].doc_number}" if getattr(v, "notices", None) else ""
    due = f"; due {out.local(v.due_at, '%Y-%m-%d')} {c.warning(v.due_at)}".rstrip() if v.due_at else ""
    out.say(f"case {v.id} · {v.measure} · {v.unit_name} → {_state(v.state)} (version {v.version})"
            f"{due}{notice}")


@app.command()
def escalate(ctx: typer.Context, unit: str = typer.Argument(..., help="责任单位 (code or name)."),
             level: str = typer.Option(..., "--level", help="1 通报批评 … 5 移交纪检监察 (number or name)."),
             reason: str = typer.Option(..., "--reason", help="Why (the facts the notice states)."),
             clue: Optional[str] = typer.Option(None, "--clue", help="A problem named by the measure (挂牌督办)."),
             stage: Optional[str] = typer.Option(None, "--stage", help="A stage the measure is about."),
             action: Optional[str] = typer.Option(None, "--action", help="整改要求 (default per level)."),
             organ: Optional[str] = typer.Option(None, "--organ", help="Receiving organ (level 5)."),
             interview_at: Optional[str] = INTERVIEW_AT, interview_place: Optional[str] = INTERVIEW_PLACE,
             attendees: Optional[str] = ATTENDEES, actor: Optional[str] = AS_USER):
    """Take a measure against a unit now, at any level, and issue its notice."""
    from services.ladder.cases import CaseInput, escalate_unit

    c: AppContext = ctx.obj
    v = escalate_unit(c.db(), c.campaign(None), unit, _level(level), actor=c.user(actor), now=c.acting_now(),
                      calendar=c.calendar, channels=c.channels(),
                      data=CaseInput(reason=reason, clue=clue, stage=stage, required_action=action,
                                     receiving_organ=organ, interview_at=_interview_at(interview_at),
                                     interview_place=interview_place, attendees=attendees))
    _say_case(c, _full(c, v.id))


def _full(c: AppContext, case_id: int):
    from services.ladder.cases import get_case

    return get_case(c.db(), c.campaign(None), case_id)


def _step(ctx: typer.Context, case_id: int, trigger: str, actor: Optional[str], version: Optional[int],
          **data) -> None:
    from services.ladder.cases import CaseInput, fire

    c: AppContext = ctx.obj
    fire(c.db(), c.campaign(None), case_id, trigger, actor=c.user(actor), now=c.acting_now(),
         calendar=c.calendar, channels=c.channels(), data=CaseInput(**data),
         expected_version=version)
    _say_case(c, _full(c, case_id))


VERSION = version_option("Refuse if the case changed since this version.")
CASE_ID = id_argument(metavar="CASE_ID", help="The case's number (案件编号, see 'rectify case list').")
JSON_HELP = "JSON for programs (keys, times in Asia/Shanghai)."


@case_app.command("confirm")
def confirm(ctx: typer.Context, case_id: int = CASE_ID,
            organ: Optional[str] = typer.Option(None, "--organ", help="Receiving organ (移交纪检监察: 纪委监委)."),
            action: Optional[str] = typer.Option(None, "--action", help="整改要求 (default per level)."),
            interview_at: Optional[str] = INTERVIEW_AT, interview_place: Optional[str] = INTERVIEW_PLACE,
            attendees: Optional[str] = ATTENDEES, actor: Optional[str] = AS_USER, version: Optional[int] = VERSION):
    """Confirm a proposed case: its notice is numbered, rendered and sent."""
    _step(ctx, case_id, "issue", actor, version, receiving_organ=organ, required_action=action,
          interview_at=_interview_at(interview_at), interview_place=interview_place, attendees=attendees)


@case_app.command("withdraw")
def withdraw(ctx: typer.Context, case_id: int = CASE_ID,
             reason: str = typer.Option(..., "--reason", help="Why it is withdrawn (kept in the audit)."),
             actor: Optional[str] = AS_USER, version: Optional[int] = VERSION):
    """Withdraw a proposed case (e.g. the lapse was justified)."""
    _step(ctx, case_id, "withdraw", actor, version, reason=reason)


@case_app.command("acknowledge")
def acknowledge(ctx: typer.Context, case_id: int = CASE_ID, actor: Optional[str] = AS_USER,
                version: Optional[int] = VERSION):
    """签收: the unit confirms it received the notice."""
    _step(ctx, case_id, "acknowledge", actor, version)


@case_app.command("interview")
def interview(ctx: typer.Context, case_id: int = CASE_ID, minutes: str = typer.Option(..., "--minutes", help="约谈记录: what was said and agreed."),
              report_due: str = typer.Option(..., "--report-due", help="YYYY-MM-DD the report is due."),
              actor: Optional[str] = AS_USER, version: Optional[int] = VERSION):
    """Record a 约谈 held: its minutes and the written report it demands."""
    _step(ctx, case_id, "record_interview", actor, version, minutes=minutes,
          report_due=_date(report_due, "--report-due"))


@case_app.command("respond")
def respond(ctx: typer.Context, case_id: int = CASE_ID,
            text: str = typer.Option(..., "--text", help="整改报告: what the unit did."),
            attachment: Optional[str] = typer.Option(None, "--attachment", help="Reference to the report file."),
            actor: Optional[str] = AS_USER, version: Optional[int] = VERSION):
    """The unit's written response (整改报告)."""
    _step(ctx, case_id, "respond", actor, version, response=text, attachment=attachment)


@case_app.command("return")
def return_(ctx: typer.Context, case_id: int = CASE_ID,
            reason: str = typer.Option(..., "--reason", help="Why the response falls short (退回重报)."),
            actor: Optional[str] = AS_USER, version: Optional[int] = VERSION):
    """Send a response back as insufficient; the window starts again."""
    _step(ctx, case_id, "return_response", actor, version, reason=reason)


@case_app.command("resolve")
def resolve(ctx: typer.Context, case_id: int = CASE_ID,
            note: Optional[str] = typer.Option(None, "--note", help="What was verified (核实情况)."),
            actor: Optional[str] = AS_USER, version: Optional[int] = VERSION):
    """Verify a response and close a 通报批评 or 约谈 case."""
    _step(ctx, case_id, "resolve", actor, version, note=note)


@case_app.command("delist")
def delist(ctx: typer.Context, case_id: int = CASE_ID, note: str = typer.Option(..., "--note",
                                                                      help="What was verified."),
           actor: Optional[str] = AS_USER, version: Optional[int] = VERSION):
    """摘牌: end a 挂牌督办 after verifying the rectification; issues the 摘牌通知."""
    _step(ctx, case_id, "delist", actor, version, note=note)


@case_app.command("decide")
def decide(ctx: typer.Context, case_id: int = CASE_ID,
           decision: str = typer.Option(..., "--decision", help="accountable | exempt (容错免责)."),
           text: Optional[str] = typer.Option(None, "--text", help="What was decided."),
           grounds: Optional[str] = typer.Option(None, "--grounds", help="容错免责 grounds."),
           actor: Optional[str] = AS_USER, version: Optional[int] = VERSION):
    """Decide a 追责问责 case: accountability, or exemption under the 三个区分开来."""
    _step(ctx, case_id, "decide", actor, version, decision=decision, decision_text=text, grounds=grounds)


@case_app.command("conclude")
def conclude(ctx: typer.Context, case_id: int = CASE_ID,
             text: str = typer.Option(..., "--text", help="The 纪检监察 organ's follow-up."),
             actor: Optional[str] = AS_USER, version: Optional[int] = VERSION):
    """Record the discipline-inspection organ's follow-up and close a transfer."""
    _step(ctx, case_id, "conclude", actor, version, follow_up=text)


@case_app.command("escalate")
def escalate_case(ctx: typer.Context, case_id: int = CASE_ID,
                  reason: str = typer.Option(..., "--reason", help="Why one level up (升级督办)."),
                  interview_at: Optional[str] = INTERVIEW_AT, interview_place: Optional[str] = INTERVIEW_PLACE,
                  attendees: Optional[str] = ATTENDEES, actor: Optional[str] = AS_USER,
                  version: Optional[int] = VERSION):
    """Move a case one level up the ladder; the new case is issued at once."""
    _step(ctx, case_id, "escalate", actor, version, reason=reason, interview_at=_interview_at(interview_at),
          interview_place=interview_place, attendees=attendees)


@case_app.command("list")
def list_(ctx: typer.Context,
          unit: Optional[str] = typer.Option(None, "--unit", help="责任单位 (code or name): its subtree's cases."),
          state: Optional[str] = typer.Option(None, "--state", help="A state: key or name (issued, 已下发)."),
          open_only: bool = typer.Option(False, "--open", help="Only open cases (待确认 … 已回复)."),
          level: Optional[str] = typer.Option(None, "--level", help="1 通报批评 … 5 移交纪检监察 (number or name)."),
          as_json: bool = typer.Option(False, "--json", help=JSON_HELP)):
    """Cases, with the early-warning colour of their deadline."""
    from dataclasses import asdict

    from services.ladder.cases import list_cases

    c: AppContext = ctx.obj
    if state:
        state = key_of(state, STATE_LABELS["case"], what="state", option="--state")
    rows = list_cases(c.db(), c.campaign(None), unit=unit, state=state, open_only=open_only,
                      level=_level(level) if level else None)
    if as_json:
        return out.emit_json([asdict(r) | {"warning": c.warning(r.due_at, open_=r.state in
                                                                  ("issued", "awaiting_response"))}
                              for r in rows])
    out.table(["案件", "责任单位", "督办措施", "状态", "督办事由", "逾期事项", "时限", "预警"],
              [(r.id, r.unit_name, r.measure, _state(r.state), cause_label(r.cause), r.lapses,
                out.local(r.due_at, "%Y-%m-%d"),
                c.warning(r.due_at, open_=r.state in ("issued", "awaiting_response")))
               for r in rows])


@case_app.command("show")
def show(ctx: typer.Context, case_id: int = CASE_ID, as_json: bool = typer.Option(False, "--json", help=JSON_HELP)):
    """One case: its facts, notices and audited history."""
    from dataclasses import asdict

    c: AppContext = ctx.obj
    v = _full(c, case_id)
    if as_json:
        d = asdict(v)
        for n in d["notices"]:
            n.pop("html")
        return out.emit_json(d)
    _say_case(c, v)
    out.say(f"  督办事由 {cause_label(v.cause)}；{v.reason}；逾期事项 {v.lapses}"
            + (f"；问题线索 {v.clue}" if v.clue else "") + (f"；阶段 {c.stage_name(v.stage)}" if v.stage else ""))
    for n in v.notices:
        out.say(f"  notice {n.doc_number} {n.title} ({out.local(n.created_at)})")
    out.table(["#", "时间", "操作人", "操作", "原状态", "新状态", "理由"],
              [(h["seq"], out.local(h["at"]), h["actor"], trigger_label("case", h["trigger"]),
                state_label("case", h["from_state"]), state_label("case", h["to_state"]), h["reason"])
               for h in v.history], title="办理记录")


@notice_app.command("list")
def notice_list(ctx: typer.Context,
                kind: Optional[str] = typer.Option(None, "--kind", help="One kind: criticism, interview, listed, chase, "
                                                   "delisting, accountability, transfer, inspection."),
                as_json: bool = typer.Option(False, "--json", help=JSON_HELP)):
    """Every notice issued, with its document number."""
    from services.notices.issue import notices_between

    c: AppContext = ctx.obj
    rows = notices_between(c.db(), c.campaign(None), kind=kind)
    if as_json:  # "addressee" stays the unit's name (as before); "organ" is the 主送
        return out.emit_json([{"id": n.id, "doc_number": n.doc_number, "kind": n.kind, "title": n.title,
                               "addressee": n.addressee, "organ": _organ(n), "case": n.case_id,
                               "created_at": n.created_at}
                              for n in rows])
    out.table(["id", "文号", "标题", "主送", "案件", "成文日期"],
              [(n.id, n.doc_number, n.title, _organ(n), n.case_id,
                out.local(n.created_at, "%Y-%m-%d")) for n in rows])


def _organ(n) -> str:
    """主送 as the notice itself prints it: the line after the title that ends in '：'
    (the unit's organ, a 纪委监委 for a transfer, 各有关单位 for a round); read from the
    stored text, so a notice issued before its unit's organ changed keeps its own."""
    lines = [ln.strip() for ln in n.text.splitlines()]
    try:
        after = lines.index(n.title.strip()) + 1
    except ValueError:
        return n.addressee
    line = next((ln for ln in lines[after:] if ln), "")
    return line[:-1] if line.endswith("：") and len(line) > 1 else n.addressee


@notice_app.command("show")
def notice_show(ctx: typer.Context,
                ref: str = typer.Argument(..., help="The notice's id or 文号 (忻交督〔2023〕3号)."),
                html: bool = typer.Option(False, "--html", help="The HTML document, not the text.")):
    """A notice as text (or its HTML), by id or document number."""
    from services.notices.issue import get_notice

    c: AppContext = ctx.obj
    n = get_notice(c.db(), c.campaign(None), ref)
    out.say(n.html if html else n.text)


@notice_app.command("export")
def notice_export(ctx: typer.Context, refs: list[str] = typer.Argument(None, help="Ids or document numbers."),
                  to: str = typer.Option(..., "--out", help="A folder."),
                  all_: bool = typer.Option(False, "--all", help="Every notice of the campaign."),
                  formats: list[str] = typer.Option(["html"], "--format",
                                                    help="html (with .txt), pdf or docx; repeat for several.")):
    """Write notices as files named by their document numbers (忻交督〔2023〕3号.pdf)."""
    from services.notices.export import export_notices
    from services.notices.issue import get_notice, notices_between

    c: AppContext = ctx.obj
    if not refs and not all_:
        raise InvalidInput("say which notices: ids, document numbers, or --all")
    notices = notices_between(c.db(), c.campaign(None)) if all_ else \
        [get_notice(c.db(), c.campaign(None), r) for r in refs]
    written = export_notices(notices, out_folder(to), formats)
    out.say(f"wrote {len(notices)} notices ({written} files) to {Path(to).resolve()}")
