"""The contract of the one persisted transition (services/core/persisted.py), per chart:
for every (state, trigger), and for every (actor's relation to the unit × trigger),
one row (`fire_one`) and a set (`fire_set`) agree — both move the row to the same
state writing the same columns and the same audit record, or both leave it alone —
on SQLite and PostgreSQL.

Each case makes two identical rows, fires the single path on one and the set path
on the other, and compares; all inside one unit of work that is never committed.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

import pytest
from sqlalchemy import insert, select

from types import SimpleNamespace

from models.tables import (Clue, DeliverableRecord, EscalationCase, ExtensionRequest, InspectionCheck,
                           InspectionRound, Unit, User)
from services.campaigns.load import campaign_id, stages_of
from services.campaigns.units import stages_chart
from services.clues.chart import CLUES, ClueInput
from services.clues.extensions import EXTENSIONS
from services.clues.suspension import CLOCKS
from services.core.directory import SYSTEM, actor as lookup_actor, unit_by_code
from services.core.persisted import PersistedChart, fire_one, fire_set
from services.core.uow import UnitOfWork, unit_of_work
from services.ladder.cases import CASES, CaseInput
from services.lookback.charts import CHECKS, ROUNDS
from statemachine.authority import Who
from statemachine.charts.clock import ClockContext
from statemachine.charts.extension import ExtensionContext
from statemachine.charts.lookback import CheckContext, RoundContext
from statemachine.charts.unit_stage import StageContext
from statemachine.time.deadlines import DeadlineLimit
from statemachine.errors import ConflictError, GuardRefused, InvalidTransition, PermissionDenied
from statemachine.time.calendar import end_of_day, local_date

from ..conftest import at

NOW = at("2023-05-20 10:00")
# the deadlines that may be set on NOW's day (statemachine/time/deadlines.py), as the clue use cases give it
LIMIT = DeadlineLimit(date(2023, 5, 20), date(2023, 8, 31), 70)
ROW_DEADLINE = date(2023, 6, 1)  # a full row's running deadline: an extension to 6-30 is in time
# who acts on items of 甲县 (county-a), one per relation the tree offers, and the nightly job
ACTORS = {
    "off.a": "own unit, not a supervisor",
    "sup.a": "own unit, supervisor",
    "sup.city": "a unit above, supervisor",
    "insp.city": "a unit above, not a supervisor",
    "off.b": "a sibling unit",
    "sup.b": "a sibling unit, supervisor",
    "off.c1": "a unit below",
    None: "the nightly job",
}
IGNORED = {"id", "number", "key", "open_key", "code", "name", "path", "clue_id"}  # differs between the two rows by design


@dataclass
class Harness:
    """One chart's rows: how to make one in a state, and the context its guards read."""

    pc: PersistedChart
    make: Callable[[UnitOfWork, Any, bool], int]     # (uow, state, full facts) → id
    ctx: Callable[[Any, Any, bool], Any]              # (row, actor, full input) → guard context
    data: Callable[[bool], Any]                       # full input → what the trigger is given
    unit_of: Callable[[UnitOfWork, Any], Any]         # the UnitRef authority is judged against


def _row(uow, pc, rid):
    return uow.conn.execute(select(pc.table).where(pc.table.c.id == rid)).one()


def _outcome(uow: UnitOfWork, h: Harness, rid: int, trigger: str, actor, full: bool, single: bool):
    """('moved', row, audit) or ('left', None, None)."""
    pc = h.pc
    row = _row(uow, pc, rid)
    before = len(uow._pending.records.get(uow.cid, []))
    try:
        with uow.item():
            if single:
                fire_one(uow, pc, row, trigger, actor=actor, now=NOW, campaign_id=uow.cid,
                         ctx=h.ctx(row, actor, full), data=h.data(full), unit=h.unit_of(uow, row))
            else:
                # a check's set is always one round's: the actor's relation to its organiser
                # is the same for every row, as services/lookback/closing.py gives it
                uniform = dict(relation=actor.relation_to(uow.county_a), unit=uow.county_a) \
                    if pc is CHECKS and actor is not None else {}
                moved = fire_set(uow, pc, trigger, actor=actor, now=NOW, campaign_id=uow.cid,
                                 where=[pc.table.c.id == rid], ctx=h.ctx(None, actor, full),
                                 data=h.data(full), **uniform)
                if not moved:
                    return ("left", None, None)
    except (PermissionDenied, InvalidTransition, GuardRefused, ConflictError):
        return ("left", None, None)
    after = _row(uow, pc, rid)
    audit = dict(uow._pending.records[uow.cid][before])
    audit.pop("entity_id")
    if pc.unit_column == "id":  # a unit's own record names the unit itself
        audit.pop("unit_id")
    return ("moved", {k: v for k, v in after._mapping.items() if k not in IGNORED}, audit)


