"""`/api/v1/clues`: problems and clues (问题线索): list, read with history and the
actions one may take, add, import a CSV, fire a trigger on one or many, ask for and
decide 延期, stop and start the clock (`rectify clue add|import|list|show|transition|bulk|
request-extension|approve-extension|refuse-extension|suspend|resume`)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field

from models.tables import Clue
from services.clues.callbacks import redo
from services.clues.importing import import_clue_csv
from services.clues.merging import merge
from services.clues.lifecycle import ClueInput, ClueView, NewClue, add_clues, bulk_transition, get_clue, \
    list_clues, transition
from services.clues.returns import STEPS as ASSIGNMENT_STEPS, step as assignment_step
from services.core.actions import ClueItem, allowed_actions
from services.core.input_files import MAX_CSV_BYTES
from statemachine.errors import InvalidInput
from statemachine.charts.clue import CLUE_CHART, ITEM_KINDS, LABELS, ClueState
from statemachine.plan import CHANNEL_ALIASES, CHANNELS

from .common import (API_DEPENDENCIES, ActionOut, Ctx, HistoryOut, LongText, Page, Paging, StrictIn, Version,
                     actions_out, ctx, etag, expected, history_out, page_of, paging, precondition, text, upload)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/clues", tags=["clues"], dependencies=API_DEPENDENCIES)
T = Clue.__table__
Number = Annotated[str, Path(max_length=T.c.number.type.length, description="the clue's number, e.g. SM-2023-00001")]
Trigger = Literal[tuple(CLUE_CHART.triggers)]  # type: ignore[valid-type]
# one clue's steps: the chart's, and 签收 / 退单 / 改派 (services/clues/returns.py)
Step = Literal[tuple(CLUE_CHART.triggers) + ASSIGNMENT_STEPS]  # type: ignore[valid-type]
State = Literal[tuple(s.value for s in ClueState)]  # type: ignore[valid-type]
Kind = Literal[tuple(ITEM_KINDS)]  # type: ignore[valid-type]


class ClueStepOut(HistoryOut):
    entity: str = Field(description="whose step: clue, extension (a 延期 request) or clue_clock (挂账)")


class ClueOut(BaseModel):
    number: str
    state: str
    state_label: str
    kind: str
    channel: str
    aspect: str
    summary: str
    unit: str
    owner: str | None
    received_at: datetime
    verify_due_at: datetime
    deadline_at: datetime | None
    overdue: bool
    version: int

    @classmethod
    def of(cls, v: ClueView, now: datetime) -> "ClueOut":
        return cls(number=v.number, state=v.state, state_label=LABELS[ClueState(v.state)], kind=v.kind,
                   channel=v.channel, aspect=v.aspect, summary=v.summary, unit=v.unit, owner=v.owner,
                   received_at=v.received_at, verify_due_at=v.verify_due_at, deadline_at=v.deadline_at,
                   overdue=v.overdue(now), version=v.version)


class ClueDetail(ClueOut):
    measures: str | None
    evidence: str | None
    resolution: str | None
    reason: str | None
    reopen_count: int
    history: list[ClueStepOut]
    actions: list[ActionOut] = Field(description="what the signed-in person may do to it now")


@router.get("", response_model=Page[ClueOut], summary="Clues one sees, filtered and paginated")
def clues(unit: str | None = Query(None, max_length=100, description="this unit and those below it"),
          state: State | None = None, kind: Kind | None = None,
          aspect: str | None = Query(None, max_length=100, description="问题方面: its key or name"),
          overdue: bool = Query(False, description="only those overdue now"),
          p: Paging = Depends(paging), c: Ctx = Depends(ctx)) -> Page[ClueOut]:
    rows = list_clues(c.engine, c.campaign, unit=unit, state=state, kind=kind, aspect=aspect,
                      overdue_as_of=c.now if overdue else None, limit=p.fetch, offset=p.offset, seen_by=c.actor)
    return Page[ClueOut](**page_of(rows, p, lambda v: ClueOut.of(v, c.now)))


def _detail(c: Ctx, number: str, response: Response) -> ClueDetail:
    v = get_clue(c.engine, c.campaign, number, seen_by=c.actor)
    with c.engine.connect() as conn:
        actions = allowed_actions(conn, c.campaign, c.actor, ClueItem(number), now=c.now)
    etag(response, v.version)
    return ClueDetail(**ClueOut.of(v, c.now).model_dump(), measures=v.measures, evidence=v.evidence,
                      resolution=v.resolution, reason=v.reason, reopen_count=v.reopen_count,
                      history=[ClueStepOut(**h.model_dump(), entity=r["entity"])
                               for h, r in zip(history_out(v.history), v.history)],
                      actions=actions_out(actions))


@router.get("/{number}", response_model=ClueDetail,
            summary="A clue with its audited history and the actions one may take (ETag: its version)")
def clue(response: Response, number: Number, c: Ctx = Depends(ctx)) -> ClueDetail:
    return _detail(c, number, response)


class NewClueIn(StrictIn):
    unit: text(100, min_length=1) = Field(description="责任单位: a unit's code or name")
    # a source's short name too (信访 for 信访投诉), as the CLI and the CSV import take it;
    # what is stored is always the full name (services/clues/lifecycle.py channel_of)
    channel: Literal[tuple(CHANNELS) + tuple(CHANNEL_ALIASES)] = Field(  # type: ignore[valid-type]
        description="线索来源: its name or a short name (信访 = 信访投诉)")
    aspect: text(100, min_length=1) = Field(description="问题方面: key or name")
    summary: LongText = Field(min_length=1, description="问题表现")
    reporter_name: text(T.c.reporter_name.type.length) | None = None
    reporter_phone: text(T.c.reporter_phone.type.length) | None = None
    root_cause: LongText | None = None
    kind: Kind | None = None


class AddedOut(BaseModel):
    numbers: list[str]
    already: list[str] = Field([], description="clues whose 工单号 a row repeats: that row was left out")


@router.post("", status_code=201, response_model=ClueDetail, summary="Register one clue")
def add(body: NewClueIn, response: Response, c: Ctx = Depends(ctx)) -> ClueDetail:
    number, = add_clues(c.engine, c.campaign, [NewClue(
        channel=body.channel, aspect=body.aspect, summary=body.summary, unit=body.unit,
        reporter_name=body.reporter_name, reporter_phone=body.reporter_phone, root_cause=body.root_cause,
        kind=body.kind)], actor=c.username, now=c.now, calendar=c.runtime.calendar)
    response.headers["Location"] = f"{router.prefix}/{number}"
    return _detail(c, number, response)


@router.post("/import", status_code=201, response_model=AddedOut,
             summary="Import clues from a CSV file (channel, aspect, summary, unit, …): all rows or none")
def import_csv(file: UploadFile = File(description="the CSV, UTF-8 or GB18030"), c: Ctx = Depends(ctx)) -> AddedOut:
    # the CLI's import: every bad cell named at once, a 工单号 imported before left out
    with upload(file, name="clues.csv", max_bytes=MAX_CSV_BYTES, what="clue CSV") as path:
        r = import_clue_csv(c.engine, c.campaign, path, actor=c.username, now=c.now, calendar=c.runtime.calendar)
    return AddedOut(numbers=r.numbers, already=[number for _, number in r.already])


class StepIn(StrictIn):
    """What a trigger takes; which fields it needs, the clue's `actions` say (`needs`)."""

    reason: LongText | None = None
    measures: LongText | None = Field(None, description="整改措施 (substantiate)")
    deadline: date | None = Field(None, description="完成时限 (substantiate, reopen)")
    owner: text(T.c.owner.type.length) | None = Field(None, description="责任人 (substantiate)")
    evidence: LongText | None = Field(None, description="可验证成果 (submit_evidence)")
    stage_result: LongText | None = Field(None, description="阶段性成效 (defer)")
    long_term_measure: LongText | None = Field(None, description="长期举措 (defer)")
    result_form: text(T.c.result_form.type.length) | None = Field(None, description="成果形式 (substantiate)")
    to: text(100, min_length=1) | None = Field(None, description="the unit it is reassigned to (reassign)")

    def data(self) -> ClueInput:
        return ClueInput(reason=self.reason, measures=self.measures, deadline=self.deadline, owner=self.owner,
                         evidence=self.evidence, stage_result=self.stage_result,
                         long_term_measure=self.long_term_measure, result_form=self.result_form)


