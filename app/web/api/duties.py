"""`/api/v1/duties`: reporting duties (报送): what the units one sees owe and by when, and
recording a unit's report (`rectify duty owed|submit`). The report itself is a
reference to its file (`attachment`), as the service records it."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from models.tables import ReportSubmission, Unit
from services.core.actions import duty_actions
from services.core.directory import campaign_row, unit_ref
from services.reports.duties import STATUS_LABELS, DutyLine, owed, submit

from .common import (API_DEPENDENCIES, ActionOut, Ctx, LongText, Page, Paging, StrictIn, actions_out, ctx,
                     page_of, paging, text)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/duties", tags=["duties"], dependencies=API_DEPENDENCIES)
RS, U = ReportSubmission.__table__, Unit.__table__
Status = Literal[tuple(STATUS_LABELS)]  # type: ignore[valid-type]
_DONE = ("submitted", "late")


class DutyOut(BaseModel):
    unit: str
    unit_name: str
    duty: str
    name: str
    period: str
    due_at: datetime
    status: str
    status_label: str
    submitted_at: datetime | None
    submitted_by: str | None
    attachment: str | None
    actions: list[ActionOut]


def _out(ln: DutyLine, actions) -> DutyOut:
    return DutyOut(unit=ln.unit, unit_name=ln.unit_name, duty=ln.duty, name=ln.name, period=ln.period,
                   due_at=ln.due_at, status=ln.status, status_label=ln.status_label, submitted_at=ln.submitted_at,
                   submitted_by=ln.submitted_by, attachment=ln.attachment, actions=actions_out(actions))


def _units(c: Ctx) -> dict:
    with c.engine.connect() as conn:
        cid = campaign_row(conn, c.campaign).id
        return {r.code: unit_ref(r) for r in conn.execute(select(U).where(U.c.campaign_id == cid))}


@router.get("", response_model=Page[DutyOut],
            summary="Reports owed by the units one sees: every one due so far and the next of each duty")
def duties(unit: str | None = Query(None, max_length=100, description="this unit and those below it"),
           duty: str | None = Query(None, max_length=64), status: Status | None = None,
           late: bool = Query(False, description="only what is missing or came late"),
           p: Paging = Depends(paging), c: Ctx = Depends(ctx)) -> Page[DutyOut]:
    lines = owed(c.engine, c.campaign, as_of=c.now, unit=unit, duty=duty, status=status, seen_by=c.actor)
    if late:
        lines = [ln for ln in lines if ln.status in ("missing", "late")]
    window = lines[p.offset:p.offset + p.fetch]
    refs = _units(c) if window else {}
    return Page[DutyOut](**page_of(window, p, lambda ln: _out(ln, duty_actions(
        c.actor, unit=refs[ln.unit], submitted=ln.status in _DONE))))


class SubmitIn(StrictIn):
    unit: text(100, min_length=1)
    duty: text(64, min_length=1) = Field(description="the duty's key in the plan")
    attachment: text(RS.c.attachment.type.length, min_length=1) = Field(
        description="a reference to the report's file")
    period: text(RS.c.period.type.length, min_length=1) | None = Field(
        None, description="2023-04-20 (weekly/once), 2023-05 (monthly), a stage key; default: the one just "
                          "missed, else the next due")
    note: LongText | None = None


@router.post("", status_code=201, response_model=DutyOut, summary="Record a unit's report for one period")
def submit_report(body: SubmitIn, c: Ctx = Depends(ctx)) -> DutyOut:
    ln = submit(c.engine, c.campaign, unit=body.unit, duty=body.duty, attachment=body.attachment,
                period=body.period, note=body.note, actor=c.username, now=c.now)
    return _out(ln, [])
