"""Which actions a person may take on an item in its state: what a page shows as
buttons and the API lists as `actions`.

It is read off the same rules that firing applies, never restated:

    the chart          which triggers leave the item's state (statemachine/charts/)
    its `by`           who may fire each one, judged on the person's relation to the
                       item's unit (statemachine/authority.py `permits`)
    its row guards     facts of the item itself (a case's level, a unit's recorded
                       deliverables): a step they refuse is not offered

Guards on what the person supplies (a reason, the measures, a deadline) do not
hide an action: they are listed as its `needs`, the form's fields. A row guard that
the person's input can satisfy (a clue's responsible person, given when it is
substantiated) is a need too. Time is a row fact: an extension (延期) is offered
while the clue's deadline still runs at `now` (the domain's instant). tests/integration/test_allowed_actions.py proves, for
every chart, state, trigger and relation, that an action is offered exactly when
firing it with complete input moves the item.

    allowed_actions(conn, campaign, actor, item)   one item by its key: ClueItem,
                                                   CaseItem, StageItem, RoundItem,
                                                   CheckItem, DutyItem
    clue_actions(actor, state=…, unit=…) …         the same from facts already read,
                                                   for a list (no statement per row)

Two facts are the use cases' and not a chart's, and are held here beside them:
checks are recorded while their round is open, and of the check chart a person
fires only what `record_check` and `revise_check` offer (missing and cancelling
a check happen when the round is closed or cancelled).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable, Mapping

from sqlalchemy import Connection, and_, select

from models.tables import (Campaign, Clue, ClueReturn, DeliverableRecord, EscalationCase, ExtensionRequest,
                           InspectionCheck, InspectionRound, InspectionTeam, ReportSubmission, Stage, Unit)
from statemachine.authority import Relation, Who, permits
from statemachine.charts.clock import CLOCK_CHART, ClockContext
from statemachine.plan import ClueRules
from statemachine.charts.clue import CLUE_CHART, ClueContext
from statemachine.charts.extension import EXTENSION_CHART, request_refusal
from statemachine.charts.labels import TRIGGER_LABELS
from statemachine.charts.ladder import CASE_CHART, CaseContext
from statemachine.charts.returns import RETURN_CHART, ReturnContext, return_refusal
from statemachine.charts.signing import SIGNING_CHART, SigningContext
from statemachine.charts.lookback import CHECK_CHART, OUTCOMES, ROUND_CHART, CheckContext, RoundContext
from statemachine.charts.table import Chart
from statemachine.charts.unit_stage import StageContext, stage_chart
from statemachine.errors import NotFound
from statemachine.time.calendar import end_of_day, local_date
from statemachine.time.spans import return_span, span_end

from .directory import Actor, UnitRef, campaign_row, unit_by_code, unit_by_id
from .refs import as_id

__all__ = ["clue_time_actions", "TIME_TRIGGERS", "REQUEST_EXTENSION", "APPROVE_EXTENSION", "REFUSE_EXTENSION",
           "Action", "ClueItem", "CaseItem", "StageItem", "RoundItem", "CheckItem", "DutyItem", "Item",
           "allowed_actions", "offered", "clue_actions", "case_actions", "stage_actions", "round_actions",
           "check_actions", "duty_actions", "TRIGGER_LABELS", "PERSON_CHECK_TRIGGERS", "RECORDING_ROUND_STATE",
           "SUBMIT", "Returning", "returning_of", "RETURN_ACTIONS"]


@dataclass(frozen=True)
class Action:
    trigger: str
    label: str                 # its Chinese name
    who: str                   # statemachine.authority.Who: whose step it is
    needs: tuple[str, ...] = ()  # guards on what the person supplies (their names: has_reason …)


@dataclass(frozen=True)
class ClueItem:
    number: str


@dataclass(frozen=True)
class CaseItem:
    id: int


@dataclass(frozen=True)
class StageItem:
    """A participating unit on its way through the campaign's stages."""

    unit: str  # code (or an unambiguous name)