def _agree(uow: UnitOfWork, h: Harness, state, trigger: str, actor, full: bool) -> str:
    a = _outcome(uow, h, h.make(uow, state, full), trigger, actor, full, single=True)
    b = _outcome(uow, h, h.make(uow, state, full), trigger, actor, full, single=False)
    assert a == b, (f"{h.pc.chart.name}: {state} --{trigger}--> by {actor and actor.username} "
                    f"(full input: {full}): one row {a[0]}, a set {b[0]}\n{a}\n{b}")
    return a[0]


# -- the rows of each chart ---------------------------------------------------------------
_seq = itertools.count(1)


def _clue(uow, state, full, *, clock: str = "running"):
    n = next(_seq)
    return uow.conn.execute(insert(Clue.__table__).values(
        campaign_id=uow.cid, number=f"T-{n:05d}", kind="clue", channel="12345", aspect_key="profit",
        summary="罚款不开票", unit_id=uow.county_a.id, state=state.value, clock=clock,
        received_at=at("2023-05-01"),
        verify_due_at=at("2023-05-15"), owner="赵书涵" if full else None, reopen_count=0, reject_count=0,
        deadline=ROW_DEADLINE if full else None, deadline_at=end_of_day(ROW_DEADLINE) if full else None,
        updated_at=at("2023-05-01"), updated_by="off.a", version=3)
        .returning(Clue.id)).scalar_one()


def _clock(uow, state, full):
    # the clock's state is a clue's `clock`; without full facts the clue is closed (no clock runs)
    clue_state = CLUES.chart.coerce("rectifying" if full else "closed")
    return _clue(uow, clue_state, True, clock=state.value)


def _extension(uow, state, full):
    clue_id = _clue(uow, CLUES.chart.coerce("rectifying"), True)
    return uow.conn.execute(insert(ExtensionRequest.__table__).values(
        campaign_id=uow.cid, clue_id=clue_id, unit_id=uow.county_a.id, state=state.value, reason="汛期施工受阻",
        asked=date(2023, 6, 30), previous=ROW_DEADLINE, requested_by="off.a", requested_at=at("2023-05-10"),
        updated_at=at("2023-05-10"), updated_by="off.a", version=1).returning(ExtensionRequest.id)).scalar_one()


def _case(level):
    def make(uow, state, full):
        n = next(_seq)
        return uow.conn.execute(insert(EscalationCase.__table__).values(
            campaign_id=uow.cid, unit_id=uow.county_a.id, level=level, state=state.value, cause="manual",
            key=f"t:{n}", automatic=False, reason="逾期未整改", proposed_by="sup.city",
            proposed_at=at("2023-05-01"), chased_at=None if full else at("2023-05-10"),
            response_due_at=at("2023-05-10"), updated_at=at("2023-05-01"), updated_by="sup.city",
            version=2).returning(EscalationCase.id)).scalar_one()
    return make


def _unit(uow, state, full):
    n = next(_seq)
    uid = uow.conn.execute(insert(Unit.__table__).values(
        campaign_id=uow.cid, code=f"t-{n}", name=f"测试单位{n}", level="team", parent_id=uow.county_a.id,
        path="", participates=True, stage_key=state.value, liaison_json="null", leader_json="null",
        version=2).returning(Unit.id)).scalar_one()
    uow.conn.execute(Unit.__table__.update().where(Unit.id == uid).values(path=f"{uow.county_a.path}{uid}/"))
    if full:  # every deliverable of the stage recorded
        for key in uow.stages[state.value].deliverables if state.value in uow.stages else []:
            uow.conn.execute(insert(DeliverableRecord.__table__).values(
                campaign_id=uow.cid, unit_id=uid, stage_key=state.value, key=key["key"],
                recorded_by="off.a", recorded_at=at("2023-05-01"), attachment="a.pdf"))
    return uid


