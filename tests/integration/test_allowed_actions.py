"""services/core/actions.py offers an action exactly when the use case would take it.

For every chart, every state, every trigger and every relation of a person to the
item's unit (own unit, a supervisor of it, a supervisor above, a non-supervisor
above, a sibling, a sibling's supervisor, a unit below, a team member): the action
is offered ⇔ firing it through the real use case, with complete input, moves the
item (no PermissionDenied, InvalidTransition, GuardRefused or InvalidInput). Each
case runs in a savepoint that is rolled back, inside one unit of work that is never
committed, on SQLite and PostgreSQL.
"""
from __future__ import annotations

import itertools
import json
from datetime import date

import pytest
from sqlalchemy import insert, select, update

from models.tables import (Clue, ClueCallback, DeliverableRecord, EscalationCase, InspectionCheck, InspectionRound,
                           InspectionTeam, Unit, User)
from services.campaigns.load import campaign_id, stages_of
from services.campaigns.units import advance
from services.clues.callbacks import redo
from services.clues.lifecycle import ClueInput, transition
from services.clues.merging import merge
from services.core.actions import (CaseItem, CheckItem, ClueItem, DutyItem, RoundItem, StageItem,
                                   allowed_actions)
from services.core.directory import actor as lookup_actor, unit_by_code
from services.core.uow import unit_of_work
from services.ladder.cases import CaseInput, fire
from services.lookback.checks import CheckInput, record_check, revise_check
from services.lookback.rounds import fire_round, load_round, plan_round
from services.reports.duties import submit
from statemachine.charts.clue import CLUE_CHART, ClueState
from statemachine.charts.ladder import CASE_CHART, CaseState
from statemachine.charts.lookback import CHECK_CHART, OUTCOMES, ROUND_CHART, CheckState, RoundState
from statemachine.charts.unit_stage import COMPLETED
from statemachine.errors import ConflictError, GuardRefused, InvalidInput, InvalidTransition, PermissionDenied
from statemachine.lookback.spec import RoundSpec

from statemachine.time.calendar import end_of_day

from ..conftest import at

NOW = at("2023-05-20 10:00")
# everyone's relation to 甲县 (county-a), whose items these are
ACTORS = ("off.a", "sup.a", "sup.city", "insp.city", "off.b", "sup.b", "off.c1", "insp.b")
FULL_CLUE = ClueInput(reason="核实", measures="退还罚款", deadline=date(2023, 6, 30), owner="赵书涵",
                      evidence="整改报告.pdf", stage_result="已整改过半", long_term_measure="建立长效机制")
FULL_CASE = CaseInput(reason="逾期未整改", minutes="约谈记录", report_due=date(2023, 6, 1), response="整改报告",
                      note="核实", decision="exempt", grounds="三个区分开来", receiving_organ="市纪委监委",
                      follow_up="立案")
OUTCOME_OF = {t: o for o, t in OUTCOMES.items()}
REFUSED = (PermissionDenied, InvalidTransition, GuardRefused, InvalidInput, ConflictError)


class _Undo(Exception):
    """Raised after a firing that moved, to roll its savepoint back."""


def _moves(uow, fire_it) -> bool:
    try:
        with uow.item():
            fire_it()
            raise _Undo
    except _Undo:
        return True
    except REFUSED:
        return False


def _offered(uow, campaign, name, item) -> set[str]:
    return {a.trigger for a in allowed_actions(uow.conn, campaign, uow.actors[name], item, now=NOW)}


@pytest.fixture
def uow(engine, campaign):
    cid = campaign_id(engine, campaign)
    with engine.begin() as conn:  # a supervisor of a sibling unit, which the small plan lacks
        b = conn.execute(select(Unit.id).where(Unit.code == "county-b")).scalar_one()
        conn.execute(insert(User.__table__).values(campaign_id=cid, username="sup.b", name="冯子墨", unit_id=b,
                                                   role="supervisor"))
    with unit_of_work(engine) as u:
        u.cid, u.campaign = cid, campaign
        u.county_a = unit_by_code(u.conn, cid, "county-a")
        u.actors = {name: lookup_actor(u.conn, cid, name) for name in ACTORS}
        yield u  # never committed