@dataclass(frozen=True)
class RoundItem:
    code: str


@dataclass(frozen=True)
class CheckItem:
    round: str
    ref: str  # the check's id or its item's number, as `rectify round record` takes it


@dataclass(frozen=True)
class DutyItem:
    """One report a unit owes (a reporting duty's period)."""

    unit: str
    duty: str
    period: str


Item = ClueItem | CaseItem | StageItem | RoundItem | CheckItem | DutyItem

# the charts' Chinese names of their triggers: statemachine/charts/labels.py, the one table
# of the check chart, what a person fires on one check (services/lookback/checks.py)
PERSON_CHECK_TRIGGERS = frozenset(OUTCOMES.values()) | {"revise"}
RECORDING_ROUND_STATE = "open"  # checks are recorded while their round is open
SUBMIT = "submit"              # a report owed: the unit's one action (services/reports/duties.py)


# -- the rule, from a chart ------------------------------------------------------------------
# what a person supplies is text or a day; a row guard that compares a day with the row's
# (an extension's new deadline is later than the running one) is satisfied by the latest
_SUPPLIED = {"str | None": "…", "date | None": date.max}


def _supplied(ctx: Any) -> Any:
    """`ctx` with everything a person could supply filled in: what is left to refuse is the row."""
    filled = {f.name: _SUPPLIED[str(f.type)] for f in dataclasses.fields(ctx)
              if getattr(ctx, f.name) is None and str(f.type) in _SUPPLIED}
    return dataclasses.replace(ctx, **filled)


def offered(chart: Chart, state: Any, relation: Relation, *, ctx: Any, kind: str,
            triggers: Iterable[str] | None = None) -> list[Action]:
    """The triggers of `chart` that leave `state`, that `relation` permits (the
    transition's `by`) and that no fact of the row refuses; `ctx` holds the row's
    facts (the guard context, nothing supplied by the person)."""
    s = chart.coerce(state)
    wanted = None if triggers is None else set(triggers)
    full = _supplied(ctx) if ctx is not None else None
    labels = TRIGGER_LABELS.get(kind, {})
    out = []
    for trigger in chart.allowed(s):
        if wanted is not None and trigger not in wanted:
            continue
        who = chart.who(trigger)
        if not permits(who, relation):
            continue
        t = chart.find(s, trigger)
        rows = [g for g in t.guards if g.row_dependent]
        if any(g.check(full) for g in rows):
            continue  # the row refuses whatever the person supplies
        needs = tuple(g.name for g in t.guards if not g.row_dependent or g.check(ctx))
        out.append(Action(trigger, labels.get(trigger, trigger), who.value, needs))
    return out


# -- from facts already read (one row of a list) -------------------------------------------------
@dataclass(frozen=True)
class Returning:
    """A clue's 退单 facts: until when its unit may return it, and whether a return waits."""

    until: datetime
    waiting: bool


# the return chart's `refuse`, as a clue's action (the clue chart has a `reject` of its own)
RETURN_ACTIONS = {"reassign": "reassign", "refuse": "refuse_return"}


