"""挂账 / 暂停: a supervisor above the unit stops an item's clock and starts it again
(statemachine/charts/clock.py); on resuming, its deadlines move on by the working days the
clock stood (statemachine/time/deadlines.moved_deadline), and the spell is kept."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert, select, update

from models.tables import Clue, ClueSuspension
from statemachine.charts.clock import CLOCK_CHART, ClockContext
from statemachine.limits import COLUMNS, clean_text
from statemachine.time.calendar import WorkingCalendar, end_of_day, local_date
from statemachine.time.deadlines import Pause, moved_deadline, suspended_working_days

from services.core.directory import actor as lookup_actor, campaign_row, unit_by_id
from services.core.persisted import PersistedChart, fire_one
from services.core.uow import Db, unit_of_work

from .rows import clue_row

__all__ = ["CLOCKS", "ClockView", "suspend", "resume"]

T, CS = Clue.__table__, ClueSuspension.__table__

CLOCKS = PersistedChart(chart=CLOCK_CHART, table=T, entity="clue_clock", state_column="clock",
                        plural="clues' clocks")


@dataclass(frozen=True)
class ClockView:
    number: str
    clock: str
    verify_due_at: datetime
    deadline: date | None
    moved_by: int  # working days the deadlines moved on resuming (0 on suspending)


def _clue(conn, campaign: str, number: str, actor: str, expected_version: int | None = None):
    camp = campaign_row(conn, campaign)
    who = lookup_actor(conn, camp.id, actor)
    return camp, clue_row(conn, camp.id, number, expected_version=expected_version, seen_by=who), who


def suspend(db: Db, campaign: str, number: str, *, reason: str | None, actor: str, now: datetime,
            expected_version: int | None = None) -> ClockView:
    reason = clean_text(reason, COLUMNS["clue_suspensions.reason"], what="reason")
    with unit_of_work(db) as uow:
        conn = uow.conn
        camp, row, who = _clue(conn, campaign, number, actor, expected_version)
        fired = fire_one(uow, CLOCKS, row, "suspend", actor=who, now=now, campaign_id=camp.id,
                         ctx=ClockContext(reason=reason, clue_state=row.state), unit=unit_by_id(conn, row.unit_id),
                         label=f"clue {number}", what="suspend (挂账) clues", reason=reason,
                         detail={"number": number})
        conn.execute(insert(CS).values(campaign_id=camp.id, clue_id=row.id, reason=reason.strip(),
                                       started_at=now, started_by=who.username))
        uow.commit()
        r = fired.row
        return ClockView(number, r.clock, r.verify_due_at, r.deadline, 0)


def resume(db: Db, campaign: str, number: str, *, actor: str, now: datetime, reason: str | None = None,
           calendar: WorkingCalendar | None = None, expected_version: int | None = None) -> ClockView:
    if calendar is None:
        from services.core.runtime import current

        calendar = current().calendar
    reason = clean_text(reason, COLUMNS["clue_suspensions.reason"], what="reason")
    with unit_of_work(db) as uow:
        conn = uow.conn
        camp, row, who = _clue(conn, campaign, number, actor, expected_version)
        spell = conn.execute(select(CS).where(CS.c.clue_id == row.id, CS.c.ended_at.is_(None))).first()
        values: dict = {}
        n = 0
        if spell is not None and row.clock == "suspended":
            pause = (Pause(local_date(spell.started_at), local_date(now)),)
            n = suspended_working_days(calendar, pause, until=local_date(now))
            values["verify_due_at"] = end_of_day(moved_deadline(calendar, due=local_date(row.verify_due_at),
                                                                pauses=pause))
            if row.deadline is not None:
                moved = moved_deadline(calendar, due=row.deadline, pauses=pause)
                values.update(deadline=moved, deadline_at=end_of_day(moved))
        fired = fire_one(uow, CLOCKS, row, "resume", actor=who, now=now, campaign_id=camp.id,
                         ctx=ClockContext(reason=reason, clue_state=row.state), unit=unit_by_id(conn, row.unit_id),
                         label=f"clue {number}", what="resume (恢复计时) clues", reason=reason, values=values,
                         detail={"number": number, "working_days": n,
                                 "deadline": values["deadline"].isoformat() if "deadline" in values else None})
        if spell is not None:
            conn.execute(update(CS).where(CS.c.id == spell.id).values(ended_at=now, ended_by=who.username,
                                                                       working_days=n))
        uow.commit()
        r = fired.row
        return ClockView(number, r.clock, r.verify_due_at, r.deadline, n)
