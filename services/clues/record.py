"""What an item's page and `clue show` add to its history: every source (merged duplicates'
too), the item it was merged into, its callbacks (回访) and the callback it owes."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, select

from models.tables import Clue
from statemachine.errors import NotFound
from statemachine.limits import shown

from services.core.directory import campaign_row
from .callbacks import CallbackView, callbacks_of
from .sources import SourceView, sources_of

__all__ = ["ItemRecord", "item_record"]

T = Clue.__table__


@dataclass(frozen=True)
class ItemRecord:
    number: str
    merged_into: str | None
    callback: str                    # none | owed | made | at_fault
    callback_due_at: datetime | None
    sources: list[SourceView] = field(default_factory=list)
    callbacks: list[CallbackView] = field(default_factory=list)


def item_record(engine: Engine, campaign: str, number: str) -> ItemRecord:
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        row = conn.execute(select(T).where(T.c.campaign_id == camp.id, T.c.number == number)).first()
        if row is None:
            raise NotFound(f"unknown clue {shown(number)} (see 'rectify clue list')")
        into = (conn.execute(select(T.c.number).where(T.c.id == row.merged_into_id)).scalar()
                if row.merged_into_id else None)
        return ItemRecord(number, into, row.callback, row.callback_due_at, sources_of(conn, row.id),
                          callbacks_of(conn, row.id))