def clue_actions(actor: Actor, *, state: str, unit: UnitRef, owner: str | None = None,
                 deadline: date | None = None, deadline_at: datetime | None = None,
                 now: datetime | None = None, signing: str = "signed",
                 returning: Returning | None = None, extensions: int | None = None,
                 max_extensions: int | None = None, callback: str = "none") -> list[Action]:
    """`deadline`, `deadline_at`: the clue's running deadline (its day, and the instant it ends:
    either gives the other); `now`: the domain's instant (an extension is asked for before the
    deadline passes), by default the runtime's clock; `signing`: its 签收 state; `returning`:
    its 退单 facts (without them no return, 改派 or refusal is offered); `callback`: the row's
    回访 state (重办 follows one that found the unit at fault)."""
    if deadline is None and deadline_at is not None:
        deadline = local_date(deadline_at)
    elif deadline_at is None and deadline is not None:
        deadline_at = end_of_day(deadline)
    now = _now(now)
    rel = actor.relation_to(unit)
    ctx = ClueContext(owner=owner, row_deadline=deadline, row_deadline_at=deadline_at, as_of=now, signing=signing,
                      row_extensions=extensions, max_extensions=max_extensions, row_callback=callback)
    out = offered(CLUE_CHART, state, rel, ctx=ctx, kind="clue")
    out += offered(SIGNING_CHART, signing, rel, ctx=SigningContext(clue_state=state), kind="signing")
    if returning is None:
        return out
    if returning.waiting:
        out += [dataclasses.replace(a, trigger=RETURN_ACTIONS[a.trigger])
                for a in offered(RETURN_CHART, "requested", rel, ctx=ReturnContext(), kind="return")]
    elif permits(Who.member, rel) and return_refusal(clue_state=state, as_of=now, return_until=returning.until,
                                                     waiting=False) is None:
        out.append(Action("return", TRIGGER_LABELS["return"]["return"], Who.member.value, ("has_reason",)))
    return out


# -- a clue's time: 延期 asked for and decided, its clock stopped and started ---------------------
# not triggers of the clue chart: the extension chart (a request's decision) and the clock
# chart, offered on the clue's page under their own names
REQUEST_EXTENSION, APPROVE_EXTENSION, REFUSE_EXTENSION = "request_extension", "approve_extension", "refuse_extension"
CLOCK_TRIGGERS = tuple(CLOCK_CHART.triggers)
TIME_TRIGGERS = (REQUEST_EXTENSION, APPROVE_EXTENSION, REFUSE_EXTENSION, *CLOCK_TRIGGERS)


def clue_time_actions(actor: Actor, *, state: str, unit: UnitRef, clock: str, deadline: date | None,
                      deadline_at: datetime | None, waiting: bool, extensions: int, max_extensions: int,
                      now: datetime | None = None) -> list[Action]:
    """The unit (or a supervisor above, on its behalf) asks for 延期 while its deadline runs
    and the plan allows one more (`request_refusal`); the level above decides a waiting
    request (the extension chart's `by`); a supervisor above stops and starts the clock."""
    relation = actor.relation_to(unit)
    labels = TRIGGER_LABELS["extension"]
    out: list[Action] = []
    if waiting:
        for trigger, step in ((APPROVE_EXTENSION, "approve"), (REFUSE_EXTENSION, "refuse")):
            t = next(t for t in EXTENSION_CHART.transitions if t.trigger == step)
            if permits(t.by, relation):
                needs = tuple(g.name for g in t.guards if g.name == "has_reason")
                out.append(Action(trigger, labels[step], t.by.value, needs))
    elif permits(Who.unit, relation) and request_refusal(
            clue_state=state, current=deadline or (local_date(deadline_at) if deadline_at else None),
            current_due=deadline_at or (end_of_day(deadline) if deadline else None), asked=date.max,
            as_of=_now(now), granted_before=extensions, max_extensions=max_extensions) is None:
        out.append(Action(REQUEST_EXTENSION, labels[REQUEST_EXTENSION], Who.unit.value, ("has_until", "has_reason")))
    out += offered(CLOCK_CHART, clock, relation, ctx=ClockContext(clue_state=state), kind="clue_clock")
    return out


def _now(now: datetime | None) -> datetime:
    if now is not None:
        return now
    from .runtime import current  # the clock of this process's runtime (a demo's --now)

    return current().clock()


def case_actions(actor: Actor, *, state: str, unit: UnitRef, level: int, chased: bool) -> list[Action]:
    return offered(CASE_CHART, state, actor.relation_to(unit), ctx=CaseContext(level=level, chased=chased),
                   kind="case")


