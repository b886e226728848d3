"""`/api/v1/cases`: the escalation ladder (督办): list, read with its notices, history and
the actions one may take, every step of a case, a step on many cases at once (confirm
or withdraw the proposed ones), and a supervisor's measure against a unit
(`rectify escalate`, `rectify case …`)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from models.tables import EscalationCase
from services.core.actions import CaseItem, allowed_actions
from services.core.uow import unit_of_work
from services.ladder.cases import CaseInput, CaseView, escalate_unit, fire, get_case, list_cases
from statemachine.authority import Who
from statemachine.charts.ladder import CASE_CHART, CASE_LABELS, LEVEL_LABELS, CaseState
from statemachine.errors import RectifyError

from .common import (API_DEPENDENCIES, ActionOut, Ctx, HistoryOut, Id, IdPath, LongText, Page, Paging, StrictIn,
                     Version, actions_out, ctx, etag, expected, history_out, page_of, paging, precondition, text)
from .units import UnitCode

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["cases"], dependencies=API_DEPENDENCIES)
E = EscalationCase.__table__
# a person's steps: the chase is the nightly job's
PERSON_TRIGGERS = tuple(t for t in CASE_CHART.triggers if CASE_CHART.who(t) is not Who.system)
Trigger = Literal[PERSON_TRIGGERS]  # type: ignore[valid-type]
State = Literal[tuple(s.value for s in CaseState)]  # type: ignore[valid-type]
MAX_MANY = 500


class NoticeRef(BaseModel):
    id: int
    doc_number: str
    kind: str
    title: str
    created_at: datetime


class CaseOut(BaseModel):
    id: int
    unit: str
    unit_name: str
    level: int
    measure: str
    state: str
    state_label: str
    cause: str
    reason: str
    automatic: bool
    proposed_by: str
    proposed_at: datetime
    issued_at: datetime | None
    due_at: datetime | None = Field(description="the deadline that runs now: the chase's once chased")
    responded_at: datetime | None
    resolved_at: datetime | None
    parent_id: int | None
    clue: str | None
    stage: str | None
    decision: str | None
    lapses: int
    version: int

    @classmethod
    def of(cls, v: CaseView) -> "CaseOut":
        return cls(id=v.id, unit=v.unit, unit_name=v.unit_name, level=v.level, measure=v.measure, state=v.state,
                   state_label=CASE_LABELS[CaseState(v.state)], cause=v.cause, reason=v.reason,
                   automatic=v.automatic, proposed_by=v.proposed_by, proposed_at=v.proposed_at,
                   issued_at=v.issued_at, due_at=v.due_at, responded_at=v.responded_at,
                   resolved_at=v.resolved_at, parent_id=v.parent_id, clue=v.clue, stage=v.stage,
                   decision=v.decision, lapses=v.lapses, version=v.version)


class CaseDetail(CaseOut):
    notices: list[NoticeRef]
    history: list[HistoryOut]
    actions: list[ActionOut]


@router.get("/cases", response_model=Page[CaseOut], tags=["cases"], summary="Cases one sees, filtered, paginated")
def cases(unit: str | None = Query(None, max_length=100, description="this unit and those below it"),
          state: State | None = None, open: bool = Query(False, description="only open cases"),
          level: int | None = Query(None, ge=1, le=5, description=", ".join(f"{int(k)} {v}"
                                                                            for k, v in LEVEL_LABELS.items())),
          p: Paging = Depends(paging), c: Ctx = Depends(ctx)) -> Page[CaseOut]:
    rows = list_cases(c.engine, c.campaign, unit=unit, state=state, open_only=open, level=level, limit=p.fetch,
                      offset=p.offset, seen_by=c.actor)
    return Page[CaseOut](**page_of(rows, p, CaseOut.of))


def _detail(c: Ctx, case_id: int, response: Response) -> CaseDetail:
    v = get_case(c.engine, c.campaign, case_id, seen_by=c.actor)
    with c.engine.connect() as conn:
        actions = allowed_actions(conn, c.campaign, c.actor, CaseItem(case_id), now=c.now)
    etag(response, v.version)
    return CaseDetail(**CaseOut.of(v).model_dump(), history=history_out(v.history), actions=actions_out(actions),
                      notices=[NoticeRef(id=n.id, doc_number=n.doc_number, kind=n.kind, title=n.title,
                                         created_at=n.created_at) for n in v.notices])


@router.get("/cases/{case_id}", response_model=CaseDetail,
            summary="A case with its notices, history and the actions one may take (ETag: its version)")
def case(response: Response, case_id: IdPath, c: Ctx = Depends(ctx)) -> CaseDetail:
    return _detail(c, case_id, response)


class StepIn(StrictIn):
    """What a step takes; which fields it needs, the case's `actions` say (`needs`)."""

    reason: LongText | None = Field(None, description="withdraw, return_response, escalate")
    required_action: LongText | None = Field(None, description="整改要求 (issue)")
    minutes: LongText | None = Field(None, description="约谈记录 (record_interview)")
    report_due: date | None = Field(None, description="the written report's due date (record_interview)")
    response: LongText | None = Field(None, description="the unit's 整改报告 (respond)")
    attachment: text(E.c.response_attachment.type.length) | None = Field(None, description="respond")
    note: LongText | None = Field(None, description="the supervisor's verification (resolve, delist)")
    decision: Literal["accountable", "exempt"] | None = Field(None, description="decide: 追责 or 容错免责")
    decision_text: LongText | None = Field(None, description="what was decided (decide)")
    grounds: LongText | None = Field(None, description="容错免责 grounds (decide)")
    receiving_organ: text(E.c.receiving_organ.type.length) | None = Field(None, description="level 5 (issue)")
    follow_up: LongText | None = Field(None, description="the organ's follow-up (conclude)")
    interview_at: datetime | None = Field(None, description="约谈时间 with its offset (issue a 函询约谈, escalate to one)")
    interview_place: text(E.c.interview_place.type.length) | None = Field(None, description="约谈地点 (likewise)")
    attendees: text(E.c.interview_attendees.type.length) | None = Field(None, description="参加人员 (likewise)")

    def data(self) -> CaseInput:
        return CaseInput(**self.model_dump(exclude={"version", "ids"}))


