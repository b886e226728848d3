"""What an item's page and `clue show` add to its history: every source (merged duplicates'
too), the item it was merged into, its callbacks (回访) and the callback it owes."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, select

from models.tables import Clue

from services.core.directory import campaign_row
from .rows import clue_row
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
        row = clue_row(conn, camp.id, number)
        into = (conn.execute(select(T.c.number).where(T.c.id == row.merged_into_id)).scalar()
                if row.merged_into_id else None)
        return ItemRecord(number, into, row.callback, row.callback_due_at, sources_of(conn, row.id),
                          callbacks_of(conn, row.id))
