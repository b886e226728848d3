"""回访 / 满意度 and 重办 (statemachine/charts/callback.py): the supervising level calls the
reporters of an item closed by 销号 and records the result; 不满意 with the unit at fault lets
it send the item back (重办: the clue chart's `redo`, a new deadline by the plan's limit).
Each callback is a row of clue_callbacks, which the ranking counts; the item's `callback`
column is the chart's state. A callback owed past its due instant is the `callback_overdue`
lapse of the level that owes it: the rule's SQL twin is here, the sweep's step in
services/ladder/sweep.py."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, insert, select, update

from models.tables import Clue, ClueCallback, Unit
from statemachine.charts.callback import CALLBACK_CHART, DISSATISFIED, OWED, RESULTS, CallbackContext
from statemachine.charts.labels import key_of
from statemachine.authority import refusal
from statemachine.errors import GuardRefused, PermissionDenied
from statemachine.limits import COLUMNS, clean_text
from statemachine.time.calendar import WorkingCalendar, local_date

from services.core.directory import actor as lookup_actor, campaign_row, unit_by_id
from services.core.persisted import PersistedChart, fire_one
from services.core.uow import Db, unit_of_work
from .chart import CLUES, ClueInput
from .lifecycle import deadline_limit_on
from .rows import clue_row as _clue

__all__ = ["CALLBACKS", "CallbackView", "RedoView", "call_back", "redo", "callbacks_of", "owing_unit",
           "callback_overdue_sql"]

T, CB, U = Clue.__table__, ClueCallback.__table__, Unit.__table__

CALLBACKS = PersistedChart(chart=CALLBACK_CHART, table=T, entity="clue_callback", state_column="callback",
                           plural="clues' callbacks")


@dataclass(frozen=True)
class CallbackView:
    number: str
    result: str
    unit_at_fault: bool
    at: datetime
    by: str
    due_at: datetime | None
    on_time: bool
    redo: bool = False
    note: str | None = None


@dataclass(frozen=True)
class RedoView:
    number: str
    state: str
    deadline: date


def callback_overdue_sql(as_of: datetime, table=T) -> ColumnElement[bool]:
    """statemachine.charts.callback.callback_overdue as a WHERE clause."""
    return and_(table.c.state == "closed", table.c.callback == OWED, table.c.callback_due_at.is_not(None),
                table.c.callback_due_at < as_of)


def owing_unit(conn, unit_id: int) -> int:
    """The level that calls back: the unit above the item's (the top unit calls its own)."""
    parent = conn.execute(select(U.c.parent_id).where(U.c.id == unit_id)).scalar_one()
    return parent if parent is not None else unit_id



def _not_owed(row) -> str | None:
    if row.callback == "none":
        return ("no callback is owed: one is owed after 销号 of an item whose reporter left a contact "
                f"(it is {row.state}" + (f", {row.resolution})" if row.resolution else ")"))
    if row.callback != OWED:
        return "its callback was made already; a new one is owed when it is closed again"
    return None


def call_back(db: Db, campaign: str, number: str, *, result: str, actor: str, now: datetime,
              note: str | None = None, unit_at_fault: bool = False) -> CallbackView:
    """Record the callback owed on `number`: the result (key or name, 满意 …), a note, and for
    不满意 whether the unit is at fault."""
    result = key_of(result, RESULTS, what="result", option="--result")
    note = clean_text(note, COLUMNS["clue_callbacks.note"], what="--note")
    with unit_of_work(db) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        row = _clue(conn, camp.id, number)
        who = lookup_actor(conn, camp.id, actor)
        trigger = "find_at_fault" if unit_at_fault else "call_back"
        unit = unit_by_id(conn, row.unit_id)
        what = "call back (回访) the reporters of clues"
        # the actor is judged first, as everywhere; then whether a callback is owed at all
        denied = refusal(CALLBACK_CHART.who(trigger), who.relation_to(unit), actor=who.label,
                         unit_name=unit.name, what=what)
        if denied:
            raise PermissionDenied(denied)
        why = _not_owed(row)
        if why:
            raise GuardRefused(entity=f"clue {number}", trigger=trigger, guard="callback_owed", reason=why)
        fire_one(uow, CALLBACKS, row, trigger, actor=who, now=now, campaign_id=camp.id,
                 ctx=CallbackContext(result=result, unit_at_fault=unit_at_fault), unit=unit,
                 label=f"clue {number}", what=what, reason=note,
                 detail={"number": number, "result": result, "unit_at_fault": unit_at_fault})
        on_time = row.callback_due_at is None or now <= row.callback_due_at
        conn.execute(insert(CB).values(
            campaign_id=camp.id, clue_id=row.id, unit_id=row.unit_id, owed_by_unit_id=owing_unit(conn, row.unit_id),
            result=result, note=note, unit_at_fault=unit_at_fault, at=now, by=who.username,
            due_at=row.callback_due_at, on_time=on_time, redo=False))
        uow.commit()
        return CallbackView(number, result, unit_at_fault, now, who.username, row.callback_due_at, on_time,
                            note=note)


def redo(db: Db, campaign: str, number: str, *, reason: str | None, actor: str, now: datetime,
         deadline: date | None = None, calendar: WorkingCalendar | None = None,
         expected_version: int | None = None) -> RedoView:
    """重办: send an item whose callback found the unit at fault back to rectifying, with a new
    deadline (given, or the plan's limit: `clues.rectify_within_working_days` from today)."""
    with unit_of_work(db) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        who = lookup_actor(conn, camp.id, actor)
        row = _clue(conn, camp.id, number, expected_version=expected_version, seen_by=who)
        limit = deadline_limit_on(conn, camp.id, local_date(now), calendar)
        cb = conn.execute(select(CB.c.id).where(CB.c.clue_id == row.id, CB.c.unit_at_fault.is_(True),
                                                 CB.c.result == DISSATISFIED, CB.c.redo.is_(False))
                          .order_by(CB.c.id.desc()).limit(1)).scalar()
        data = ClueInput(reason=reason, deadline=deadline or limit.latest)
        ctx = data.context(actor=who.username, actor_unit=who.unit.id, owner_unit=row.unit_id,
                           row_owner=row.owner, limit=limit, as_of=now, row_deadline=row.deadline,
                           row_deadline_at=row.deadline_at, row_received=local_date(row.received_at),
                           row_callback=row.callback)
        ctx.redo_callback = cb
        fired = fire_one(uow, CLUES, row, "redo", actor=who, now=now, campaign_id=camp.id, ctx=ctx, data=data,
                         unit=unit_by_id(conn, row.unit_id), label=f"clue {number}", what="send clues back (重办)",
                         reason=data.reason, detail={"deadline": data.deadline.isoformat(), "callback": cb})
        conn.execute(update(CB).where(CB.c.id == cb).values(redo=True, redo_at=now))
        uow.commit()
        return RedoView(number, fired.row.state, fired.row.deadline)


def callbacks_of(conn, clue_id: int) -> list[CallbackView]:
    rows = conn.execute(select(CB).where(CB.c.clue_id == clue_id).order_by(CB.c.at, CB.c.id)).all()
    return [CallbackView(clue_number_of(conn, r.clue_id), r.result, r.unit_at_fault, r.at, r.by, r.due_at,
                         r.on_time, r.redo, r.note) for r in rows]


def clue_number_of(conn, clue_id: int) -> str:
    return conn.execute(select(T.c.number).where(T.c.id == clue_id)).scalar_one()
