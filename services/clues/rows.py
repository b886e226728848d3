"""A clue's row by its number: the one lookup every use case on clues starts from, with the
one refusal a wrong number gets."""
from __future__ import annotations

from sqlalchemy import Connection, Row, select

from models.tables import Clue
from statemachine.errors import NotFound
from statemachine.limits import shown

__all__ = ["clue_row"]

T = Clue.__table__


def clue_row(conn: Connection, campaign_id: int, number: str) -> Row:
    """The clue `number` of the campaign; NotFound, in one line naming it, when there is none."""
    row = conn.execute(select(T).where(T.c.campaign_id == campaign_id, T.c.number == number)).first()
    if row is None:
        raise NotFound(f"unknown clue {shown(number)} (see 'rectify clue list')")
    return row
