"""The audit trail: the campaign's records the signed-in person may read, newest first,
a page at a time (services/work/reading.py `audit_trail`); and the whole chain
verified, for those who see the whole campaign (`verified_chain`)."""
from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, Query, Request

from services.accounts.accounts import Identity
from services.work.reading import audit_trail, may_verify_chain, verified_chain

from ..auth import signed_in
from ..deps import domain_now, engine
from ..templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/audit")
def audit_page(request: Request, who: Identity = Depends(signed_in),
               before: Optional[int] = Query(None, ge=1, le=2 ** 62)):
    eng = engine(request)
    page = audit_trail(eng, who.campaign, who.actor, before=before)
    return render(request, "audit.html", page=page, before=before,
                  may_verify=may_verify_chain(eng, who.campaign, who.actor))


@router.get("/audit/verify")
def verify_page(request: Request, who: Identity = Depends(signed_in)):
    result = verified_chain(engine(request), who.campaign, who.actor)
    return render(request, "audit_verify.html", result=result, checked_at=domain_now(request))
