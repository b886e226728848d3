"""`/api/v1/me`: who the API thinks is asking (unit, role, campaign, how proven)."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from services.accounts.accounts import Identity

from ..auth import signed_in
from ..templating import ROLE_LABELS

__all__ = ["router", "Me"]

router = APIRouter(prefix="/api/v1", tags=["me"])


class UnitOut(BaseModel):
    code: str
    name: str


class CampaignOut(BaseModel):
    code: str
    title: str


class Me(BaseModel):
    username: str
    name: str
    role: str
    role_label: str
    unit: UnitOut
    campaign: CampaignOut
    via: Literal["session", "token"]


@router.get("/me", response_model=Me, summary="Who is signed in: person, unit, role, campaign")
def me(who: Identity = Depends(signed_in)) -> Me:
    a = who.actor
    return Me(username=a.username, name=a.name, role=a.role, role_label=ROLE_LABELS.get(a.role, a.role),
              unit=UnitOut(code=a.unit.code, name=a.unit.name),
              campaign=CampaignOut(code=who.campaign, title=who.campaign_title), via=who.via)
