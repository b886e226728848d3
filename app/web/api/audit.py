"""`/api/v1/audit`: the hash-chained audit log: its records (of the units one sees; of an
account, one's own), its head with the check code (校验码), and verification of the
whole chain by those who see the whole campaign (`rectify audit log|head|verify`)."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from services.campaigns.load import campaign_id
from services.core.audit import audit_head, log
from services.core.refs import MAX_INT
from services.work.reading import verified_chain

from .common import API_DEPENDENCIES, MAX_LIMIT, Ctx, HistoryOut, ctx, history_out

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], dependencies=API_DEPENDENCIES)


class RecordOut(HistoryOut):
    entity: str
    entity_id: int
    hash: str


class LogOut(BaseModel):
    records: list[RecordOut]
    next_before: int | None = Field(description="pass as `before` for the older records; null at the start")


@router.get("", response_model=LogOut, summary="Audit records of the units one sees, newest first")
def audit_log(entity: str | None = Query(None, max_length=40), entity_id: int | None = Query(None, ge=1, le=MAX_INT),
              before: int | None = Query(None, ge=1, le=MAX_INT, description="records before this sequence number"),
              limit: int = Query(50, ge=1, le=MAX_LIMIT), c: Ctx = Depends(ctx)) -> LogOut:
    with c.engine.connect() as conn:
        rows = log(conn, campaign_id(c.engine, c.campaign), seen_by=c.actor, entity=entity, entity_id=entity_id,
                   before=before, limit=limit + 1)
    shown = rows[:limit]
    return LogOut(records=[RecordOut(**h.model_dump(), entity=r["entity"], entity_id=r["entity_id"], hash=r["hash"])
                           for h, r in zip(history_out(shown), shown)],
                  next_before=shown[-1]["seq"] if len(rows) > limit else None)


class HeadOut(BaseModel):
    seq: int
    hash: str
    check_code: str = Field(description="校验码: sequence number and the hash's first 32 bits")


@router.get("/head", response_model=HeadOut, summary="Where the chain ends now, with its check code")
def head(c: Ctx = Depends(ctx)) -> HeadOut:
    h = audit_head(c.engine, campaign_id(c.engine, c.campaign))
    return HeadOut(seq=h.seq, hash=h.hash, check_code=h.check_code)


class VerifyOut(BaseModel):
    intact: bool
    records: int
    broken_at: int | None
    why: str | None
    head: HeadOut | None
    checked_at: datetime


@router.get("/verify", response_model=VerifyOut,
            summary="Walk the whole chain: intact, or the first record that does not hold "
                    "(a supervisor of the campaign's root unit: the chain is every unit's)")
def verify_chain(c: Ctx = Depends(ctx)) -> VerifyOut:
    r = verified_chain(c.engine, c.campaign, c.actor)
    h = HeadOut(seq=r.head.seq, hash=r.head.hash, check_code=r.head.check_code) if r.head else None
    return VerifyOut(intact=r.ok, records=r.records, broken_at=r.broken_at, why=r.why, head=h, checked_at=c.now)
