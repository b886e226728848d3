"""The 考核排名 page: a period's table (the rows the person may see) with the 红榜 and 黑榜."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from services.accounts.accounts import Identity
from services.ranking.table import ranking as read

from ..auth import signed_in
from ..deps import domain_now, engine
from ..templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/ranking")
def ranking(request: Request, period: str | None = Query(None, max_length=10),
            who: Identity = Depends(signed_in)):
    now = domain_now(request)
    t = read(engine(request), who.campaign, period or f"{now:%Y-%m}", seen_by=who.actor)
    return render(request, "ranking.html", t=t)
