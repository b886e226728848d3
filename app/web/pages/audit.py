"""The audit trail: the campaign's records about the units the signed-in person sees,
newest first, a page at a time (services/work/reading.py `audit_trail`)."""
from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, Query, Request

from services.accounts.accounts import Identity
from services.work.reading import audit_trail

from ..auth import signed_in
from ..deps import engine
from ..templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/audit")
def audit_page(request: Request, who: Identity = Depends(signed_in),
               before: Optional[int] = Query(None, ge=1, le=2 ** 62)):
    page = audit_trail(engine(request), who.campaign, who.actor, before=before)
    return render(request, "audit.html", page=page, before=before)
