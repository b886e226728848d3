"""典型案例: a supervisor marks an item as a typical case for the reports
(003 asks for 3 with the final summary, 002 at least 5, 004 1–2 of each kind)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select, update

from models.tables import Clue
from statemachine.errors import InvalidInput, NotFound
from statemachine.limits import COLUMNS, clean_text, shown

from services.core.persisted import audit_record
from services.core.uow import unit_of_work
from services.core.directory import actor as lookup_actor, campaign_row, require_supervises, unit_by_id

__all__ = ["mark_typical"]

T = Clue.__table__


def mark_typical(engine: Engine, campaign: str, number: str, *, note: str | None, actor: str,
                 now: datetime) -> None:
    """Mark (note given) or unmark (note None) an item as a typical case."""
    if note is not None and not note.strip():
        raise InvalidInput("say why it is typical (--note), e.g. 正面典型：… or 反面典型：…")
    note = clean_text(note, COLUMNS["clues.typical_note"], what="note")
    with unit_of_work(engine) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        row = conn.execute(select(T.c.id, T.c.unit_id, T.c.typical_note)
                           .where(T.c.campaign_id == camp.id, T.c.number == number)).first()
        if row is None:
            raise NotFound(f"unknown clue {shown(number)} in this campaign")
        who = lookup_actor(conn, camp.id, actor)
        require_supervises(who, unit_by_id(conn, row.unit_id), "choose typical cases")
        conn.execute(update(T).where(T.c.id == row.id).values(typical_note=note.strip() if note else None))
        uow.audit(camp.id, [audit_record(
            at=now, actor=who.username, unit_id=row.unit_id, entity="clue", entity_id=row.id,
            from_state=None, to_state=None, trigger="mark_typical" if note else "unmark_typical",
            detail={"number": number, "note": note})])
        uow.commit()
