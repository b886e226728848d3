"""签收: a member of the item's unit signs for it (statemachine/charts/signing.py), and the
SQL form of when an item's signing is a lapse (the reminder its liaison then gets:
services/clues/reminders.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_

from models.tables import Clue, ClueReturn
from statemachine.charts.signing import OPEN_VALUES, SIGNING_CHART, UNSIGNED, SigningContext

from services.core.directory import actor as lookup_actor, campaign_row, unit_by_id
from services.core.persisted import PersistedChart, fire_one
from services.core.uow import Db, unit_of_work

from .rows import clue_row

__all__ = ["SIGNINGS", "SignView", "sign", "sign_for_overdue_sql", "SIGN_FOR_OVERDUE"]

T, CR = Clue.__table__, ClueReturn.__table__
SIGN_FOR_OVERDUE = "sign_for_overdue"


def _writes(trigger: str, data, now: datetime, actor: str) -> dict:
    return {"signed_at": now, "signed_by": actor}


SIGNINGS = PersistedChart(chart=SIGNING_CHART, table=T, entity="clue_signing", state_column="signing",
                          writes=_writes, plural="clues' signings")


@dataclass(frozen=True)
class SignView:
    number: str
    unit: str
    signed_at: datetime
    signed_by: str
    late: bool  # signed after the plan's sign_for ran out


def sign(db: Db, campaign: str, number: str, *, actor: str, now: datetime,
         expected_version: int | None = None) -> SignView:
    """A member of the item's unit signs for it."""
    with unit_of_work(db) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        who = lookup_actor(conn, camp.id, actor)
        row = clue_row(conn, camp.id, number, expected_version=expected_version, seen_by=who)
        unit = unit_by_id(conn, row.unit_id)
        late = row.sign_due_at is not None and now > row.sign_due_at
        fired = fire_one(uow, SIGNINGS, row, "sign", actor=who, now=now, campaign_id=camp.id,
                         ctx=SigningContext(clue_state=row.state), unit=unit, label=f"clue {number}",
                         what="sign for (签收) clues",
                         detail={"number": number, "late": late,
                                 "due": row.sign_due_at.isoformat() if row.sign_due_at else None})
        uow.commit()
        return SignView(number, unit.name, fired.row.signed_at, fired.row.signed_by, late)


# -- statemachine.charts.signing.sign_for_overdue as a WHERE clause --------------------------
# (tests/integration/test_sign_for_rule_sql.py proves the two agree)
def sign_for_overdue_sql(as_of: datetime, table=T) -> ColumnElement[bool]:
    excused = exists().where(CR.c.clue_id == table.c.id, CR.c.state == "requested",
                             CR.c.requested_at <= table.c.sign_due_at)
    return and_(table.c.sign_due_at.is_not(None), table.c.sign_due_at < as_of,
                or_(table.c.signed_at > table.c.sign_due_at,
                    and_(table.c.signed_at.is_(None), table.c.signing == UNSIGNED,
                         table.c.state.in_(sorted(OPEN_VALUES)), ~excused)))