def _round(uow, state, full):
    n = next(_seq)
    return uow.conn.execute(insert(InspectionRound.__table__).values(
        campaign_id=uow.cid, code=f"r-{n}", title="回头看", kind="look_back", state=state.value,
        organiser_unit_id=uow.county_a.id, scope_unit_id=uow.county_a.id, spec_json="{}", seed="1",
        deadline=date(2023, 6, 30), deadline_at=at("2023-06-30"), candidates=0, selected=0,
        created_by="sup.a", created_at=at("2023-05-01"), updated_at=at("2023-05-01"), updated_by="sup.a",
        version=2).returning(InspectionRound.id)).scalar_one()


def _check(uow, state, full):
    return uow.conn.execute(insert(InspectionCheck.__table__).values(
        round_id=uow.round_id, clue_id=_clue(uow, CLUES.chart.state_list[5], True), unit_id=uow.county_a.id, state=state.value,
        version=2).returning(InspectionCheck.id)).scalar_one()


FULL_CLUE = ClueInput(reason="核实", measures="退还罚款", deadline=date(2023, 6, 30), owner="赵书涵",
                      evidence="整改报告.pdf", stage_result="已整改过半", long_term_measure="建立长效机制",
                      max_extensions=1)
# a decision on an extension request: an earlier date than asked, with a note
FULL_DECISION = SimpleNamespace(granted=date(2023, 6, 20), reason="同意延期")
FULL_CASE = CaseInput(reason="r", minutes="约谈记录", report_due=date(2023, 6, 1), response="整改报告",
                      note="核实", decision="exempt", grounds="三个区分开来", receiving_organ="市纪委监委",
                      follow_up="立案")


def harnesses(uow: UnitOfWork, level: int = 3) -> dict[str, Harness]:
    county_a = lambda uow, row: uow.county_a  # noqa: E731
    return {
        "clue": Harness(CLUES, _clue,
                        lambda row, actor, full: (FULL_CLUE if full else ClueInput()).context(
                            actor=actor.username if actor else SYSTEM, actor_unit=actor and actor.unit.id,
                            owner_unit=row and row.unit_id, row_owner=row and row.owner, limit=LIMIT, as_of=NOW,
                            row_deadline=row and row.deadline, row_deadline_at=row and row.deadline_at,
                            row_received=row and local_date(row.received_at),
                            row_extensions=row and row.extension_count),
                        lambda full: FULL_CLUE if full else ClueInput(), county_a),
        "clock": Harness(CLOCKS, _clock,
                         lambda row, actor, full: ClockContext(reason="等待司法裁判" if full else None,
                                                               clue_state=row and row.state),
                         lambda full: None, county_a),
        "extension": Harness(EXTENSIONS, _extension,
                             lambda row, actor, full: ExtensionContext(
                                 reason=FULL_DECISION.reason, asked=row and row.asked,
                                 granted=FULL_DECISION.granted, current=ROW_DEADLINE) if full
                             else ExtensionContext(asked=row and row.asked, current=ROW_DEADLINE),
                             lambda full: FULL_DECISION if full else SimpleNamespace(granted=None, reason=None),
                             county_a),
        "case": Harness(CASES, _case(level),
                        lambda row, actor, full: (FULL_CASE if full else CaseInput()).context(
                            level, chased=bool(row is not None and row.chased_at is not None)),
                        lambda full: FULL_CASE if full else CaseInput(), county_a),
        "unit-stage": Harness(uow.stage_pc, _unit,
                              lambda row, actor, full: StageContext(
                                  required=[d["key"] for d in uow.stages[row.stage_key].deliverables]
                                  if row is not None and row.stage_key in uow.stages else [],
                                  recorded=_recorded(uow, row)),
                              lambda full: None,
                              lambda uow, row: uow.unit_ref(row.id)),
        "round": Harness(ROUNDS, _round, lambda row, actor, full: RoundContext(reason="r" if full else None),
                         lambda full: None, county_a),
        "check": Harness(CHECKS, _check,
                         lambda row, actor, full: CheckContext(
                             method="random", inspector="吴海峰", findings="问题反弹", checked_on=date(2023, 5, 19),
                             reason="更正") if full else CheckContext(),
                         lambda full: None, county_a),
    }