class OneStepIn(StepIn):
    version: Version | None = None


@router.post("/cases/{case_id}/actions/{trigger}", response_model=CaseDetail,
             summary="Take a step on a case (version or If-Match: refused if it changed)")
def step(request: Request, response: Response, case_id: IdPath, trigger: Trigger, body: OneStepIn | None = None,
         c: Ctx = Depends(ctx)) -> CaseDetail:
    body = body or OneStepIn()
    version, from_header = expected(request, body.version)
    with precondition(from_header):
        fire(c.engine, c.campaign, case_id, trigger, actor=c.username, now=c.now, calendar=c.runtime.calendar,
             data=body.data(), channels=c.runtime.channel_names, expected_version=version)
    return _detail(c, case_id, response)


class ManyIn(StepIn):
    ids: list[Id] = Field(min_length=1, max_length=MAX_MANY)


class RefusedOut(BaseModel):
    id: int
    status: int
    error: str
    detail: str


class ManyOut(BaseModel):
    trigger: str
    done: list[CaseOut]
    refused: list[RefusedOut] = Field(description="each refused case with its one-line reason; nothing of it changed")


@router.post("/cases/actions/{trigger}", response_model=ManyOut,
             summary="Take one step on many cases (confirm or withdraw the proposed ones): each taken or refused")
def step_many(trigger: Trigger, body: ManyIn, c: Ctx = Depends(ctx)) -> ManyOut:
    """One transaction; a refused case leaves nothing of itself behind (its own savepoint).
    When every case is refused for one reason, that refusal is the answer (403, 409 …)."""
    done, refused, errors = [], [], []
    with unit_of_work(c.engine) as uow:
        for case_id in dict.fromkeys(body.ids):
            try:
                done.append(CaseOut.of(fire(uow, c.campaign, case_id, trigger, actor=c.username, now=c.now,
                                            calendar=c.runtime.calendar, data=body.data(),
                                            channels=c.runtime.channel_names)))
            except RectifyError as e:
                errors.append(e)
                refused.append(RefusedOut(id=case_id, status=e.http_status, error=type(e).__name__,
                                          detail=str(e)))
        uow.commit()
    if not done and len({r.status for r in refused}) == 1:
        raise errors[0]
    return ManyOut(trigger=trigger, done=done, refused=refused)


class EscalateIn(StrictIn):
    level: int = Field(ge=1, le=5, description=", ".join(f"{int(k)} {v}" for k, v in LEVEL_LABELS.items()))
    reason: LongText = Field(min_length=1, description="why: the facts the notice states")
    clue: text(40) | None = Field(None, description="a problem the measure names (挂牌督办)")
    stage: text(64) | None = Field(None, description="a stage the measure is about")
    required_action: LongText | None = Field(None, description="整改要求 (default per level)")
    receiving_organ: text(E.c.receiving_organ.type.length) | None = Field(None, description="level 5")
    interview_at: datetime | None = Field(None, description="约谈时间 with its offset (level 2; default: the plan's)")
    interview_place: text(E.c.interview_place.type.length) | None = Field(None, description="约谈地点 (level 2)")
    attendees: text(E.c.interview_attendees.type.length) | None = Field(None, description="参加人员 (level 2)")


@router.post("/units/{code}/escalate", status_code=201, response_model=CaseDetail, tags=["cases"],
             summary="A supervisor's measure against a unit, at any level, issued at once")
def escalate(body: EscalateIn, response: Response, code: UnitCode, c: Ctx = Depends(ctx)) -> CaseDetail:
    v = escalate_unit(c.engine, c.campaign, code, body.level, actor=c.username, now=c.now,
                      calendar=c.runtime.calendar, channels=c.runtime.channel_names,
                      data=CaseInput(reason=body.reason, clue=body.clue, stage=body.stage,
                                     required_action=body.required_action, receiving_organ=body.receiving_organ,
                                     interview_at=body.interview_at, interview_place=body.interview_place,
                                     attendees=body.attendees))
    response.headers["Location"] = f"/api/v1/cases/{v.id}"
    return _detail(c, v.id, response)
