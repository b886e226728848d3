"""`/api/v1/ranking`: 考核排名 for a period (`rectify ranking`): every unit's row with the
红榜 / 黑榜 for a supervisor who sees the whole campaign, the rows of the units one sees
(with their rank among all) for anyone else."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from services.ranking.table import as_dict, ranking as read

from .common import API_DEPENDENCIES, Ctx, ctx

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/ranking", tags=["ranking"], dependencies=API_DEPENDENCIES)


class RankedOut(BaseModel):
    rank: int = Field(description="equal scores share a rank (1, 2, 2, 4)")
    unit: str
    name: str
    score: str = Field(description="exact, two places (a string, never a float)")
    assessed: bool = Field(description="false: nothing to assess in the period (100 less deductions), off the lists")
    counts: dict[str, int]
    rates: dict[str, float] = Field(description="the rates that applied, 0..1")


class RankingOut(BaseModel):
    period: str
    from_: str = Field(alias="from", description="its first day")
    until: str = Field(description="the first day after it")
    ranked: int = Field(description="how many units were ranked in all")
    rows: list[RankedOut]
    red: list[str] = Field(description="红榜: the best N units' codes")
    black: list[str] = Field(description="黑榜: the worst N units' codes, worst first")

    model_config = {"populate_by_name": True}


@router.get("", response_model=RankingOut, response_model_by_alias=True,
            summary="考核排名 of a period: 2023-05, 2023-Q2 or 2023 (default: this month)")
def ranking(period: str | None = Query(None, max_length=10, description="a month, a quarter or a year"),
            c: Ctx = Depends(ctx)) -> RankingOut:
    t = read(c.engine, c.campaign, period or f"{c.now:%Y-%m}", seen_by=c.actor)
    return RankingOut.model_validate(as_dict(t))