def _recorded(uow, row) -> set[str]:
    if row is None:
        return set()
    return set(uow.conn.execute(select(DeliverableRecord.key).where(
        DeliverableRecord.unit_id == row.id, DeliverableRecord.stage_key == row.stage_key)).scalars())


@pytest.fixture
def uow(engine, campaign):
    from services.core.directory import unit_ref

    cid = campaign_id(engine, campaign)
    with engine.begin() as conn:  # a supervisor of a sibling unit, which the small plan lacks
        b = conn.execute(select(Unit.id).where(Unit.code == "county-b")).scalar_one()
        conn.execute(insert(User.__table__).values(campaign_id=cid, username="sup.b", name="冯子墨", unit_id=b,
                                                   role="supervisor"))
    with unit_of_work(engine) as u:
        u.cid = cid
        u.county_a = unit_by_code(u.conn, cid, "county-a")
        u.actors = {name: lookup_actor(u.conn, cid, name) if name else None for name in ACTORS}
        u.stages = {s.key: s for s in stages_of(u.conn, cid)}
        u.stage_pc = stages_chart(u.stages)
        u.unit_ref = lambda uid: unit_ref(u.conn.execute(select(Unit.__table__).where(Unit.id == uid)).one())
        u.round_id = _round(u, ROUNDS.chart.state_list[1], True)
        yield u  # never committed


CHARTS = ["clue", "case", "unit-stage", "round", "check", "clock", "extension"]


def _natural_actor(uow, who: Who):
    """Someone the chart lets fire a trigger of this kind, for the sweep over states."""
    return {Who.unit: uow.actors["sup.city"], Who.supervisor: uow.actors["sup.city"],
            Who.organiser: uow.actors["sup.a"], Who.inspector: uow.actors["sup.a"],
            Who.system: None}[who]


@pytest.mark.parametrize("chart", CHARTS)
def test_one_row_and_a_set_agree_for_every_state_and_trigger(uow, chart):
    moved = left = 0
    for level in (1, 2, 3, 4, 5) if chart == "case" else (3,):
        h = harnesses(uow, level)[chart]
        level_guarded = {t.trigger for t in h.pc.chart.transitions
                         if any(g.row_in and g.row_in[0] == "level" for g in t.guards)}
        for state, trigger, full in itertools.product(h.pc.chart.state_list, h.pc.chart.triggers, (True, False)):
            if level != 3 and (trigger not in level_guarded or not full):
                continue  # a case's level matters to the triggers guarded on it
            actor = _natural_actor(uow, h.pc.chart.who(trigger))
            if _agree(uow, h, state, trigger, actor, full) == "moved":
                moved += 1
            else:
                left += 1
    assert moved and left  # both outcomes were exercised


@pytest.mark.parametrize("chart", CHARTS)
def test_one_row_and_a_set_agree_for_every_relation_and_trigger(uow, chart):
    h = harnesses(uow)[chart]
    outcomes = {}
    for trigger in h.pc.chart.triggers:
        if chart == "check" and h.pc.chart.who(trigger) is Who.inspector:
            continue  # a team is not in the tree: recording is one check at a time (round_checks)
        source = next(s for s in h.pc.chart.state_list if h.pc.chart.find(s, trigger))
        for name in ACTORS:
            outcomes[(trigger, name)] = _agree(uow, h, source, trigger, uow.actors[name], True)
    # and the tree decides: the chart's `who` for each trigger, whoever the actor is
    for (trigger, name), outcome in outcomes.items():
        if name is None:
            continue
        actor = uow.actors[name]
        allowed = actor.may(h.pc.chart.who(trigger), uow.county_a)
        if not allowed:
            assert outcome == "left", (trigger, name)
