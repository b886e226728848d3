"""退单 / 改派: a member of the item's unit returns it within the plan's window; a supervisor
above the unit reassigns it (its clock restarts at the new unit, which must sign for it) or
refuses the return (the clock never stopped; the refusal stays countable in clue_returns,
where the units' ranking reads it). statemachine/charts/returns.py holds the rules."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update

from models.tables import Clue, ClueReturn
from statemachine.authority import Who
from statemachine.charts.returns import RETURN_CHART, ReturnContext, ReturnState, return_refusal
from statemachine.charts.signing import UNSIGNED
from statemachine.errors import GuardRefused, InvalidInput, NotFound
from statemachine.limits import COLUMNS, clean_text, shown
from statemachine.time.calendar import WorkingCalendar
from statemachine.time.deadlines import assignment_clock
from statemachine.time.spans import return_span, sign_for_span, span_end

from services.campaigns.load import plan_of
from services.core.directory import Actor, UnitRef, actor as lookup_actor, campaign_row, require, unit_by_code, \
    unit_by_id
from services.core.persisted import PersistedChart, audit_record, fire_one
from services.core.uow import Db, unit_of_work
from .lifecycle import assignment_columns
from .rows import clue_row as _clue

__all__ = ["RETURNS", "ReturnView", "return_clue", "reassign", "refuse_return", "STEPS", "step"]

T, CR = Clue.__table__, ClueReturn.__table__


def _writes(trigger: str, data, now: datetime, actor: str) -> dict:
    v = {"decided_at": now, "decision": data.reason}
    if trigger == "reassign":
        v["to_unit_id"] = data.to_unit_id
    return v


RETURNS = PersistedChart(chart=RETURN_CHART, table=CR, entity="clue_return", writes=_writes,
                         plural="returns of clues")


@dataclass(frozen=True)
class ReturnView:
    number: str
    state: str          # the return's: requested | reassigned | refused
    unit: str           # the unit that holds the item after this step
    from_unit: str      # the unit that returned it
    verify_due_at: datetime
    sign_due_at: datetime | None


def _calendar(calendar: WorkingCalendar | None) -> WorkingCalendar:
    if calendar is None:
        from services.core.runtime import current

        calendar = current().calendar
    return calendar



def _waiting(conn, clue_id: int):
    return conn.execute(select(CR).where(CR.c.clue_id == clue_id, CR.c.state == ReturnState.requested.value)
                        ).first()


def return_clue(db: Db, campaign: str, number: str, *, reason: str | None, actor: str, now: datetime,
                calendar: WorkingCalendar | None = None, expected_version: int | None = None) -> ReturnView:
    """A member of the item's unit returns it (退单) as not its own, with a reason."""
    if reason is None or not reason.strip():
        raise InvalidInput("a reason (--reason) is required")
    reason = clean_text(reason, COLUMNS["clue_returns.reason"], what="reason").strip()
    calendar = _calendar(calendar)
    with unit_of_work(db) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        who = lookup_actor(conn, camp.id, actor)
        row = _clue(conn, camp.id, number, expected_version=expected_version, seen_by=who)
        unit = unit_by_id(conn, row.unit_id)
        require(who, Who.member, unit, "return (退单) clues")
        rules = plan_of(conn, camp.id).clues
        until = span_end(calendar, row.assigned_at or row.received_at, return_span(rules))
        why = return_refusal(clue_state=row.state, as_of=now, return_until=until,
                             waiting=_waiting(conn, row.id) is not None)
        if why:
            raise GuardRefused(entity=f"clue {number}", trigger="return", guard="may_return", reason=why)
        rid = conn.execute(insert(CR).values(
            campaign_id=camp.id, clue_id=row.id, unit_id=row.unit_id, state=ReturnState.requested.value,
            reason=reason, requested_by=who.username, requested_at=now, updated_at=now,
            updated_by=who.username, version=1).returning(CR.c.id)).scalar_one()
        uow.audit(camp.id, [audit_record(
            at=now, actor=who.username, unit_id=row.unit_id, entity="clue_return", entity_id=rid,
            from_state=None, to_state=ReturnState.requested.value, trigger="return", reason=reason,
            detail={"number": number, "clue": row.id})])
        uow.commit()
        return ReturnView(number, ReturnState.requested.value, unit.name, unit.name, row.verify_due_at,
                          row.sign_due_at)


@dataclass(frozen=True)
class _Decision:
    reason: str | None = None
    to_unit_id: int | None = None


def _target(conn, campaign_id: int, who: Actor, code: str | None, current: UnitRef) -> tuple[UnitRef | None,
                                                                                             str | None]:
    """The unit the item goes to, and why it cannot take it (None when it can)."""
    if code is None or not code.strip():
        return None, None
    try:
        unit = unit_by_code(conn, campaign_id, code)
    except NotFound:
        return None, f"unknown unit {shown(code)}"
    if unit.id == current.id:
        return unit, f"the item is {unit.name}'s already: reassign it to another unit, or refuse the return"
    if not unit.participates:
        return unit, f"'{unit.name}' does not take part in the campaign"
    if not who.may(Who.supervisor, unit):
        return unit, f"{who.label} may not assign items to {unit.name}: only to a unit below their own"
    return unit, None