_seq = itertools.count(1)


# a clue's rectification deadline: none, running at NOW, or passed (an extension is asked for in time)
DEADLINES = {"none": None, "running": date(2023, 6, 15), "passed": date(2023, 5, 19)}


def _clue(uow, state: str, deadline: date | None = None) -> str:
    number = f"T-{next(_seq):05d}"
    uow.conn.execute(insert(Clue.__table__).values(
        campaign_id=uow.cid, number=number, kind="clue", channel="12345", aspect_key="profit",
        summary="罚款不开票", unit_id=uow.county_a.id, state=state, received_at=at("2023-05-01"),
        verify_due_at=at("2023-05-15"), owner=None, reopen_count=0, reject_count=0,
        deadline=deadline, deadline_at=end_of_day(deadline) if deadline else None,
        updated_at=at("2023-05-01"), updated_by="off.a", version=1))
    return number


def _fire_clue(uow, number: str, trigger: str, name: str):
    """A trigger through the use case that fires it: 合并 and 重办 have their own (they move the
    sources, mark the callback), the rest the generic transition."""
    if trigger == "merge":
        return merge(uow, uow.campaign, number, into=_clue(uow, "received"), reason="同一事项", actor=name, now=NOW)
    if trigger == "redo":
        return redo(uow, uow.campaign, number, reason="群众不满意", actor=name, now=NOW)
    return transition(uow, uow.campaign, number, trigger, actor=name, now=NOW, data=FULL_CLUE)


@pytest.mark.parametrize("callback", ["owed", "at_fault"])
def test_redo_is_offered_exactly_when_it_fires(uow, callback):
    seen = {True: 0, False: 0}
    for name in ACTORS:
        def case():
            number = _clue(uow, "closed")
            uow.conn.execute(update(Clue.__table__).where(Clue.number == number).values(callback=callback))
            clue_id = uow.conn.execute(select(Clue.id).where(Clue.number == number)).scalar_one()
            if callback == "at_fault":
                uow.conn.execute(insert(ClueCallback.__table__).values(
                    campaign_id=uow.cid, clue_id=clue_id, unit_id=uow.county_a.id, owed_by_unit_id=uow.county_a.id,
                    result="dissatisfied", unit_at_fault=True, at=NOW, by="sup.city", on_time=True, redo=False))
            offered = "redo" in _offered(uow, uow.campaign, name, ClueItem(number))
            moved = _moves(uow, lambda: _fire_clue(uow, number, "redo", name))
            assert offered == moved, f"clue closed (callback {callback}) --redo--> by {name}"
            seen[moved] += 1
        _in_savepoint(uow, case)
    assert seen[callback == "at_fault"]


@pytest.mark.parametrize("deadline", list(DEADLINES))
def test_a_clue_action_is_offered_exactly_when_it_fires(uow, deadline):
    seen = {True: 0, False: 0}
    for state, trigger, name in itertools.product(ClueState, CLUE_CHART.triggers, ACTORS):
        def case():
            number = _clue(uow, state.value, DEADLINES[deadline])
            offered = trigger in _offered(uow, uow.campaign, name, ClueItem(number))
            moved = _moves(uow, lambda: _fire_clue(uow, number, trigger, name))
            assert offered == moved, (f"clue {state.value} (deadline {deadline}) --{trigger}--> by {name}: "
                                      f"offered {offered}, moved {moved}")
            seen[moved] += 1
        _in_savepoint(uow, case)
    assert seen[True] and seen[False]


def test_a_clue_offers_its_responsible_person_as_a_need_until_it_has_one(uow):
    def case():
        number = _clue(uow, "verifying")
        act = {a.trigger: a for a in allowed_actions(uow.conn, uow.campaign, uow.actors["off.a"], ClueItem(number), now=NOW)}
        assert act["substantiate"].needs == ("has_measures", "has_deadline", "deadline_within_limit", "has_owner")
        assert act["substantiate"].label == "查实"
        uow.conn.execute(update(Clue.__table__).where(Clue.number == number).values(owner="赵书涵"))
        act = {a.trigger: a for a in allowed_actions(uow.conn, uow.campaign, uow.actors["off.a"], ClueItem(number), now=NOW)}
        assert act["substantiate"].needs == ("has_measures", "has_deadline", "deadline_within_limit")
    _in_savepoint(uow, case)


