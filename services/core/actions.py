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

from models.tables import (Campaign, Clue, DeliverableRecord, EscalationCase, InspectionCheck, InspectionRound,
                           InspectionTeam, ReportSubmission, Stage, Unit)
from statemachine.authority import Relation, Who, permits
from statemachine.charts.clue import CLUE_CHART, ClueContext
from statemachine.charts.labels import TRIGGER_LABELS
from statemachine.charts.ladder import CASE_CHART, CaseContext
from statemachine.charts.lookback import CHECK_CHART, OUTCOMES, ROUND_CHART, CheckContext, RoundContext
from statemachine.charts.table import Chart
from statemachine.charts.unit_stage import StageContext, stage_chart
from statemachine.errors import NotFound
from statemachine.time.calendar import end_of_day, local_date

from .directory import Actor, UnitRef, campaign_row, unit_by_code, unit_by_id
from .refs import as_id

__all__ = ["Action", "ClueItem", "CaseItem", "StageItem", "RoundItem", "CheckItem", "DutyItem", "Item",
           "allowed_actions", "offered", "clue_actions", "case_actions", "stage_actions", "round_actions",
           "check_actions", "duty_actions", "TRIGGER_LABELS", "PERSON_CHECK_TRIGGERS", "RECORDING_ROUND_STATE",
           "SUBMIT"]


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
def clue_actions(actor: Actor, *, state: str, unit: UnitRef, owner: str | None = None,
                 deadline: date | None = None, deadline_at: datetime | None = None,
                 now: datetime | None = None, callback: str = "none") -> list[Action]:
    """`deadline`, `deadline_at`: the clue's running deadline (its day, and the instant it ends:
    either gives the other); `now`: the domain's instant (an extension is asked for before the
    deadline passes), by default the runtime's clock; `callback`: the row's 回访 state (重办
    follows one that found the unit at fault)."""
    if deadline is None and deadline_at is not None:
        deadline = local_date(deadline_at)
    elif deadline_at is None and deadline is not None:
        deadline_at = end_of_day(deadline)
    ctx = ClueContext(owner=owner, row_deadline=deadline, row_deadline_at=deadline_at, as_of=_now(now),
                      row_callback=callback)
    return offered(CLUE_CHART, state, actor.relation_to(unit), ctx=ctx, kind="clue")


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
C, T, U, E, RD, TM, CK, RS, S, D = (
    Campaign.__table__, Clue.__table__, Unit.__table__, EscalationCase.__table__, InspectionRound.__table__,
    InspectionTeam.__table__, InspectionCheck.__table__, ReportSubmission.__table__, Stage.__table__,
    DeliverableRecord.__table__)


def allowed_actions(conn: Connection, campaign: str, actor: Actor, item: Item, *,
                    now: datetime | None = None) -> list[Action]:
    """What `actor` may do to `item` (of campaign `campaign`, a code) at `now` (default: the
    runtime's clock); NotFound when there is no such item."""
    cid = campaign_row(conn, campaign).id
    if isinstance(item, ClueItem):
        row = conn.execute(select(T.c.state, T.c.owner, T.c.unit_id, T.c.deadline, T.c.deadline_at, T.c.callback)
                           .where(T.c.campaign_id == cid, T.c.number == item.number)).first()
        if row is None:
            raise NotFound(f"unknown clue '{item.number}'")
        return clue_actions(actor, state=row.state, unit=unit_by_id(conn, row.unit_id), owner=row.owner,
                            deadline=row.deadline, deadline_at=row.deadline_at, now=now, callback=row.callback)
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