def _decide(db: Db, campaign: str, number: str, trigger: str, *, actor: str, now: datetime,
            reason: str | None, to: str | None, calendar: WorkingCalendar | None,
            expected_version: int | None = None) -> ReturnView:
    reason = clean_text(reason, COLUMNS["clue_returns.decision"], what="reason")
    calendar = _calendar(calendar)
    with unit_of_work(db) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        who = lookup_actor(conn, camp.id, actor)
        row = _clue(conn, camp.id, number, expected_version=expected_version, seen_by=who)
        req = _waiting(conn, row.id)
        if req is None:
            raise NotFound(f"clue {number}: no return (退单) waits for a decision")
        unit = unit_by_id(conn, row.unit_id)
        target, problem = _target(conn, camp.id, who, to, unit) if trigger == "reassign" else (None, None)
        ctx = ReturnContext(reason=reason, target=to, target_problem=problem)
        fired = fire_one(uow, RETURNS, req, trigger, actor=who, now=now, campaign_id=camp.id, ctx=ctx,
                         data=_Decision(reason, target.id if target else None), unit=unit,
                         label=f"clue {number}'s return", what="decide returns (退单) of clues", reason=reason,
                         detail={"number": number, "clue": row.id, "to": target.code if target else None})
        rules = plan_of(conn, camp.id).clues
        if trigger == "reassign":
            # the clock restarts at the new unit (statemachine/time/deadlines.assignment_clock)
            values = assignment_columns(calendar, rules, assigned_at=now) | {
                "unit_id": target.id, "assign_count": T.c.assign_count + 1}
            holder = target
        else:
            # the clock never stopped; an unsigned item owes its signing from the refusal
            values = {}
            if row.signing == UNSIGNED and sign_for_span(rules) is not None:
                values["sign_due_at"] = assignment_clock(
                    calendar, assigned_at=now, verify_working_days=rules.verify_within_working_days,
                    sign_for=sign_for_span(rules), return_window=return_span(rules)).sign_due_at
            holder = unit
        written = row
        if values:
            written = conn.execute(update(T).where(T.c.id == row.id, T.c.version == row.version)
                                   .values(**values, version=T.c.version + 1, updated_at=now,
                                           updated_by=who.username).returning(*T.c)).first()
            if written is None:  # pragma: no cover - the request row's version guards the decision
                raise InvalidInput(f"clue {number} changed meanwhile; retry")
            uow.audit(camp.id, [audit_record(
                at=now, actor=who.username, unit_id=holder.id, entity="clue", entity_id=row.id,
                from_state=row.state, to_state=written.state, trigger=trigger if trigger == "reassign"
                else "refuse_return", reason=reason,
                detail={"from": unit.code, "to": holder.code, "verify_due_at": written.verify_due_at.isoformat(),
                        "sign_due_at": written.sign_due_at.isoformat() if written.sign_due_at else None})])
        uow.commit()
        return ReturnView(number, fired.row.state, holder.name, unit.name, written.verify_due_at,
                          written.sign_due_at)


def reassign(db: Db, campaign: str, number: str, *, to: str | None, actor: str, now: datetime,
             note: str | None = None, calendar: WorkingCalendar | None = None,
             expected_version: int | None = None) -> ReturnView:
    """改派: the level above moves the returned item to unit `to` (a code or name)."""
    return _decide(db, campaign, number, "reassign", actor=actor, now=now, reason=note, to=to, calendar=calendar,
                   expected_version=expected_version)


def refuse_return(db: Db, campaign: str, number: str, *, reason: str | None, actor: str, now: datetime,
                  calendar: WorkingCalendar | None = None, expected_version: int | None = None) -> ReturnView:
    """The level above refuses the return: the item stays with its unit, counted against it."""
    return _decide(db, campaign, number, "refuse", actor=actor, now=now, reason=reason, to=None, calendar=calendar,
                   expected_version=expected_version)


# the steps of 签收 and 退单 a page or the API offers beside the clue chart's (services/core/actions.py)
STEPS = ("sign", "return", "reassign", "refuse_return")


def step(db: Db, campaign: str, number: str, trigger: str, *, actor: str, now: datetime, reason: str | None = None,
         to: str | None = None, calendar: WorkingCalendar | None = None, expected_version: int | None = None):
    """One of STEPS by its name, as the web posts it (with the version of the item it showed)."""
    from .signing import sign

    v = expected_version
    if trigger == "sign":
        return sign(db, campaign, number, actor=actor, now=now, expected_version=v)
    if trigger == "return":
        return return_clue(db, campaign, number, reason=reason, actor=actor, now=now, calendar=calendar,
                           expected_version=v)
    if trigger == "reassign":
        return reassign(db, campaign, number, to=to, actor=actor, now=now, note=reason, calendar=calendar,
                        expected_version=v)
    if trigger == "refuse_return":
        return refuse_return(db, campaign, number, reason=reason, actor=actor, now=now, calendar=calendar,
                             expected_version=v)
    raise InvalidInput(f"unknown step {shown(trigger)} (one of {', '.join(STEPS)})")
