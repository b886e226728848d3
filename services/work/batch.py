"""A supervisor's step on many cases at once (confirm or withdraw the proposed ones):
all of them in one unit of work, or none.

Each case goes the way one case goes (services/ladder/cases.py `apply_trigger`: the
chart, who may fire it, the versioned write, its notice); the first refusal names
its case and rolls the whole step back, so a form that chose ten cases never leaves
five done.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import Engine, select

from models.tables import EscalationCase
from statemachine.errors import InvalidInput, NotFound, RectifyError
from statemachine.time.calendar import WorkingCalendar

from services.core.directory import actor as lookup_actor, campaign_row, unit_by_id
from services.core.uow import unit_of_work
from services.ladder.cases import CaseInput, Ladder, apply_trigger

__all__ = ["Picked", "fire_cases", "MAX_PICKED"]

E = EscalationCase.__table__
MAX_PICKED = 500  # one form's worth; a larger set is the nightly job's


@dataclass(frozen=True)
class Picked:
    """A case chosen in a list, with the version the list showed."""

    id: int
    version: int | None = None


def fire_cases(engine: Engine, campaign: str, picked: Sequence[Picked], trigger: str, *, actor: str,
               now: datetime, calendar: WorkingCalendar, data: CaseInput = CaseInput(),
               channels: Iterable[str] = ()) -> list[int]:
    """Fire `trigger` on every picked case; returns their ids. Nothing changes unless all move."""
    if not picked:
        raise InvalidInput("no case chosen: tick the cases first")
    if len(picked) > MAX_PICKED:
        raise InvalidInput(f"{len(picked)} cases chosen: at most {MAX_PICKED} at once")
    ids = [p.id for p in picked]
    if len(set(ids)) != len(ids):
        raise InvalidInput("a case is chosen twice")
    with unit_of_work(engine) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        who = lookup_actor(conn, camp.id, actor)
        rows = {r.id: r for r in conn.execute(select(E).where(E.c.campaign_id == camp.id, E.c.id.in_(ids)))}
        ladder = Ladder.of(conn, camp, calendar, channels)
        units: dict[int, object] = {}
        for p in picked:
            row = rows.get(p.id)
            if row is None:
                raise NotFound(f"unknown case {p.id}")
            if row.unit_id not in units:
                units[row.unit_id] = unit_by_id(conn, row.unit_id)
            unit = units[row.unit_id]
            try:
                apply_trigger(uow, ladder, row, trigger, actor=who, unit=unit, now=now, data=data,
                              expected_version=p.version)
            except RectifyError as e:
                # the first refusal stops the lot (nothing is written): its line names its case
                line = str(e) if str(e).startswith(f"case {p.id}") else f"case {p.id}: {e}"
                e.args = (f"{line} — none of the {len(picked)} cases changed",)
                raise
        uow.commit()
    return ids