def stage_actions(actor: Actor, *, unit: UnitRef, stages: tuple[str, ...], required: Iterable[str],
                  recorded: Iterable[str]) -> list[Action]:
    """`stages`: the campaign's stage keys in order; `required`/`recorded`: the deliverables
    of the unit's current stage."""
    if not unit.participates or not stages or unit.stage_key is None:
        return []
    return offered(stage_chart(stages), unit.stage_key, actor.relation_to(unit),
                   ctx=StageContext(required=list(required), recorded=set(recorded)), kind="stage")


def round_actions(actor: Actor, *, state: str, organiser: UnitRef) -> list[Action]:
    return offered(ROUND_CHART, state, actor.relation_to(organiser), ctx=RoundContext(), kind="round")


def check_actions(actor: Actor, *, state: str, round_state: str, organiser: UnitRef,
                  team_member: bool) -> list[Action]:
    if round_state != RECORDING_ROUND_STATE:
        return []
    return offered(CHECK_CHART, state, actor.relation_to(organiser, team_member=team_member),
                   ctx=CheckContext(), kind="check", triggers=PERSON_CHECK_TRIGGERS)


def duty_actions(actor: Actor, *, unit: UnitRef, submitted: bool) -> list[Action]:
    """A report owed is submitted once, by the unit or a supervisor above it."""
    if submitted or not permits(Who.unit, actor.relation_to(unit)):
        return []
    return [Action(SUBMIT, TRIGGER_LABELS["duty"][SUBMIT], Who.unit.value)]


# -- one item by its key ------------------------------------------------------------------------
CR = ClueReturn.__table__
C, T, U, E, RD, TM, CK, RS, S, D = (
    Campaign.__table__, Clue.__table__, Unit.__table__, EscalationCase.__table__, InspectionRound.__table__,
    InspectionTeam.__table__, InspectionCheck.__table__, ReportSubmission.__table__, Stage.__table__,
    DeliverableRecord.__table__)
ER = ExtensionRequest.__table__


def _max_extensions(conn: Connection, campaign_id: int) -> int:
    # the plan's clues.max_extensions as stored (services/campaigns/load.py writes every default)
    plan = json.loads(conn.execute(select(C.c.plan_json).where(C.c.id == campaign_id)).scalar_one())
    return int(plan["clues"]["max_extensions"])


