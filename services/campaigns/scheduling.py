"""One scheduler at a time (issue 17): which method owns a campaign's schedule.

    embedded  APScheduler inside `rectify serve` (RECTIFY_SCHEDULER=embedded)
    serve     `RECTIFY_SCHEDULER=prefect rectify serve`: deployments it serves itself
    workers   `rectify deploy`: deployments in a work pool, run by workers

Each registers a campaign's jobs only after claiming it here, in the database
every method reads (Prefect's tags are invisible to the embedded scheduler,
which may have no Prefect server at all). The same method claims again freely
(a restart, a redeploy, a second embedded scheduler beside the first, whose
fire times are claimed one by one: services/campaigns/firings.py); another
method is refused in one line unless told to take over. A method that lost
its campaign stops doing its work: the embedded scheduler skips its fire
times, a deployment's run refuses at its start (flows/deps.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, select

from models.db import transaction
from models.tables import Campaign, CampaignScheduler
from statemachine.errors import ConflictError
from statemachine.time.calendar import TZ

__all__ = ["METHODS", "Owner", "owners", "claim_scheduling", "check_scheduling", "usurper"]

S, C = CampaignScheduler.__table__, Campaign.__table__
METHODS = {
    "embedded": "the embedded scheduler of 'rectify serve'",
    "serve": "'RECTIFY_SCHEDULER=prefect rectify serve'",
    "workers": "the workers of 'rectify deploy'",
}


@dataclass(frozen=True)
class Owner:
    campaign: str
    method: str
    detail: str
    since: datetime

    def sentence(self) -> str:
        where = f" ({self.detail})" if self.detail else ""
        return f"{METHODS.get(self.method, self.method)}{where} since {self.since.astimezone(TZ):%Y-%m-%d %H:%M}"


def owners(conn: Connection, codes: list[str]) -> dict[str, Owner]:
    rows = conn.execute(select(C.c.code, S.c.method, S.c.detail, S.c.since)
                        .join(S, S.c.campaign_id == C.c.id).where(C.c.code.in_(codes))).all()
    return {r.code: Owner(r.code, r.method, r.detail, r.since) for r in rows}


def _refuse(others: list[Owner], method: str) -> None:
    first = others[0]
    more = f" (and {len(others) - 1} more campaigns)" if len(others) > 1 else ""
    raise ConflictError(f"campaign {first.campaign}'s schedule belongs to {first.sentence()}{more}: one "
                        f"scheduler at a time; stop that one and run this with --take-over to make "
                        f"{METHODS[method]} its scheduler")


def check_scheduling(conn: Connection, codes: list[str], *, method: str, take_over: bool) -> list[Owner]:
    """The owners of another method that claiming `codes` would replace; refused in one
    line, naming the first, unless `take_over`. Reads only: nothing is claimed."""
    if method not in METHODS:
        raise ValueError(f"unknown scheduling method {method!r}")
    others = [o for o in owners(conn, codes).values() if o.method != method]
    others.sort(key=lambda o: o.campaign)
    if others and not take_over:
        _refuse(others, method)
    return others


def claim_scheduling(engine: Engine, codes: list[str], *, method: str, detail: str, take_over: bool,
                     now: datetime) -> list[Owner]:
    """Make `method` the scheduler of `codes` (one transaction); returns the owners it
    replaced, which --take-over allowed. Refused, changing nothing, otherwise."""
    detail = detail[:200]  # ours (host:pid, a pool and its API), never a user's text
    with transaction(engine) as conn:
        if conn.dialect.name == "postgresql":  # two methods claiming at once: one waits
            conn.execute(select(C.c.id).where(C.c.code.in_(codes)).with_for_update())
        replaced = check_scheduling(conn, codes, method=method, take_over=take_over)
        ids = dict(conn.execute(select(C.c.code, C.c.id).where(C.c.code.in_(codes))).all())
        conn.execute(delete(S).where(S.c.campaign_id.in_(ids.values())))
        if ids:
            conn.execute(S.insert(), [{"campaign_id": i, "method": method, "detail": detail, "since": now}
                                      for i in ids.values()])
    return replaced


def usurper(conn: Connection, code: str, *, method: str) -> Owner | None:
    """The owner of another method that took `code` over from `method`, if any: a job
    of `method` that finds one does nothing and says so."""
    o = owners(conn, [code]).get(code)
    return o if o is not None and o.method != method else None
