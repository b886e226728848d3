"""A period's ranking as a person may read it: supervisors who see the whole campaign
read every row and the 红榜 / 黑榜; anyone else reads the rows of the units they see,
with their rank among all (a unit: its own row and rank)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from models.tables import Unit
from statemachine.ranking import RankedRow, rank, red_and_black
from statemachine.ranking_period import Period, parse_period

from services.campaigns.load import plan_of
from services.core.directory import Actor, campaign_row, unit_ref
from services.core.uow import Db, unit_of_work
from services.core.visibility import sees, sees_campaign
from .counts import unit_counts

__all__ = ["Ranking", "ranking", "ranking_of", "as_dict", "row_dict"]

U = Unit.__table__


@dataclass(frozen=True)
class Ranking:
    period: Period
    rows: list[RankedRow]     # the rows the reader may see, best first
    red: list[RankedRow]      # 红榜 (empty for a reader who does not see the whole campaign)
    black: list[RankedRow]    # 黑榜, worst first
    ranked: int               # how many units were ranked in all
    whole: bool               # the reader sees every row


def ranking_of(conn, campaign_id: int, period: Period, *, seen_by: Actor | None = None) -> Ranking:
    """The ranking on an open connection (a report reads it inside its own)."""
    rules = plan_of(conn, campaign_id).ranking.rules()
    rows = rank(unit_counts(conn, campaign_id, period), rules)
    red, black = red_and_black(rows, rules.list_size)
    if seen_by is None:
        return Ranking(period, rows, red, black, len(rows), True)
    units = {r.code: unit_ref(r) for r in conn.execute(select(U).where(U.c.campaign_id == campaign_id))}
    root = min(units.values(), key=lambda u: len(u.path))  # the tree's one root: the shortest path
    if sees_campaign(seen_by, root):
        return Ranking(period, rows, red, black, len(rows), True)
    mine = [r for r in rows if sees(seen_by, units[r.unit])]
    return Ranking(period, mine, [], [], len(rows), False)


def ranking(db: Db, campaign: str, period: str, *, seen_by: Actor | None = None) -> Ranking:
    """`period`: 2023-05, 2023-Q2 or 2023 (statemachine/ranking_period.py)."""
    p = parse_period(period)
    with unit_of_work(db) as uow:  # reads only: nothing to commit
        camp = campaign_row(uow.conn, campaign)
        return ranking_of(uow.conn, camp.id, p, seen_by=seen_by)


def row_dict(r: RankedRow) -> dict:
    """One row for programs: the score as a string (exact, two places), rates to 4 places."""
    return {"rank": r.rank, "unit": r.unit, "name": r.name, "score": str(r.score), "assessed": r.assessed,
            "counts": {k: v for k, v in vars(r.counts).items() if k not in ("unit", "name")},
            "rates": {k: round(float(v), 4) for k, v in r.rates.items()}}


def as_dict(t: Ranking) -> dict:
    return {"period": t.period.label, "from": t.period.first.isoformat(), "until": t.period.after.isoformat(),
            "ranked": t.ranked, "rows": [row_dict(r) for r in t.rows],
            "red": [r.unit for r in t.red], "black": [r.unit for r in t.black]}