class OneStepIn(StepIn):
    version: Version | None = None
    into: text(T.c.number.type.length, min_length=1) | None = Field(None, description="合并: the item kept (merge)")


@router.post("/{number}/actions/{trigger}", response_model=ClueDetail,
             summary="Fire a trigger on a clue (version or If-Match: refused if it changed)")
def fire(request: Request, response: Response, number: Number, trigger: Step, body: OneStepIn | None = None,
         c: Ctx = Depends(ctx)) -> ClueDetail:
    body = body or OneStepIn()
    version, from_header = expected(request, body.version)
    with precondition(from_header):
        # 签收 and 退单, 合并 and 重办 have use cases of their own; each refuses a stale version
        if trigger in ASSIGNMENT_STEPS:
            assignment_step(c.engine, c.campaign, number, trigger, actor=c.username, now=c.now,
                            reason=body.reason, to=body.to, calendar=c.runtime.calendar, expected_version=version)
        elif trigger == "merge":
            merge(c.engine, c.campaign, number, into=body.into or "", reason=body.reason, actor=c.username,
                  now=c.now, calendar=c.runtime.calendar, expected_version=version)
        elif trigger == "redo":
            redo(c.engine, c.campaign, number, reason=body.reason, deadline=body.deadline, actor=c.username,
                 now=c.now, calendar=c.runtime.calendar, expected_version=version)
        else:
            transition(c.engine, c.campaign, number, trigger, actor=c.username, now=c.now, data=body.data(),
                       expected_version=version, calendar=c.runtime.calendar)
    return _detail(c, number, response)


