"""`/api/v1/units`: units, their stage and deliverables; recording a deliverable and
advancing the stage (`rectify units`, `rectify unit show|deliver|advance`)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel

from models.tables import DeliverableRecord
from services.campaigns.load import stages_of
from services.campaigns.units import advance, deliverables_of, list_units, record_deliverable
from services.core.actions import StageItem, allowed_actions
from services.core.directory import campaign_row, unit_by_code
from services.core.visibility import require_sees

from .common import (API_DEPENDENCIES, ActionOut, Ctx, Page, Paging, StrictIn, Version, actions_out, ctx, etag,
                     expected, page_of, paging, precondition, text)

__all__ = ["router", "UnitCode"]

router = APIRouter(prefix="/api/v1/units", tags=["units"], dependencies=API_DEPENDENCIES)
UnitCode = Annotated[str, Path(max_length=100, description="a unit's code (or its name, when no other unit bears it)")]


class UnitOut(BaseModel):
    code: str
    name: str
    level: str
    parent: str | None
    stage_key: str | None
    stage_name: str | None
    lapses: int
    version: int


@router.get("", response_model=Page[UnitOut], summary="The units one sees, with their stage and lapses")
def units(p: Paging = Depends(paging), c: Ctx = Depends(ctx)) -> Page[UnitOut]:
    rows = list_units(c.engine, c.campaign, seen_by=c.actor)[p.offset:p.offset + p.fetch]
    return Page[UnitOut](**page_of(rows, p, lambda u: UnitOut(
        code=u.code, name=u.name, level=u.level, parent=u.parent, stage_key=u.stage_key, stage_name=u.stage_name,
        lapses=u.lapses, version=u.version)))


class DeliverableOut(BaseModel):
    key: str
    name: str
    recorded: bool


class UnitDetail(BaseModel):
    code: str
    name: str
    participates: bool
    stage_key: str | None
    stage_name: str | None
    deliverables: list[DeliverableOut]
    version: int
    actions: list[ActionOut]


@router.get("/{code}", response_model=UnitDetail,
            summary="A unit: its stage, the stage's deliverables, what one may do (ETag: its version)")
def unit(response: Response, code: UnitCode, c: Ctx = Depends(ctx)) -> UnitDetail:
    with c.engine.connect() as conn:
        camp = campaign_row(conn, c.campaign)
        u = unit_by_code(conn, camp.id, code)
        require_sees(c.actor, u, f"see {u.name}")
        stages = {s.key: s for s in stages_of(conn, camp.id)}
        done = deliverables_of(conn, u.id, u.stage_key) if u.stage_key else set()
        actions = allowed_actions(conn, c.campaign, c.actor, StageItem(u.code), now=c.now)
    stage = stages.get(u.stage_key)
    etag(response, u.version)
    return UnitDetail(code=u.code, name=u.name, participates=u.participates, stage_key=u.stage_key,
                      stage_name=stage.name if stage else ("已完成" if u.stage_key else None),
                      deliverables=[DeliverableOut(key=d["key"], name=d["name"], recorded=d["key"] in done)
                                    for d in (stage.deliverables if stage else [])],
                      version=u.version, actions=actions_out(actions))


class DeliverableIn(StrictIn):
    key: text(64, min_length=1)
    attachment: text(DeliverableRecord.__table__.c.attachment.type.length, min_length=1)
    stage: text(64, min_length=1) | None = None


@router.post("/{code}/deliverables", status_code=201, response_model=UnitDetail,
             summary="Record a stage deliverable (the unit, or a supervisor above it)")
def deliver(body: DeliverableIn, response: Response, code: UnitCode, c: Ctx = Depends(ctx)) -> UnitDetail:
    record_deliverable(c.engine, c.campaign, code, body.key, attachment=body.attachment, actor=c.username,
                       now=c.now, stage=body.stage)
    return unit(response, code, c)


class AdvanceIn(StrictIn):
    version: Version | None = None


@router.post("/{code}/advance", response_model=UnitDetail,
             summary="Advance the unit to its next stage (refused while deliverables are missing)")
def advance_stage(request: Request, response: Response, code: UnitCode, body: AdvanceIn | None = None,
                  c: Ctx = Depends(ctx)) -> UnitDetail:
    version, from_header = expected(request, body.version if body else None)
    with precondition(from_header):
        advance(c.engine, c.campaign, code, actor=c.username, now=c.now, expected_version=version)
    return unit(response, code, c)
