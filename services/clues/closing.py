"""What follows 办结 (an item closed by 销号 or as 查无实据): each reporter is told the outcome
(services/clues/sources.feedback), and after 销号 a callback (回访) falls due
(statemachine/charts/callback.py) when a reporter left a contact. Run in the transaction of
the close, by the single and the set path alike."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import exists, update

from models.tables import Clue, ClueSource
from statemachine.charts.callback import OWED, callback_due
from statemachine.time.calendar import WorkingCalendar

from services.campaigns.load import plan_of
from .sources import feedback

__all__ = ["CLOSING_TRIGGERS", "after_closing"]

T, CS = Clue.__table__, ClueSource.__table__
CLOSING_TRIGGERS = frozenset({"approve", "dismiss"})


def after_closing(conn, *, campaign_id: int, trigger: str, clue_ids: Sequence[int], now: datetime,
                  calendar: WorkingCalendar | None) -> list[str]:
    """Owe the callbacks and queue the feedback of the items `trigger` just closed (or, after a
    合并, closed before); returns the reporters newly told (masked numbers)."""
    if trigger not in CLOSING_TRIGGERS or not clue_ids:
        return []
    if trigger == "approve":
        if calendar is None:  # the calendar of this process's runtime (its override file)
            from services.core.runtime import current

            calendar = current().calendar
        within = plan_of(conn, campaign_id).clues.callback_within_working_days
        contact = exists().where(CS.c.clue_id == T.c.id, CS.c.reporter_phone.is_not(None),
                                 CS.c.reporter_phone != "")
        # an item whose callback was made already owes none again for the same close
        conn.execute(update(T).where(T.c.id.in_(list(clue_ids)), T.c.callback == "none", contact)
                     .values(callback=OWED, callback_due_at=callback_due(calendar, now, within)))
    return [phone for i in clue_ids for phone in feedback(conn, campaign_id=campaign_id, clue_id=i, now=now)]