def _case(uow, state: str, level: int, chased: bool) -> int:
    return uow.conn.execute(insert(EscalationCase.__table__).values(
        campaign_id=uow.cid, unit_id=uow.county_a.id, level=level, state=state, cause="manual",
        key=f"t:{next(_seq)}", automatic=False, reason="逾期未整改", proposed_by="sup.city",
        proposed_at=at("2023-05-01"), chased_at=at("2023-05-10") if chased else None,
        response_due_at=at("2023-05-10"), updated_at=at("2023-05-01"), updated_by="sup.city",
        version=1).returning(EscalationCase.id)).scalar_one()


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_a_case_action_is_offered_exactly_when_it_fires(uow, calendar, level):
    # every relation at level 3; at the others, the levels' own steps by everyone who could take them
    actors = ACTORS if level == 3 else ("sup.city", "off.a", "sup.a")
    seen = {True: 0, False: 0}
    for state, trigger, name in itertools.product(CaseState, CASE_CHART.triggers, actors):
        def case():
            case_id = _case(uow, state.value, level, chased=False)
            offered = trigger in _offered(uow, uow.campaign, name, CaseItem(case_id))
            moved = _moves(uow, lambda: fire(uow, uow.campaign, case_id, trigger, actor=name, now=NOW,
                                             calendar=calendar, data=FULL_CASE))
            assert offered == moved, (f"case (level {level}) {state.value} --{trigger}--> by {name}: "
                                      f"offered {offered}, moved {moved}")
            seen[moved] += 1
        _in_savepoint(uow, case)
    assert seen[True] and seen[False]


@pytest.mark.parametrize("recorded", [True, False], ids=["deliverables-in", "deliverables-missing"])
def test_advancing_a_stage_is_offered_exactly_when_it_advances(uow, recorded):
    stages = stages_of(uow.conn, uow.cid)
    for stage, name in itertools.product([*(s.key for s in stages), COMPLETED], ACTORS):
        def case():
            uow.conn.execute(update(Unit.__table__).where(Unit.id == uow.county_a.id).values(stage_key=stage))
            wanted = next((s.deliverables for s in stages if s.key == stage), [])
            for d in wanted if recorded else []:
                uow.conn.execute(insert(DeliverableRecord.__table__).values(
                    campaign_id=uow.cid, unit_id=uow.county_a.id, stage_key=stage, key=d["key"],
                    recorded_by="off.a", recorded_at=at("2023-05-01"), attachment="a.pdf"))
            offered = "advance" in _offered(uow, uow.campaign, name, StageItem("county-a"))
            moved = _moves(uow, lambda: advance(uow, uow.campaign, "county-a", actor=name, now=NOW))
            assert offered == moved, f"stage {stage} (deliverables in: {recorded}) by {name}: {offered} {moved}"
        _in_savepoint(uow, case)


def _round(uow, state: str) -> str:
    code = f"r-{next(_seq)}"
    s = RoundSpec.model_validate(dict(code=code, title="专项整治问题整改“回头看”", scope="county-a",
                                      deadline="2023-09-15", selection={"mode": "all"},
                                      teams=[{"code": "t2", "name": "第二督察组", "members": ["insp.b"]}]))
    plan_round(uow, uow.campaign, s, actor="sup.a", now=at("2023-05-01"))
    uow.conn.execute(update(InspectionRound.__table__).where(InspectionRound.code == code)
                     .values(state=state, opened_at=at("2023-05-01")))
    return code


