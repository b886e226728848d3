"""The signed-in home page: who you are here (unit, role, campaign) and where to go."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from services.accounts.accounts import Identity

from ..auth import signed_in
from ..templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, who: Identity = Depends(signed_in)):
    return render(request, "home.html", me=who)
