"""The clue chart and the unit-stage chart, pair by pair (pure, no database).

The expected tables below are written out from docs/domain.md §5.3 and §4.3 on purpose:
the chart under test is never its own oracle here.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from statemachine.authority import Position, Relation, Who, refusal
from statemachine.charts.clue import CLUE_CHART, OPEN_STATES, SUPERVISOR_TRIGGERS, ClueContext, ClueState
from statemachine.charts.table import Subject
from statemachine.time.deadlines import DeadlineLimit
from statemachine.time.calendar import TZ, end_of_day
from statemachine.charts.unit_stage import COMPLETED, StageContext, stage_chart
from statemachine.errors import GuardRefused, InvalidTransition

S = ClueState

# docs/domain.md §5.3, transcribed: (state, trigger) -> destination
EXPECTED = {
    (S.received, "verify"): S.verifying,
    (S.verifying, "substantiate"): S.rectifying,
    (S.verifying, "dismiss"): S.closed,
    (S.rectifying, "submit_evidence"): S.rectified,
    (S.long_term, "submit_evidence"): S.rectified,
    (S.rectified, "approve"): S.closed,
    (S.rectified, "reject"): S.rectifying,
    (S.rectifying, "defer"): S.long_term,
    **{(s, "transfer"): S.transferred for s in (S.received, S.verifying, S.rectifying,
                                                S.rectified, S.long_term)},
    (S.closed, "reopen"): S.rectifying,
    (S.rectifying, "extend"): S.rectifying,  # 延期 (docs/domain.md §5.7)
    # 合并 (issue 16): any open item may be a duplicate; 重办 after a callback found the unit at fault
    **{(s, "merge"): S.merged for s in (S.received, S.verifying, S.rectifying, S.rectified, S.long_term)},
    (S.closed, "redo"): S.rectifying,
}
TRIGGERS = sorted({t for _, t in EXPECTED})

# docs/domain.md §5.3: what each trigger must be given (guard name -> the context field it reads)
EXPECTED_GUARDS = {
    "verify": {"signed_for"},  # 签收 before 办理 (statemachine/charts/signing.py)
    "substantiate": {"has_measures", "has_deadline", "deadline_within_limit", "deadline_after_receipt",
                     "has_owner"},
    "dismiss": {"has_reason"},
    "submit_evidence": {"has_evidence"},
    "approve": set(),
    "reject": {"has_reason"},
    "defer": {"has_stage_result", "has_long_term_measure"},
    "transfer": {"has_reason"},
    "reopen": {"has_reason", "has_deadline", "deadline_within_limit", "deadline_after_receipt"},
    "extend": {"has_reason", "has_deadline", "extension_within_limit", "deadline_after_receipt",
               "extends_in_time", "extensions_left"},
    "merge": {"has_reason", "has_merge_target"},
    "redo": {"callback_at_fault", "has_reason", "has_redo_callback", "has_deadline", "deadline_within_limit",
             "deadline_after_receipt"},
}
GUARD_INPUT = {
    "has_measures": "measures", "has_deadline": "deadline", "has_owner": "owner",
    "has_reason": "reason", "has_evidence": "evidence", "has_stage_result": "stage_result",
    "has_long_term_measure": "long_term_measure", "has_merge_target": "merge_into",
    "has_redo_callback": "redo_callback",
}

FULL = ClueContext(actor="sup.city", actor_unit=1, owner_unit=2, owner="赵书涵", measures="退还罚款",
                   deadline=date(2023, 4, 30), reason="核实", evidence="整改报告.pdf",
                   stage_result="已整改过半", long_term_measure="建立长效机制",
                   # set on 2023-04-20, at most 30 working days on; the row's deadline still runs
                   limit=DeadlineLimit(date(2023, 4, 20), date(2023, 6, 2), 30),
                   as_of=datetime(2023, 4, 20, 10, 0, tzinfo=TZ),
                   row_deadline=date(2023, 4, 25), row_deadline_at=end_of_day(date(2023, 4, 25)),
                   row_received=date(2023, 4, 3), merge_into="XS-2023-00002", redo_callback=7,
                   row_callback="at_fault")

ALL_PAIRS = [(s, t) for s in ClueState for t in TRIGGERS]


def _id(pair):
    s, t = pair
    return f"{s.value}-{t}"


def _fire(state, trigger, ctx=FULL):
    subject = Subject(state=state, ctx=ctx, entity="XS-2023-00001")
    t = CLUE_CHART.fire(subject, trigger)
    return subject, t


# -- the table itself ------------------------------------------------------------
def test_the_clue_chart_has_exactly_the_transitions_of_the_domain():
    actual = {(s, t.trigger): t.dest for t in CLUE_CHART.transitions for s in t.sources}
    assert actual == EXPECTED


def test_the_clue_chart_knows_every_trigger_and_only_those():
    assert CLUE_CHART.triggers == TRIGGERS


def test_transfer_is_allowed_from_every_open_state_and_no_other():
    assert set(OPEN_STATES) == {s for s in ClueState if CLUE_CHART.find(s, "transfer")}


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_each_trigger_carries_the_guards_the_domain_asks_for(trigger):
    guards = {g.name for s in ClueState if (t := CLUE_CHART.find(s, trigger)) for g in t.guards}
    assert guards == EXPECTED_GUARDS[trigger]


def test_only_a_supervisor_above_the_owner_approves_rejects_transfers_reopens_or_extends():
    # 销号 is never granted by the unit that did the work (docs/domain.md §5.4): the chart says who;
    # 延期 is granted by the level above (§5.7)
    assert SUPERVISOR_TRIGGERS == {"approve", "reject", "transfer", "reopen", "extend", "merge", "redo"}
    assert {CLUE_CHART.who(t) for t in set(TRIGGERS) - SUPERVISOR_TRIGGERS} == {Who.unit}


# -- every (state, trigger) pair ---------------------------------------------------
@pytest.mark.parametrize("pair", ALL_PAIRS, ids=[_id(p) for p in ALL_PAIRS])
def test_every_pair_either_moves_to_the_table_destination_or_is_refused_naming_state_and_allowed(pair):
    state, trigger = pair
    allowed_here = sorted(t for (s, t) in EXPECTED if s == state)
    if pair in EXPECTED:
        subject, t = _fire(state, trigger)
        assert subject.state == EXPECTED[pair]
        assert t.dest == EXPECTED[pair] and t.trigger == trigger
        return
    subject = Subject(state=state, ctx=FULL, entity="XS-2023-00001")
    with pytest.raises(InvalidTransition) as e:
        CLUE_CHART.fire(subject, trigger)
    msg = str(e.value)
    assert f"'{state.value}'" in msg and f"'{trigger}'" in msg and "XS-2023-00001" in msg
    assert e.value.allowed == allowed_here
    if allowed_here:
        assert msg.endswith("allowed: " + ", ".join(allowed_here))
    else:
        assert "none (final state)" in msg
    assert subject.state == state


@pytest.mark.parametrize("state", list(ClueState), ids=[s.value for s in ClueState])
def test_the_state_may_be_given_by_its_string_value(state):
    for trigger in CLUE_CHART.allowed(state):
        subject = Subject(state=state.value, ctx=FULL)
        CLUE_CHART.fire(subject, trigger)
        assert subject.state == EXPECTED[(state, trigger)]


def test_an_unknown_state_is_refused():
    with pytest.raises(ValueError, match="unknown state 'archived'"):
        CLUE_CHART.fire(Subject(state="archived", ctx=FULL), "verify")


def test_transferred_is_final():
    assert CLUE_CHART.allowed(S.transferred) == []
    assert S.transferred in CLUE_CHART.final


def test_merged_is_final():
    assert CLUE_CHART.allowed(S.merged) == []
    assert S.merged in CLUE_CHART.final


@pytest.mark.parametrize("callback", [None, "none", "owed", "made"])
def test_redo_follows_only_a_callback_that_found_the_unit_at_fault(callback):
    subject = Subject(state=S.closed, ctx=replace(FULL, row_callback=callback), entity="XS-2023-00001")
    with pytest.raises(GuardRefused) as e:
        CLUE_CHART.fire(subject, "redo")
    assert e.value.guard == "callback_at_fault" and subject.state == S.closed


# -- guards ----------------------------------------------------------------------
GUARD_CASES = [(s, t.trigger, g.name, missing)
               for t in CLUE_CHART.transitions for s in t.sources for g in t.guards
               if g.name in GUARD_INPUT
               # a deadline is a date: only its absence can be tested
               for missing in ([None] if g.name == "has_deadline" else [None, "", "   "])]


@pytest.mark.parametrize("state,trigger,guard,missing", GUARD_CASES,
                         ids=[f"{s.value}-{t}-{g}-{m!r}" for s, t, g, m in GUARD_CASES])
def test_every_input_guard_refuses_naming_itself_when_its_input_is_missing(state, trigger, guard, missing):
    ctx = replace(FULL, **{GUARD_INPUT[guard]: missing})
    subject = Subject(state=state, ctx=ctx, entity="XS-2023-00001")
    with pytest.raises(GuardRefused) as e:
        CLUE_CHART.fire(subject, trigger)
    assert e.value.guard == guard and e.value.trigger == trigger
    assert f"({guard})" in str(e.value) and "required" in str(e.value)
    assert subject.state == state, "a refused trigger must not move the subject"


@pytest.mark.parametrize("trigger", ["approve", "reject"])
def test_the_owning_unit_may_not_approve_or_reject_its_own_rectification(trigger):
    own = Relation(Position.own, supervisor=True)
    why = refusal(CLUE_CHART.who(trigger), own, actor="sup.a", unit_name="甲县", what=f"'{trigger}' clues")
    assert why == f"sup.a may not '{trigger}' clues: 甲县 is their own unit"
    assert refusal(CLUE_CHART.who(trigger), Relation(Position.above, supervisor=True), actor="sup.city",
                   unit_name="甲县", what=f"'{trigger}' clues") is None


def test_guards_do_not_care_about_inputs_they_do_not_read():
    # verify needs nothing; an empty context must do
    subject, _ = _fire(S.received, "verify", ClueContext())
    assert subject.state == S.verifying


# -- the unit-stage chart ----------------------------------------------------------
KEYS = ("deploy", "self_check", "rectify", "inspect", "summary")


def _stage(state, required=(), recorded=()):
    return Subject(state=state, ctx=StageContext(required=list(required), recorded=set(recorded)),
                   entity="甲县 (county-a)")


@pytest.mark.parametrize("keys", [("only",), ("a", "b"), KEYS], ids=["1", "2", "5"])
def test_the_stage_chart_is_the_plans_stages_followed_by_completed(keys):
    chart = stage_chart(keys)
    assert [s.value for s in chart.state_list] == [*keys, COMPLETED]
    assert chart.triggers == ["advance"]
    assert [s.value for s in chart.final] == [COMPLETED]


@pytest.mark.parametrize("i", range(len(KEYS)))
def test_advance_moves_to_the_next_stage_once_all_deliverables_are_in(i):
    subject = _stage(KEYS[i], required=["plan", "ledger"], recorded={"plan", "ledger", "extra"})
    t = stage_chart(KEYS).fire(subject, "advance")
    expected = KEYS[i + 1] if i + 1 < len(KEYS) else COMPLETED
    assert subject.state.value == expected and t.dest.value == expected


def test_advance_with_no_deliverables_required_needs_nothing():
    subject = _stage("summary")
    stage_chart(KEYS).fire(subject, "advance")
    assert subject.state.value == COMPLETED


@pytest.mark.parametrize("recorded,missing", [
    ((), ["impl_plan", "ledger", "notice"]),
    (("ledger",), ["impl_plan", "notice"]),
    (("impl_plan", "ledger"), ["notice"]),
])
def test_advance_is_refused_listing_the_missing_deliverables_in_plan_order(recorded, missing):
    subject = _stage("deploy", required=["impl_plan", "ledger", "notice"], recorded=recorded)
    with pytest.raises(GuardRefused) as e:
        stage_chart(KEYS).fire(subject, "advance")
    assert e.value.guard == "deliverables_in"
    assert str(e.value).endswith("deliverables missing: " + ", ".join(missing))
    assert "甲县 (county-a)" in str(e.value)
    assert subject.state.value == "deploy"


def test_completed_is_final():
    subject = _stage(COMPLETED)
    with pytest.raises(InvalidTransition) as e:
        stage_chart(KEYS).fire(subject, "advance")
    assert e.value.allowed == []
    assert "'completed'" in str(e.value) and "none (final state)" in str(e.value)


def test_a_stage_chart_knows_no_other_trigger():
    with pytest.raises(InvalidTransition, match="allowed: advance"):
        stage_chart(KEYS).fire(_stage("deploy"), "skip")


@pytest.mark.parametrize("keys", [(), ("a", "a")], ids=["empty", "duplicate"])
def test_a_stage_plan_needs_unique_keys_and_at_least_one_stage(keys):
    with pytest.raises(ValueError, match="at least one stage and unique keys"):
        stage_chart(keys)


def test_the_same_stage_plan_gives_the_same_chart():
    assert stage_chart(KEYS) is stage_chart(tuple(KEYS))
