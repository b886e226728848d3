"""`/api/v1/rounds`: look-back rounds (回头看) and field inspections (实地督察): plan, show,
open, assign a unit to a team, record and revise checks, close, cancel
(`rectify round …`).

Opening and closing run the steps of the open-round and close-round flows
(flows/lookback.py) in the request, in their order, each a use case of its own
that changes nothing when its work is done: what the CLI runs as a Prefect flow
run, without one (a page cannot wait for an ephemeral Prefect server to start).
"""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select

from models.tables import InspectionCheck, InspectionTeam
from services.core.actions import check_actions, round_actions
from services.core.directory import campaign_row, unit_by_code, unit_by_id
from services.lookback import closing, opening
from services.lookback.checks import CheckInput, CheckView, get_check, list_checks, reassign_unit, record_check, \
    revise_check
from services.lookback.rounds import RoundView, cancel_round, get_round, list_rounds, load_round, plan_round, \
    preflight
from statemachine.charts.lookback import CHECK_LABELS, METHODS, OUTCOMES, ROUND_LABELS, CheckState, RoundState
from statemachine.lookback.spec import RoundSpec

from .common import (API_DEPENDENCIES, ActionOut, Ctx, LongText, Page, Paging, StrictIn, Version, actions_out,
                     ctx, expected, no_control, page_of, paging, precondition, text)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/rounds", tags=["rounds"], dependencies=API_DEPENDENCIES)
CK, TM = InspectionCheck.__table__, InspectionTeam.__table__
Code = Annotated[str, Path(max_length=64, description="the round's code")]
Ref = Annotated[str, Path(max_length=40, description="a check's id or its item's number")]
Outcome = Literal[tuple(OUTCOMES)]  # type: ignore[valid-type]
CheckStateName = Literal[tuple(s.value for s in CheckState)]  # type: ignore[valid-type]


class TeamOut(BaseModel):
    code: str
    name: str
    leader: str | None
    members: list[str]
    units: list[dict] = Field(description="code, name, visit day, items")


class RoundOut(BaseModel):
    code: str
    title: str
    kind: str
    state: str
    state_label: str
    scope: str
    scope_name: str
    organiser: str
    deadline: date
    visit_from: date | None
    visit_to: date | None
    candidates: int
    selected: int
    seed: str
    digest: str | None
    opened_at: datetime | None
    closed_at: datetime | None
    version: int


class RoundDetail(RoundOut):
    checks: dict[str, int] = Field(description="checks by state")
    teams: list[TeamOut]
    tally: dict | None
    actions: list[ActionOut]


def _out(v: RoundView) -> dict:
    return dict(code=v.code, title=v.title, kind=v.kind, state=v.state, state_label=ROUND_LABELS[RoundState(v.state)],
                scope=v.scope, scope_name=v.scope_name, organiser=v.organiser, deadline=v.deadline,
                visit_from=v.visit_from, visit_to=v.visit_to, candidates=v.candidates, selected=v.selected,
                seed=v.seed, digest=v.digest, opened_at=v.opened_at, closed_at=v.closed_at, version=v.version)


def _organiser(c: Ctx, code: str):
    with c.engine.connect() as conn:
        return unit_by_code(conn, campaign_row(conn, c.campaign).id, code)


def _detail(c: Ctx, code: str) -> RoundDetail:
    v = get_round(c.engine, c.campaign, code, seen_by=c.actor)
    return RoundDetail(**_out(v), checks=v.checks, tally=v.tally,
                       teams=[TeamOut(code=t.code, name=t.name, leader=t.leader, members=t.members,
                                      units=[dict(code=u, name=n, visit=d.isoformat() if d else None, items=k)
                                             for u, n, d, k in t.units]) for t in v.teams],
                       actions=actions_out(round_actions(c.actor, state=v.state,
                                                         organiser=_organiser(c, v.organiser))))


@router.get("", response_model=list[RoundOut], summary="The rounds one sees (organising, inspected, or in a team)")
def rounds(c: Ctx = Depends(ctx)) -> list[RoundOut]:
    return [RoundOut(**_out(v)) for v in list_rounds(c.engine, c.campaign, seen_by=c.actor)]


