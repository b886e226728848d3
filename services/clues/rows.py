"""A clue's row by its number: the one lookup every use case on clues starts from, with the
one refusal a wrong number gets."""
from __future__ import annotations

from sqlalchemy import Connection, Row, select

from models.tables import Clue
from statemachine.errors import NotFound
from statemachine.limits import shown

__all__ = ["clue_row"]

T = Clue.__table__


def clue_row(conn: Connection, campaign_id: int, number: str, *, expected_version: int | None = None,
             seen_by=None) -> Row:
    """The clue `number` of the campaign; NotFound, in one line naming it, when there is none;
    ConflictError when the caller read another version of it (its form, or an If-Match).

    The conflict says what the clue is now, so it is said only to one who sees the clue
    (`seen_by`, an Actor; None: the system): anyone else is refused by the use case's own
    permission check, which follows, and learns nothing of it."""
    from services.core.directory import unit_by_id
    from services.core.persisted import refuse_stale
    from services.core.visibility import sees

    from .chart import CLUES

    row = conn.execute(select(T).where(T.c.campaign_id == campaign_id, T.c.number == number)).first()
    if row is None:
        raise NotFound(f"unknown clue {shown(number)} (see 'rectify clue list')")
    if expected_version is not None and expected_version != row.version and (
            seen_by is None or sees(seen_by, unit_by_id(conn, row.unit_id))):
        refuse_stale(CLUES, row, expected_version, f"clue {number}")
    return row
