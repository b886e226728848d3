"""延期 as a request and a decision (statemachine/charts/extension.py): the unit asks
before its deadline, the level above approves (the clue's own `extend` trigger moves the
deadline, so the one persisted transition and its audit record do it) or refuses."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert, select

from models.tables import Clue, ExtensionRequest
from statemachine.charts.extension import EXTENSION_CHART, ExtensionContext, ExtensionState, request_refusal
from statemachine.errors import GuardRefused, InvalidInput, NotFound
from statemachine.limits import COLUMNS, clean_text
from statemachine.time.calendar import WorkingCalendar, local_date
from statemachine.time.deadlines import deadline_refusal

from services.campaigns.load import plan_of
from services.core.directory import actor as lookup_actor, campaign_row, require_acts_for, unit_by_id
from services.core.persisted import PersistedChart, audit_record, fire_one
from services.core.uow import Db, unit_of_work
from .chart import CLUES, ClueInput
from .lifecycle import deadline_limit_on, with_plan_facts
from .rows import clue_row as _clue

__all__ = ["ExtensionView", "request_extension", "approve_extension", "refuse_extension", "EXTENSIONS"]

T, ER = Clue.__table__, ExtensionRequest.__table__


def _writes(trigger: str, data, now: datetime, actor: str) -> dict:
    if trigger == "approve":
        return {"granted": data.granted, "decision": data.reason}
    return {"decision": data.reason}


EXTENSIONS = PersistedChart(chart=EXTENSION_CHART, table=ER, entity="extension", writes=_writes,
                            plural="extension requests")


@dataclass(frozen=True)
class ExtensionView:
    number: str
    state: str
    asked: date
    previous: date
    granted: date | None
    deadline: date | None  # the clue's deadline after this step



def _waiting(conn, clue_id: int):
    return conn.execute(select(ER).where(ER.c.clue_id == clue_id, ER.c.state == ExtensionState.requested.value)
                        ).first()


def request_extension(db: Db, campaign: str, number: str, *, until: date, reason: str | None, actor: str,
                      now: datetime, calendar: WorkingCalendar | None = None,
                      expected_version: int | None = None) -> ExtensionView:
    """The unit (or a supervisor above it, on its behalf) asks for the deadline to move to `until`."""
    if reason is None or not reason.strip():
        raise InvalidInput("a reason (--reason) is required")
    reason = clean_text(reason, COLUMNS["extension_requests.reason"], what="reason").strip()
    with unit_of_work(db) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        who = lookup_actor(conn, camp.id, actor)
        row = _clue(conn, camp.id, number, expected_version=expected_version, seen_by=who)
        unit = unit_by_id(conn, row.unit_id)
        require_acts_for(who, unit, "ask for an extension (延期) of clues")
        waiting = _waiting(conn, row.id)
        if waiting is not None:
            raise InvalidInput(f"clue {number}: an extension to {waiting.asked} asked for by {waiting.requested_by} "
                               f"waits for a decision")
        plan = plan_of(conn, camp.id)
        why = request_refusal(clue_state=row.state, current=row.deadline, current_due=row.deadline_at,
                              asked=until, as_of=now, granted_before=row.extension_count,
                              max_extensions=plan.clues.max_extensions)
        why = why or deadline_refusal(until, deadline_limit_on(conn, camp.id, local_date(now), calendar),
                                      extending=True)
        if why:
            raise GuardRefused(entity=f"clue {number}", trigger="request_extension", guard="may_extend",
                               reason=why)
        rid = conn.execute(insert(ER).values(
            campaign_id=camp.id, clue_id=row.id, unit_id=row.unit_id, state=ExtensionState.requested.value,
            reason=reason, asked=until, previous=row.deadline, requested_by=who.username, requested_at=now,
            updated_at=now, updated_by=who.username, version=1).returning(ER.c.id)).scalar_one()
        uow.audit(camp.id, [audit_record(
            at=now, actor=who.username, unit_id=row.unit_id, entity="extension", entity_id=rid,
            from_state=None, to_state=ExtensionState.requested.value, trigger="request_extension", reason=reason,
            detail={"number": number, "asked": until.isoformat(), "previous": row.deadline.isoformat()})])
        uow.commit()
        return ExtensionView(number, ExtensionState.requested.value, until, row.deadline, None, row.deadline)


@dataclass(frozen=True)
class _Decision:
    granted: date | None = None
    reason: str | None = None


def _decide(db: Db, campaign: str, number: str, trigger: str, *, actor: str, now: datetime,
            granted: date | None, reason: str | None, calendar: WorkingCalendar | None,
            expected_version: int | None = None) -> ExtensionView:
    reason = clean_text(reason, COLUMNS["extension_requests.decision"], what="reason")
    with unit_of_work(db) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        who = lookup_actor(conn, camp.id, actor)
        row = _clue(conn, camp.id, number, expected_version=expected_version, seen_by=who)
        req = _waiting(conn, row.id)
        if req is None:
            raise NotFound(f"clue {number}: no extension request waits for a decision")
        unit = unit_by_id(conn, row.unit_id)
        granted = (granted or req.asked) if trigger == "approve" else None
        ctx = ExtensionContext(reason=reason, asked=req.asked, granted=granted, current=row.deadline)
        fired = fire_one(uow, EXTENSIONS, req, trigger, actor=who, now=now, campaign_id=camp.id, ctx=ctx,
                         data=_Decision(granted, reason), unit=unit, label=f"clue {number}'s extension request",
                         what="decide extensions (延期) of clues", reason=reason,
                         detail={"number": number, "asked": req.asked.isoformat(),
                                 "granted": granted.isoformat() if granted else None})
        deadline = row.deadline
        if trigger == "approve":
            # asked in time: judged at the instant it was asked, whenever the level above answers;
            # how many: the clue's own extend guard (extensions_left), as for a direct extend
            data = with_plan_facts(conn, camp.id, "extend", ClueInput(reason=req.reason, deadline=granted))
            ctx = data.context(actor=who.username, actor_unit=who.unit.id, owner_unit=row.unit_id,
                               row_owner=row.owner,
                               limit=deadline_limit_on(conn, camp.id, local_date(now), calendar),
                               as_of=req.requested_at, row_deadline=row.deadline, row_deadline_at=row.deadline_at,
                               row_received=local_date(row.received_at), row_extensions=row.extension_count)
            moved = fire_one(uow, CLUES, row, "extend", actor=who, now=now, campaign_id=camp.id, ctx=ctx,
                             data=data, unit=unit, label=f"clue {number}", reason=req.reason,
                             detail={"deadline": granted.isoformat(), "request": req.id})
            deadline = moved.row.deadline
        uow.commit()
        return ExtensionView(number, fired.row.state, req.asked, req.previous, fired.row.granted, deadline)


def approve_extension(db: Db, campaign: str, number: str, *, actor: str, now: datetime,
                      until: date | None = None, note: str | None = None,
                      calendar: WorkingCalendar | None = None, expected_version: int | None = None) -> ExtensionView:
    """The level above grants the waiting request: to the date asked, or an earlier one (`until`)."""
    return _decide(db, campaign, number, "approve", actor=actor, now=now, granted=until, reason=note,
                   calendar=calendar, expected_version=expected_version)


def refuse_extension(db: Db, campaign: str, number: str, *, actor: str, now: datetime,
                     reason: str | None, expected_version: int | None = None) -> ExtensionView:
    """The level above refuses the waiting request; the deadline stays as it was."""
    return _decide(db, campaign, number, "refuse", actor=actor, now=now, granted=None, reason=reason,
                   calendar=None, expected_version=expected_version)