class PlanIn(RoundSpec):
    """A round file's content as JSON (statemachine/lookback/spec.py)."""

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, data):
        no_control(data)
        return data


@router.post("", status_code=201, response_model=RoundDetail,
             summary="Plan a round (scope, selection and seed, teams, deadline); opens nothing")
def plan(spec: PlanIn, response: Response, c: Ctx = Depends(ctx)) -> RoundDetail:
    v = plan_round(c.engine, c.campaign, spec, actor=c.username, now=c.now)
    response.headers["Location"] = f"{router.prefix}/{v.code}"
    return _detail(c, v.code)


@router.get("/{code}", response_model=RoundDetail, summary="A round: rule, seed, teams, checks by state, actions")
def round_(code: Code, c: Ctx = Depends(ctx)) -> RoundDetail:
    return _detail(c, code)


@router.post("/{code}/open", response_model=RoundDetail,
             summary="Open a planned round: draw the items, assign teams, notify units and teams")
def open_(code: Code, c: Ctx = Depends(ctx)) -> RoundDetail:
    preflight(c.engine, c.campaign, code, actor=c.username, action="open")
    opening.draw(c.engine, c.campaign, code, actor=c.username, now=c.now)
    opening.notify(c.engine, c.campaign, code, actor=c.username, now=c.now, calendar=c.runtime.calendar,
                   channels=c.runtime.channel_names)
    return _detail(c, code)


@router.post("/{code}/close", response_model=RoundDetail,
             summary="Close a round: unchecked items missed, relapsed and faked ones reopened, faked ones "
                     "up the ladder (追责问责), the tally kept")
def close(code: Code, c: Ctx = Depends(ctx)) -> RoundDetail:
    preflight(c.engine, c.campaign, code, actor=c.username, action="close")
    closing.begin_close(c.engine, c.campaign, code, actor=c.username, now=c.now)
    closing.reopen_found(c.engine, c.campaign, code, now=c.now)
    closing.escalate_faked(c.engine, c.campaign, code, now=c.now, calendar=c.runtime.calendar)
    closing.finish_close(c.engine, c.campaign, code, actor=c.username, now=c.now)
    return _detail(c, code)


class CancelIn(StrictIn):
    reason: LongText = Field(min_length=1)


@router.post("/{code}/cancel", response_model=RoundDetail,
             summary="Call off a planned or open round; nothing it found is acted on")
def cancel(body: CancelIn, code: Code, c: Ctx = Depends(ctx)) -> RoundDetail:
    cancel_round(c.engine, c.campaign, code, reason=body.reason, actor=c.username, now=c.now)
    return _detail(c, code)


class AssignIn(StrictIn):
    unit: text(100, min_length=1)
    team: text(64, min_length=1)
    visit: date | None = Field(None, description="the visit day")


class AssignedOut(BaseModel):
    unit: str
    team: str
    moved: int = Field(description="pending checks moved to the team")


@router.post("/{code}/assign", response_model=AssignedOut,
             summary="Give a unit, and its pending checks, to another team (回避 is enforced)")
def assign(body: AssignIn, code: Code, c: Ctx = Depends(ctx)) -> AssignedOut:
    n = reassign_unit(c.engine, c.campaign, code, body.unit, body.team, actor=c.username, now=c.now,
                      visit_on=body.visit)
    return AssignedOut(unit=body.unit, team=body.team, moved=n)


class CheckOut(BaseModel):
    id: int
    number: str
    summary: str
    unit: str
    unit_name: str
    team: str | None
    state: str
    state_label: str
    method: str | None
    inspector: str | None
    findings: str | None
    checked_on: date | None
    new_deadline: date | None
    applied_note: str | None
    version: int
    actions: list[ActionOut]


def _check_out(v: CheckView, actions) -> CheckOut:
    return CheckOut(id=v.id, number=v.number, summary=v.summary, unit=v.unit, unit_name=v.unit_name, team=v.team,
                    state=v.state, state_label=CHECK_LABELS[CheckState(v.state)], method=v.method,
                    inspector=v.inspector, findings=v.findings, checked_on=v.checked_on,
                    new_deadline=v.new_deadline, applied_note=v.applied_note, version=v.version,
                    actions=actions_out(actions))