def allowed_actions(conn: Connection, campaign: str, actor: Actor, item: Item, *,
                    now: datetime | None = None, max_extensions: int | None = None) -> list[Action]:
    """What `actor` may do to `item` (of campaign `campaign`, a code) at `now` (default: the
    runtime's clock); NotFound when there is no such item. `max_extensions`: the plan's, when
    the caller has read the plan already (else read here)."""
    cid = campaign_row(conn, campaign).id
    if isinstance(item, ClueItem):
        row = conn.execute(select(T.c.id, T.c.state, T.c.owner, T.c.unit_id, T.c.deadline, T.c.deadline_at,
                                  T.c.signing, T.c.assigned_at, T.c.received_at, T.c.clock, T.c.extension_count,
                                  T.c.callback)
                           .where(T.c.campaign_id == cid, T.c.number == item.number)).first()
        if row is None:
            raise NotFound(f"unknown clue '{item.number}'")
        unit = unit_by_id(conn, row.unit_id)
        limit = max_extensions if max_extensions is not None else _max_extensions(conn, cid)
        waiting = conn.execute(select(ER.c.id).where(ER.c.clue_id == row.id, ER.c.state == "requested")
                               ).first() is not None
        return [*clue_actions(actor, state=row.state, unit=unit, owner=row.owner, deadline=row.deadline,
                              deadline_at=row.deadline_at, now=now, signing=row.signing,
                              returning=returning_of(conn, cid, row), extensions=row.extension_count,
                              max_extensions=limit, callback=row.callback),
                *clue_time_actions(actor, state=row.state, unit=unit, clock=row.clock, deadline=row.deadline,
                                   deadline_at=row.deadline_at, waiting=waiting, extensions=row.extension_count,
                                   max_extensions=limit, now=now)]
    if isinstance(item, CaseItem):
        row = conn.execute(select(E.c.state, E.c.level, E.c.chased_at, E.c.unit_id)
                           .where(E.c.campaign_id == cid, E.c.id == item.id)).first()
        if row is None:
            raise NotFound(f"unknown case {item.id}")
        return case_actions(actor, state=row.state, unit=unit_by_id(conn, row.unit_id), level=row.level,
                            chased=row.chased_at is not None)
    if isinstance(item, StageItem):
        unit = unit_by_code(conn, cid, item.unit)
        stages = _stages(conn, cid)
        required = [d["key"] for d in stages.get(unit.stage_key, ())]
        recorded = conn.execute(select(D.c.key).where(D.c.unit_id == unit.id, D.c.stage_key == unit.stage_key)
                                ).scalars().all()
        return stage_actions(actor, unit=unit, stages=tuple(stages), required=required, recorded=recorded)
    if isinstance(item, RoundItem):
        row = _round(conn, cid, item.code)
        return round_actions(actor, state=row.state, organiser=unit_by_id(conn, row.organiser_unit_id))
    if isinstance(item, CheckItem):
        rnd = _round(conn, cid, item.round)
        match = T.c.number == item.ref
        if (check_id := as_id(item.ref)) is not None:
            match = match | (CK.c.id == check_id)
        row = conn.execute(select(CK.c.state, TM.c.members_json).join(T, T.c.id == CK.c.clue_id)
                           .outerjoin(TM, TM.c.id == CK.c.team_id)
                           .where(CK.c.round_id == rnd.id, match)).first()
        if row is None:
            raise NotFound(f"round {item.round} has no check of '{item.ref}'")
        members = json.loads(row.members_json) if row.members_json else []
        return check_actions(actor, state=row.state, round_state=rnd.state,
                             organiser=unit_by_id(conn, rnd.organiser_unit_id),
                             team_member=actor.username in members)
    if isinstance(item, DutyItem):
        unit = unit_by_code(conn, cid, item.unit)
        done = conn.execute(select(RS.c.id).where(and_(RS.c.unit_id == unit.id, RS.c.duty_key == item.duty,
                                                       RS.c.period == item.period))).first()
        return duty_actions(actor, unit=unit, submitted=done is not None)
    raise TypeError(f"not an item: {item!r}")


def returning_of(conn: Connection, campaign_id: int, row) -> Returning:
    """A clue's 退单 facts from its row (id, assigned_at, received_at): the plan's window counted
    on this process's calendar, and whether a return waits."""
    from .runtime import current

    stored = conn.execute(select(C.c.plan_json).where(C.c.id == campaign_id)).scalar_one()
    rules = ClueRules.model_validate(json.loads(stored).get("clues") or {})
    until = span_end(current().calendar, row.assigned_at or row.received_at, return_span(rules))
    waiting = conn.execute(select(CR.c.id).where(CR.c.clue_id == row.id, CR.c.state == "requested")).first()
    return Returning(until, waiting is not None)


def _round(conn: Connection, campaign_id: int, code: str):
    row = conn.execute(select(RD.c.id, RD.c.state, RD.c.organiser_unit_id)
                       .where(RD.c.campaign_id == campaign_id, RD.c.code == code)).first()
    if row is None:
        raise NotFound(f"unknown round '{code}'")
    return row


def _stages(conn: Connection, campaign_id: int) -> Mapping[str, list[dict]]:
    """stage key → its deliverables, in the plan's order."""
    return {r.key: json.loads(r.deliverables_json or "[]")
            for r in conn.execute(select(S.c.key, S.c.deliverables_json)
                                  .where(S.c.campaign_id == campaign_id).order_by(S.c.idx))}

