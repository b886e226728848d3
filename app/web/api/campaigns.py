"""`/api/v1/campaign`: the signed-in person's campaign, its plan and its figures as
services/reports/status.py counts them (`rectify show`, `rectify status`)."""
from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from services.campaigns.load import plan_of, stages_of
from services.campaigns.units import list_units
from services.core.directory import campaign_row
from services.reports.status import campaign_status
from statemachine.reports.counting import Figures

from .common import API_DEPENDENCIES, Ctx, ctx

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["campaign"], dependencies=API_DEPENDENCIES)


class StageOut(BaseModel):
    key: str
    name: str
    start: date | None
    end: date | None
    ongoing: bool
    due_at: datetime | None
    deliverables: list[dict]


class AspectOut(BaseModel):
    key: str
    name: str


class DutyOut(BaseModel):
    key: str
    name: str
    schedule: dict


class CampaignOut(BaseModel):
    code: str
    title: str
    doc_number: str
    issuing_unit: str
    start: date
    end: date
    aspects: list[AspectOut]
    stages: list[StageOut]
    reporting: list[DutyOut]


@router.get("/campaign", response_model=CampaignOut, summary="The campaign: document, stages, aspects, duties")
def campaign(c: Ctx = Depends(ctx)) -> CampaignOut:
    with c.engine.connect() as conn:
        row = campaign_row(conn, c.campaign)
        stages = stages_of(conn, row.id)
        plan = plan_of(conn, row.id)
    return CampaignOut(
        code=row.code, title=row.title, doc_number=row.doc_number, issuing_unit=row.issuing_unit,
        start=row.start_date, end=row.end_date,
        aspects=[AspectOut(key=a.key, name=a.name) for a in plan.aspects],
        stages=[StageOut(key=s.key, name=s.name, start=s.start_date, end=s.end_date, ongoing=s.ongoing,
                         due_at=s.due_at, deliverables=s.deliverables) for s in stages],
        reporting=[DutyOut(key=d.key, name=d.name, schedule=d.schedule.model_dump(mode="json"))
                   for d in plan.reporting])


class FiguresOut(BaseModel):
    clues: int
    concluded: int
    ongoing: int
    in_progress: int
    self_inspection: int
    self_rectified: int
    carried_over: int
    carried_done: int
    rate: float | None = Field(description="(已办结 + 持续推进中 + 已整改) / (问题线索 + 自查自纠问题)")
    sentence: str = Field(description="the figures as a report states them")

    @classmethod
    def of(cls, f: Figures) -> "FiguresOut":
        return cls(clues=f.clues, concluded=f.concluded, ongoing=f.ongoing, in_progress=f.in_progress,
                   self_inspection=f.self_inspection, self_rectified=f.self_rectified,
                   carried_over=f.carried_over, carried_done=f.carried_done, rate=f.rate, sentence=f.sentence())


class UnitLineOut(BaseModel):
    code: str
    name: str
    stage: str
    open: int
    closed: int
    overdue: int
    lapses: int
    stage_due: datetime | None
    stage_lapse: str | None
    figures: FiguresOut


class StatusOut(BaseModel):
    campaign: str
    title: str
    as_of: datetime
    last_sweep: datetime | None
    scope: str = Field(description="whose figures: the whole campaign, or the units this person sees")
    figures: FiguresOut
    units: list[UnitLineOut]


@router.get("/campaign/figures", response_model=StatusOut,
            summary="The figures (the seeds' sentence and rate) and the unit table, of the units one sees")
def figures(c: Ctx = Depends(ctx)) -> StatusOut:
    status = campaign_status(c.engine, c.campaign, as_of=c.now)
    seen = {u.code for u in list_units(c.engine, c.campaign, seen_by=c.actor)}
    lines = [u for u in status.units if u.code in seen]
    whole = len(lines) == len(status.units)
    # the campaign's own sum when every unit is seen, else the sum of the units' figures
    total = status.figures if whole else sum((u.figures for u in lines), Figures())
    return StatusOut(
        campaign=status.campaign, title=status.title, as_of=status.as_of, last_sweep=status.last_sweep,
        scope="campaign" if whole else c.actor.unit.code, figures=FiguresOut.of(total),
        units=[UnitLineOut(code=u.code, name=u.name, stage=u.stage, open=u.open, closed=u.closed,
                           overdue=u.overdue, lapses=u.lapses, stage_due=u.stage_due, stage_lapse=u.stage_lapse,
                           figures=FiguresOut.of(u.figures)) for u in lines])