def _round_facts(c: Ctx, code: str):
    """What a check's actions depend on: the round's state, its organiser, the asker's teams."""
    with c.engine.connect() as conn:
        rnd = load_round(conn, campaign_row(conn, c.campaign).id, code)
        teams = conn.execute(select(TM.c.code, TM.c.members_json).where(TM.c.round_id == rnd.id)).all()
        return rnd.state, unit_by_id(conn, rnd.organiser_unit_id), \
            {t.code for t in teams if c.username in json.loads(t.members_json)}


def _checks(c: Ctx, code: str, p: Paging, **filters) -> dict:
    rows = list_checks(c.engine, c.campaign, code, limit=p.fetch, offset=p.offset, seen_by=c.actor, **filters)
    state, organiser, mine = _round_facts(c, code)
    return page_of(rows, p, lambda v: _check_out(v, check_actions(
        c.actor, state=v.state, round_state=state, organiser=organiser, team_member=v.team in mine)))


@router.get("/{code}/checks", response_model=Page[CheckOut],
            summary="The round's checks one sees (organisers: all; teams: theirs; units: their own)")
def checks(code: Code, unit: str | None = Query(None, max_length=100),
           team: str | None = Query(None, max_length=64), state: CheckStateName | None = None,
           p: Paging = Depends(paging), c: Ctx = Depends(ctx)) -> Page[CheckOut]:
    return Page[CheckOut](**_checks(c, code, p, unit=unit, team=team, state=state))


def _one(c: Ctx, code: str, ref: str) -> CheckOut:
    v = get_check(c.engine, c.campaign, code, ref, seen_by=c.actor)
    state, organiser, mine = _round_facts(c, code)
    return _check_out(v, check_actions(c.actor, state=v.state, round_state=state, organiser=organiser,
                                       team_member=v.team in mine))


class RecordIn(StrictIn):
    outcome: Outcome = Field(description="confirmed 整改到位 | relapsed 问题反弹 | faked 弄虚作假")
    method: text(20, min_length=1) = Field(description=" | ".join(f"{k} {v}" for k, v in METHODS.items()))
    findings: LongText | None = Field(None, description="what the check found (relapsed, faked)")
    on: date | None = Field(None, description="the day of the check (default: today)")
    inspector: text(CK.c.inspector.type.length) | None = Field(None, description="who checked (default: you)")
    deadline: date | None = Field(None, description="relapsed/faked: the reopened item's new deadline")
    attachment: text(CK.c.attachment.type.length) | None = None
    version: Version | None = None


@router.get("/{code}/checks/{ref}", response_model=CheckOut,
            summary="One check and the actions one may take on it")
def check(code: Code, ref: Ref, c: Ctx = Depends(ctx)) -> CheckOut:
    return _one(c, code, ref)


@router.post("/{code}/checks/{ref}/record", response_model=CheckOut,
             summary="Record a check: confirmed, relapsed or faked (version or If-Match)")
def record(request: Request, body: RecordIn, code: Code, ref: Ref, c: Ctx = Depends(ctx)) -> CheckOut:
    version, from_header = expected(request, body.version)
    with precondition(from_header):
        v = record_check(c.engine, c.campaign, code, ref, body.outcome, actor=c.username, now=c.now,
                         calendar=c.runtime.calendar, expected_version=version,
                         data=CheckInput(method=body.method, inspector=body.inspector, findings=body.findings,
                                         checked_on=body.on, attachment=body.attachment, deadline=body.deadline))
    return _one(c, code, str(v.id))


class ReviseIn(StrictIn):
    reason: LongText = Field(min_length=1)


@router.post("/{code}/checks/{ref}/revise", response_model=CheckOut,
             summary="Take a recorded check back to pending (the organisers, while the round is open)")
def revise(body: ReviseIn, code: Code, ref: Ref, c: Ctx = Depends(ctx)) -> CheckOut:
    v = revise_check(c.engine, c.campaign, code, ref, actor=c.username, now=c.now, reason=body.reason)
    return _one(c, code, str(v.id))