def test_a_round_action_is_offered_exactly_when_it_fires(uow):
    for state, trigger, name in itertools.product(RoundState, ROUND_CHART.triggers, ACTORS):
        def case():
            code = _round(uow, state.value)
            offered = trigger in _offered(uow, uow.campaign, name, RoundItem(code))
            moved = _moves(uow, lambda: fire_round(uow, load_round(uow.conn, uow.cid, code), trigger,
                                                   actor=uow.actors[name], now=NOW, reason="改期"))
            assert offered == moved, f"round {state.value} --{trigger}--> by {name}: {offered} {moved}"
        _in_savepoint(uow, case)


def _check(uow, code: str, state: str) -> str:
    rnd = load_round(uow.conn, uow.cid, code)
    team = uow.conn.execute(select(InspectionTeam.id).where(InspectionTeam.round_id == rnd.id)).scalar_one()
    number = _clue(uow, "closed")
    clue_id = uow.conn.execute(select(Clue.id).where(Clue.number == number)).scalar_one()
    uow.conn.execute(insert(InspectionCheck.__table__).values(
        round_id=rnd.id, clue_id=clue_id, unit_id=uow.county_a.id, team_id=team, state=state, version=1))
    return number


@pytest.mark.parametrize("round_state", ["open", "closing"])
def test_a_check_action_is_offered_exactly_when_it_is_recorded(uow, calendar, round_state):
    person = sorted(OUTCOMES.values()) + ["revise"]
    seen = {True: 0, False: 0}
    for state, trigger, name in itertools.product(CheckState, CHECK_CHART.triggers, ACTORS):
        def case():
            code = _round(uow, round_state)
            number = _check(uow, code, state.value)
            offered = trigger in _offered(uow, uow.campaign, name, CheckItem(code, number))
            if trigger not in person:  # missed and cancelled by closing or cancelling the round
                assert not offered, f"check {state.value}: {trigger} is the round's, offered to {name}"
                return
            if trigger == "revise":
                moved = _moves(uow, lambda: revise_check(uow, uow.campaign, code, number, actor=name, now=NOW,
                                                         reason="记录有误"))
            else:
                moved = _moves(uow, lambda: record_check(
                    uow, uow.campaign, code, number, OUTCOME_OF[trigger], actor=name, now=NOW, calendar=calendar,
                    data=CheckInput(method="随机抽查", findings="问题反弹", checked_on=date(2023, 5, 19))))
            assert offered == moved, f"check {state.value} --{trigger}--> by {name} ({round_state}): {offered} {moved}"
            seen[moved] += 1
        _in_savepoint(uow, case)
    assert seen[False] and (seen[True] or round_state != "open")


def test_a_report_owed_is_offered_to_submit_exactly_when_it_may_be(uow):
    from services.campaigns.load import plan_of
    from statemachine.plan import Plan

    plan = plan_of(uow.conn, uow.cid)
    duty = {"key": "weekly", "name": "工作周报", "schedule": {"kind": "weekly", "weekday": "thu",
                                                             "at": "12:00"}}
    with_duty = Plan.model_validate(json.loads(plan.model_dump_json()) | {"reporting": [duty]})
    from models.tables import Campaign

    uow.conn.execute(update(Campaign.__table__).where(Campaign.id == uow.cid)
                     .values(plan_json=with_duty.model_dump_json()))
    for name, done in itertools.product(ACTORS, (False, True)):
        def case():
            if done:
                submit(uow, uow.campaign, unit="county-a", duty="weekly", attachment="周报.docx",
                       actor="sup.city", now=NOW, period="2023-05-25")
            offered = "submit" in _offered(uow, uow.campaign, name, DutyItem("county-a", "weekly", "2023-05-25"))
            moved = _moves(uow, lambda: submit(uow, uow.campaign, unit="county-a", duty="weekly",
                                               attachment="周报.docx", actor=name, now=NOW, period="2023-05-25"))
            assert offered == moved, f"duty (submitted: {done}) by {name}: {offered} {moved}"
        _in_savepoint(uow, case)


def _in_savepoint(uow, case) -> None:
    """Run one case and roll back whatever it set up."""
    try:
        with uow.item():
            case()
            raise _Undo
    except _Undo:
        pass
