"""A campaign's period as stored, and the refusal of a change made outside it
(statemachine/time/period.py holds the rule; every entry point asks here)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from statemachine.errors import InvalidInput
from statemachine.time.calendar import local_date
from statemachine.time.period import NOW_HINT, CampaignPeriod, period_refusal

from services.core.directory import campaign_row

__all__ = ["period_of", "require_in_period"]


def period_of(conn: Connection, code: str) -> CampaignPeriod:
    row = campaign_row(conn, code)
    return CampaignPeriod(row.code, row.start_date, row.end_date)


def require_in_period(conn: Connection, code: str, *, now: datetime, chosen: bool, hint: str = NOW_HINT) -> None:
    """InvalidInput when a change to campaign `code` at `now` falls outside its period and
    nobody chose that instant (`chosen`: an explicit --now)."""
    why = period_refusal(period_of(conn, code), today=local_date(now), chosen=chosen, hint=hint)
    if why:
        raise InvalidInput(why)
