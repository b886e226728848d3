"""docs/architecture.md decision 1: the single path (transitions Machine) and the bulk
path (the same table compiled to UPDATE … WHERE state IN …) agree on every
(state, trigger) pair of the clue chart, on SQLite and on PostgreSQL."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from models.tables import AuditRecord, Clue
from services.campaigns.load import campaign_id
from services.clues import lifecycle as clues
from services.core.audit import verify
from statemachine.charts.clue import CLUE_CHART, SUPERVISOR_TRIGGERS, ClueState
from statemachine.errors import GuardRefused, InvalidTransition, PermissionDenied

from ..conftest import at

T, A = Clue.__table__, AuditRecord.__table__

FULL = clues.ClueInput(reason="核查属实", measures="退还罚款并整改", deadline=date(2023, 5, 31),
                       owner="赵书涵", evidence="整改报告-附件17.pdf", stage_result="已整改过半",
                       long_term_measure="建立长效机制")

_STEP = {  # trigger -> (actor, input) used to drive a clue along a path
    "verify": ("off.a", clues.ClueInput()),
    "substantiate": ("off.a", clues.ClueInput(measures="退还罚款", deadline=date(2023, 4, 30),
                                              owner="赵书涵")),
    "dismiss": ("off.a", clues.ClueInput(reason="查无实据")),
    "submit_evidence": ("off.a", clues.ClueInput(evidence="整改报告.pdf")),
    "defer": ("off.a", clues.ClueInput(stage_result="阶段成效", long_term_measure="长效机制")),
    "approve": ("sup.city", clues.ClueInput()),
    "transfer": ("sup.city", clues.ClueInput(reason="涉嫌违纪")),
}

# a shortest path from `received` to each state (two ways of being closed)
PATHS = {
    "received": [],
    "verifying": ["verify"],
    "rectifying": ["verify", "substantiate"],
    "rectified": ["verify", "substantiate", "submit_evidence"],
    "long_term": ["verify", "substantiate", "defer"],
    "closed-dismissed": ["verify", "dismiss"],
    "closed-approved": ["verify", "substantiate", "submit_evidence", "approve"],
    "transferred": ["transfer"],
}

# 合并 and 重办 go through use cases of their own (services/clues/merging.py, callbacks.py) that
# give the facts their guards need; the generic paths refuse them (tests/integration/test_callbacks.py,
# test_merging.py), so single and bulk have nothing to agree on there
OWN_USE_CASES = {"merge", "redo"}
CASES = [(start, trigger) for start in PATHS for trigger in CLUE_CHART.triggers if trigger not in OWN_USE_CASES]

# every column but identity must come out the same either way
SAME = [c.name for c in T.c if c.name not in ("id", "number")]
AUDIT_SAME = ["at", "actor", "unit_id", "entity", "from_state", "to_state", "trigger", "reason",
              "detail"]


def _add(engine, campaign, calendar, n=2, unit="county-a"):
    items = [clues.NewClue(channel="12345", aspect="profit", summary="罚款不开票", unit=unit)
             for _ in range(n)]
    return clues.add_clues(engine, campaign, items, actor="sup.city", now=at("2023-03-20"),
                           calendar=calendar)


def drive(engine, campaign, numbers, start: str) -> None:
    """Put every clue of `numbers` into `start` through the single path."""
    for day, trigger in enumerate(PATHS[start], start=21):
        actor, data = _STEP[trigger]
        for n in numbers:
            clues.transition(engine, campaign, n, trigger, actor=actor, data=data,
                             now=at(f"2023-03-{day} 10:00"))
    expected = start.split("-")[0]
    for n in numbers:
        assert _row(engine, n)["state"] == expected


def _row(engine, number) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(select(T).where(T.c.number == number)).one()._mapping)


def _audit(engine, clue_id) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(A).where(A.c.entity == "clue", A.c.entity_id == clue_id).order_by(A.c.seq))]


def _actor_for(trigger: str) -> str:
    return "sup.city" if trigger in SUPERVISOR_TRIGGERS else "off.a"


@pytest.mark.parametrize("start,trigger", CASES, ids=[f"{s}-{t}" for s, t in CASES])
def test_single_and_bulk_paths_leave_the_same_row_and_audit(engine, campaign, calendar, start, trigger):
    single, bulk = _add(engine, campaign, calendar)
    drive(engine, campaign, [single, bulk], start)
    s0, b0 = _row(engine, single), _row(engine, bulk)
    sa0, ba0 = _audit(engine, s0["id"]), _audit(engine, b0["id"])
    state = ClueState(s0["state"])
    expected = CLUE_CHART.find(state, trigger)
    actor, now = _actor_for(trigger), at("2023-04-20 15:30")

    if expected is None:
        with pytest.raises(InvalidTransition) as e:
            clues.transition(engine, campaign, single, trigger, actor=actor, now=now, data=FULL)
        assert f"'{state.value}'" in str(e.value)
        assert e.value.allowed == CLUE_CHART.allowed(state)
        res = clues.bulk_transition(engine, campaign, trigger, actor=actor, now=now, data=FULL,
                                    numbers=[bulk])
        assert res.moved == [] and res.skipped == 1
        assert (_row(engine, single), _row(engine, bulk)) == (s0, b0)
        assert (_audit(engine, s0["id"]), _audit(engine, b0["id"])) == (sa0, ba0)
        return

    view = clues.transition(engine, campaign, single, trigger, actor=actor, now=now, data=FULL)
    res = clues.bulk_transition(engine, campaign, trigger, actor=actor, now=now, data=FULL,
                                numbers=[bulk])
    assert res.moved == [(bulk, state.value, expected.dest.value)] and res.skipped == 0
    s1, b1 = _row(engine, single), _row(engine, bulk)
    assert s1["state"] == b1["state"] == expected.dest.value
    assert s1["version"] - s0["version"] == b1["version"] - b0["version"] == 1
    assert {k: s1[k] for k in SAME} == {k: b1[k] for k in SAME}
    # the single path's answer is what it wrote
    assert (view.state, view.version, view.resolution, view.deadline_at, view.reopen_count) == \
        (s1["state"], s1["version"], s1["resolution"], s1["deadline_at"], s1["reopen_count"])
    sa1, ba1 = _audit(engine, s0["id"]), _audit(engine, b0["id"])
    assert len(sa1) == len(sa0) + 1 and len(ba1) == len(ba0) + 1
    last_s, last_b = sa1[-1], ba1[-1]
    assert (last_s["trigger"], last_s["from_state"], last_s["to_state"]) == \
        (trigger, state.value, expected.dest.value)
    assert {k: last_s[k] for k in AUDIT_SAME} == {k: last_b[k] for k in AUDIT_SAME}
    assert verify(engine, campaign_id(engine, campaign)).ok


def _rectified(engine, campaign, calendar, unit, who):
    items = [clues.NewClue(channel="12345", aspect="profit", summary="s", unit=unit)]
    n = clues.add_clues(engine, campaign, items, actor="sup.city", now=at("2023-03-20"),
                        calendar=calendar)[0]
    for trigger in PATHS["rectified"]:
        clues.transition(engine, campaign, n, trigger, actor=who, data=_STEP[trigger][1],
                         now=at("2023-03-21"))
    return n


def test_a_supervisor_cannot_approve_its_own_units_clue_on_either_path(engine, campaign, calendar):
    own = _rectified(engine, campaign, calendar, "county-a", "off.a")
    below = _rectified(engine, campaign, calendar, "town-c1", "off.c1")
    with pytest.raises(PermissionDenied, match="own unit"):
        clues.transition(engine, campaign, own, "approve", actor="sup.a", now=at("2023-04-20"))
    res = clues.bulk_transition(engine, campaign, "approve", actor="sup.a", now=at("2023-04-20"),
                                numbers=[own, below])
    # sup.a supervises town-c1 below it, but never county-a, its own unit
    assert res.moved == [(below, "rectified", "closed")]
    assert _row(engine, own)["state"] == "rectified" and _row(engine, own)["version"] == 4
    assert _row(engine, below)["resolution"] == "approved"


def test_a_named_clue_the_actor_may_not_approve_is_counted_as_skipped(engine, campaign, calendar):
    own = _rectified(engine, campaign, calendar, "county-a", "off.a")
    res = clues.bulk_transition(engine, campaign, "approve", actor="sup.a", now=at("2023-04-20"),
                                numbers=[own])
    assert res.moved == [] and res.skipped == 1


def test_bulk_skips_rows_whose_row_guard_fails_and_single_refuses_them(engine, campaign, calendar):
    single, bulk = _add(engine, campaign, calendar)
    drive(engine, campaign, [single, bulk], "verifying")
    no_owner = clues.ClueInput(measures="退还罚款", deadline=date(2023, 4, 30))
    with pytest.raises(GuardRefused, match="has_owner"):
        clues.transition(engine, campaign, single, "substantiate", actor="off.a",
                         now=at("2023-04-20"), data=no_owner)
    res = clues.bulk_transition(engine, campaign, "substantiate", actor="off.a",
                                now=at("2023-04-20"), data=no_owner, numbers=[bulk])
    assert res.moved == [] and res.skipped == 1
    assert _row(engine, single)["state"] == _row(engine, bulk)["state"] == "verifying"


def test_bulk_refuses_the_whole_batch_when_a_shared_guard_fails(engine, campaign, calendar):
    numbers = _add(engine, campaign, calendar)
    drive(engine, campaign, numbers, "verifying")
    with pytest.raises(GuardRefused, match="has_reason"):
        clues.bulk_transition(engine, campaign, "dismiss", actor="off.a", now=at("2023-04-20"),
                              numbers=numbers)
    assert {_row(engine, n)["state"] for n in numbers} == {"verifying"}


def test_bulk_supervisor_triggers_are_refused_to_officers(engine, campaign, calendar):
    numbers = _add(engine, campaign, calendar)
    drive(engine, campaign, numbers, "rectified")
    with pytest.raises(PermissionDenied, match="only a supervisor"):
        clues.bulk_transition(engine, campaign, "approve", actor="off.a", now=at("2023-04-20"))
    assert {_row(engine, n)["state"] for n in numbers} == {"rectified"}


def test_an_officer_bulk_verifies_only_its_own_units_clues(engine, campaign, calendar):
    mine = _add(engine, campaign, calendar, unit="county-a")
    theirs = _add(engine, campaign, calendar, unit="county-b")
    below = _add(engine, campaign, calendar, n=1, unit="town-c1")
    res = clues.bulk_transition(engine, campaign, "verify", actor="off.a", now=at("2023-03-21"))
    assert sorted(n for n, _, _ in res.moved) == sorted(mine)
    assert res.skipped == 0
    assert {_row(engine, n)["state"] for n in mine} == {"verifying"}
    assert {_row(engine, n)["state"] for n in theirs + below} == {"received"}


def test_an_officer_naming_another_units_clues_moves_nothing(engine, campaign, calendar):
    theirs = _add(engine, campaign, calendar, unit="county-b")
    res = clues.bulk_transition(engine, campaign, "verify", actor="off.a", now=at("2023-03-21"),
                                numbers=theirs)
    assert res.moved == []
    assert {_row(engine, n)["state"] for n in theirs} == {"received"}


def test_a_supervisor_bulk_verifies_its_whole_subtree(engine, campaign, calendar):
    a = _add(engine, campaign, calendar, n=1, unit="county-a")
    b = _add(engine, campaign, calendar, n=1, unit="county-b")
    c1 = _add(engine, campaign, calendar, n=1, unit="town-c1")
    res = clues.bulk_transition(engine, campaign, "verify", actor="sup.a", now=at("2023-03-21"))
    assert sorted(n for n, _, _ in res.moved) == sorted(a + c1)
    assert _row(engine, b[0])["state"] == "received"


@pytest.mark.parametrize("start,trigger", [("verifying", "substantiate"), ("closed-dismissed", "reopen")])
def test_bulk_without_a_deadline_is_refused_by_the_deadline_guard_like_single(
        engine, campaign, calendar, start, trigger):
    single, bulk = _add(engine, campaign, calendar)
    drive(engine, campaign, [single, bulk], start)
    no_deadline = clues.ClueInput(reason="r", measures="m", owner="o")
    actor = _actor_for(trigger)
    with pytest.raises(GuardRefused, match="has_deadline"):
        clues.transition(engine, campaign, single, trigger, actor=actor, now=at("2023-04-20"),
                         data=no_deadline)
    with pytest.raises(GuardRefused, match="has_deadline"):
        clues.bulk_transition(engine, campaign, trigger, actor=actor, now=at("2023-04-20"),
                              data=no_deadline, numbers=[bulk])