class ManyIn(StepIn):
    numbers: list[text(T.c.number.type.length, min_length=1)] | None = Field(
        None, min_length=1, max_length=1000, description="these clues; else all that match unit and state")
    unit: text(100, min_length=1) | None = None
    state: State | None = None


class MovedOut(BaseModel):
    number: str
    from_state: str
    to_state: str


class ManyOut(BaseModel):
    trigger: str
    moved: list[MovedOut]
    skipped: int = Field(description="named or matching clues the trigger did not apply to, or out of reach")


@router.post("/actions/{trigger}", response_model=ManyOut,
             summary="Fire a trigger on many clues at once (set-based; the ineligible are skipped)")
def fire_many(trigger: Trigger, body: ManyIn, c: Ctx = Depends(ctx)) -> ManyOut:
    if not body.numbers and not body.unit and not body.state:
        raise InvalidInput("say which clues: numbers, unit or state")
    r = bulk_transition(c.engine, c.campaign, trigger, actor=c.username, now=c.now, data=body.data(),
                        numbers=body.numbers, unit=body.unit, state=body.state, calendar=c.runtime.calendar)
    return ManyOut(trigger=r.trigger, moved=[MovedOut(number=n, from_state=a, to_state=b) for n, a, b in r.moved],
                   skipped=r.skipped)



# -- 延期 asked for and decided, 挂账 (`rectify clue request-extension|approve-extension|
# refuse-extension|suspend|resume`): the same use cases, audited there --------------------------
class ExtensionIn(StrictIn):
    until: date = Field(description="the deadline asked for")
    reason: LongText | None = Field(None, description="why (required)")


class DecisionIn(StrictIn):
    until: date | None = Field(None, description="approve: an earlier date than asked (default: as asked)")
    reason: LongText | None = Field(None, description="refuse: why (required); approve: a note")


class ClockIn(StrictIn):
    reason: LongText | None = Field(None, description="suspend: why (required); resume: a note")


@router.post("/{number}/extension", response_model=ClueDetail,
             summary="Ask for 延期 before the deadline (the unit, or a supervisor above on its behalf)")
def request_extension(response: Response, number: Number, body: ExtensionIn, c: Ctx = Depends(ctx)) -> ClueDetail:
    from services.clues.extensions import request_extension as ask

    ask(c.engine, c.campaign, number, until=body.until, reason=body.reason, actor=c.username, now=c.now,
        calendar=c.runtime.calendar)
    return _detail(c, number, response)


@router.post("/{number}/extension/{decision}", response_model=ClueDetail,
             summary="Approve or refuse the waiting 延期 request (the level above)")
def decide_extension(response: Response, number: Number, decision: Literal["approve", "refuse"],
                     body: DecisionIn | None = None, c: Ctx = Depends(ctx)) -> ClueDetail:
    from services.clues.extensions import approve_extension, refuse_extension

    body = body or DecisionIn()
    if decision == "approve":
        approve_extension(c.engine, c.campaign, number, actor=c.username, now=c.now, until=body.until,
                          note=body.reason, calendar=c.runtime.calendar)
    else:
        if body.until is not None:
            raise InvalidInput("until: a refusal grants no date")
        refuse_extension(c.engine, c.campaign, number, actor=c.username, now=c.now, reason=body.reason)
    return _detail(c, number, response)


@router.post("/{number}/clock/{step}", response_model=ClueDetail,
             summary="挂账: stop (suspend) or start (resume) a clue's clock (a supervisor above its unit)")
def clock(response: Response, number: Number, step: Literal["suspend", "resume"], body: ClockIn | None = None,
          c: Ctx = Depends(ctx)) -> ClueDetail:
    from services.clues.suspension import resume, suspend

    body = body or ClockIn()
    if step == "suspend":
        suspend(c.engine, c.campaign, number, reason=body.reason, actor=c.username, now=c.now)
    else:
        resume(c.engine, c.campaign, number, actor=c.username, now=c.now, reason=body.reason,
               calendar=c.runtime.calendar)
    return _detail(c, number, response)
