"""The look-back round chart and check chart, pair by pair (pure, no database).

The expected tables are transcribed from docs/domain.md §9.1 and §9.4 on
purpose: the chart under test is never its own oracle here.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from statemachine.charts.lookback import (CHECK_CHART, METHODS, OUTCOMES, ROUND_CHART, CheckContext,
                                   CheckState, RoundContext, RoundState, method_key)
from statemachine.charts.table import Subject
from statemachine.errors import GuardRefused, InvalidTransition

R, K = RoundState, CheckState

# docs/domain.md §9.1: (state, trigger) -> destination
ROUND_EXPECTED = {
    (R.planned, "open"): R.open,
    (R.open, "begin_close"): R.closing,
    (R.closing, "close"): R.closed,
    (R.planned, "cancel"): R.cancelled,
    (R.open, "cancel"): R.cancelled,
}
CHECK_EXPECTED = {
    (K.pending, "confirm"): K.confirmed,
    (K.pending, "find_relapse"): K.relapsed,
    (K.pending, "find_faked"): K.faked,
    (K.confirmed, "revise"): K.pending,
    (K.relapsed, "revise"): K.pending,
    (K.faked, "revise"): K.pending,
    (K.pending, "miss"): K.missed,
    (K.pending, "cancel"): K.cancelled,
}
ROUND_TRIGGERS = sorted({t for _, t in ROUND_EXPECTED})
CHECK_TRIGGERS = sorted({t for _, t in CHECK_EXPECTED})

FULL_ROUND = RoundContext(reason="范围有误", selected=12)
FULL_CHECK = CheckContext(method="随机抽查", inspector="吴海峰", findings="台账与现场不符",
                          checked_on=date(2023, 9, 20), reason="录入错误")

ROUND_PAIRS = [(s, t) for s in RoundState for t in ROUND_TRIGGERS]
CHECK_PAIRS = [(s, t) for s in CheckState for t in CHECK_TRIGGERS]


def _ids(pairs):
    return [f"{s.value}-{t}" for s, t in pairs]


def _assert_refused_naming_allowed(chart, state, trigger, ctx, expected, entity):
    allowed_here = sorted(t for (s, t) in expected if s == state)
    subject = Subject(state=state, ctx=ctx, entity=entity)
    with pytest.raises(InvalidTransition) as e:
        chart.fire(subject, trigger)
    msg = str(e.value)
    assert entity in msg and f"'{trigger}'" in msg and f"'{state.value}'" in msg
    assert e.value.allowed == allowed_here
    if allowed_here:
        assert msg.endswith("allowed: " + ", ".join(allowed_here))
    else:
        assert "none (final state)" in msg
    assert subject.state == state, "a refused trigger must not move the subject"


# -- the tables themselves ----------------------------------------------------------
def test_the_round_chart_has_exactly_the_transitions_of_the_domain():
    actual = {(s, t.trigger): t.dest for t in ROUND_CHART.transitions for s in t.sources}
    assert actual == ROUND_EXPECTED


def test_the_check_chart_has_exactly_the_transitions_of_the_domain():
    actual = {(s, t.trigger): t.dest for t in CHECK_CHART.transitions for s in t.sources}
    assert actual == CHECK_EXPECTED


def test_closed_and_cancelled_rounds_are_final_and_allow_nothing():
    assert ROUND_CHART.final == {R.closed, R.cancelled}
    assert ROUND_CHART.allowed(R.closed) == [] and ROUND_CHART.allowed(R.cancelled) == []


def test_missed_and_cancelled_checks_are_final_and_allow_nothing():
    assert CHECK_CHART.final == {K.missed, K.cancelled}
    assert CHECK_CHART.allowed(K.missed) == [] and CHECK_CHART.allowed(K.cancelled) == []


def test_a_round_starts_planned_and_a_check_starts_pending():
    assert ROUND_CHART.state_list[0] == R.planned
    assert CHECK_CHART.state_list[0] == K.pending


# -- every (state, trigger) pair -----------------------------------------------------
@pytest.mark.parametrize("pair", ROUND_PAIRS, ids=_ids(ROUND_PAIRS))
def test_every_round_pair_moves_to_the_table_destination_or_is_refused_naming_the_allowed(pair):
    state, trigger = pair
    if pair in ROUND_EXPECTED:
        subject = Subject(state=state, ctx=FULL_ROUND, entity="round lb-2023-08")
        t = ROUND_CHART.fire(subject, trigger)
        assert subject.state == ROUND_EXPECTED[pair]
        assert t.trigger == trigger and t.dest == ROUND_EXPECTED[pair]
    else:
        _assert_refused_naming_allowed(ROUND_CHART, state, trigger, FULL_ROUND, ROUND_EXPECTED,
                                       "round lb-2023-08")


@pytest.mark.parametrize("pair", CHECK_PAIRS, ids=_ids(CHECK_PAIRS))
def test_every_check_pair_moves_to_the_table_destination_or_is_refused_naming_the_allowed(pair):
    state, trigger = pair
    if pair in CHECK_EXPECTED:
        subject = Subject(state=state, ctx=FULL_CHECK, entity="check XS-2023-00042")
        t = CHECK_CHART.fire(subject, trigger)
        assert subject.state == CHECK_EXPECTED[pair]
        assert t.trigger == trigger and t.dest == CHECK_EXPECTED[pair]
    else:
        _assert_refused_naming_allowed(CHECK_CHART, state, trigger, FULL_CHECK, CHECK_EXPECTED,
                                       "check XS-2023-00042")


@pytest.mark.parametrize("state", list(CheckState), ids=[s.value for s in CheckState])
def test_an_unknown_check_trigger_is_refused_as_an_invalid_transition(state):
    with pytest.raises(InvalidTransition) as e:
        CHECK_CHART.fire(Subject(state=state, ctx=FULL_CHECK), "approve")
    assert e.value.allowed == sorted(t for (s, t) in CHECK_EXPECTED if s == state)


def test_a_round_walks_its_whole_life_from_planned_to_closed():
    subject = Subject(state="planned", ctx=RoundContext())
    for trigger in ("open", "begin_close", "close"):
        ROUND_CHART.fire(subject, trigger)
    assert subject.state == R.closed


def test_a_revised_check_can_be_recorded_again_with_another_outcome():
    subject = Subject(state=K.pending, ctx=FULL_CHECK)
    CHECK_CHART.fire(subject, "confirm")
    CHECK_CHART.fire(subject, "revise")
    CHECK_CHART.fire(subject, "find_faked")
    assert subject.state == K.faked


# -- outcomes --------------------------------------------------------------------------
@pytest.mark.parametrize("outcome", sorted(OUTCOMES))
def test_each_outcome_name_fires_a_trigger_that_lands_in_the_state_of_that_name(outcome):
    subject = Subject(state=K.pending, ctx=FULL_CHECK)
    CHECK_CHART.fire(subject, OUTCOMES[outcome])
    assert subject.state.value == outcome


def test_the_outcomes_are_exactly_confirmed_relapsed_and_faked():
    assert OUTCOMES == {"confirmed": "confirm", "relapsed": "find_relapse", "faked": "find_faked"}


# -- guards: what each trigger must be given --------------------------------------------
RECORD_GUARDS = {"has_method": "method", "has_inspector": "inspector", "has_check_date": "checked_on"}
CHECK_GUARD_CASES = [
    # (state, trigger, guard, field)
    *[(K.pending, trg, g, f) for trg in ("confirm", "find_relapse", "find_faked")
      for g, f in RECORD_GUARDS.items()],
    (K.pending, "find_relapse", "has_findings", "findings"),
    (K.pending, "find_faked", "has_findings", "findings"),
    *[(s, "revise", "has_reason", "reason") for s in (K.confirmed, K.relapsed, K.faked)],
]
# a date can only be absent; text can also be empty or blank
CHECK_GUARD_MISSING = [(s, trg, g, f, m) for s, trg, g, f in CHECK_GUARD_CASES
                       for m in ([None] if f == "checked_on" else [None, "", "   "])]


@pytest.mark.parametrize("state,trigger,guard,field,missing", CHECK_GUARD_MISSING,
                         ids=[f"{s.value}-{t}-{g}-{m!r}" for s, t, g, _, m in CHECK_GUARD_MISSING])
def test_every_check_guard_refuses_naming_itself_when_its_field_is_missing_or_blank(
        state, trigger, guard, field, missing):
    subject = Subject(state=state, ctx=replace(FULL_CHECK, **{field: missing}), entity="check 42")
    with pytest.raises(GuardRefused) as e:
        CHECK_CHART.fire(subject, trigger)
    assert e.value.guard == guard and e.value.trigger == trigger
    assert f"({guard})" in str(e.value) and "is required" in str(e.value)
    assert subject.state == state, "a refused trigger must not move the subject"


@pytest.mark.parametrize("state", [R.planned, R.open], ids=["planned", "open"])
@pytest.mark.parametrize("missing", [None, "", "  "])
def test_cancelling_a_round_without_a_reason_is_refused_by_has_reason(state, missing):
    subject = Subject(state=state, ctx=RoundContext(reason=missing), entity="round lb-1")
    with pytest.raises(GuardRefused) as e:
        ROUND_CHART.fire(subject, "cancel")
    assert e.value.guard == "has_reason" and "reason" in e.value.reason
    assert subject.state == state


def test_confirming_needs_no_findings():
    subject = Subject(state=K.pending, ctx=replace(FULL_CHECK, findings=None))
    CHECK_CHART.fire(subject, "confirm")
    assert subject.state == K.confirmed


@pytest.mark.parametrize("trigger,dest", [("miss", K.missed), ("cancel", K.cancelled)])
def test_system_transitions_of_a_check_need_no_input(trigger, dest):
    subject = Subject(state=K.pending, ctx=CheckContext())
    CHECK_CHART.fire(subject, trigger)
    assert subject.state == dest


@pytest.mark.parametrize("trigger", ["open", "begin_close"])
def test_opening_and_closing_a_round_need_no_reason(trigger):
    state = R.planned if trigger == "open" else R.open
    subject = Subject(state=state, ctx=RoundContext())
    ROUND_CHART.fire(subject, trigger)
    assert subject.state == ROUND_EXPECTED[(state, trigger)]


@pytest.mark.parametrize("trigger", ["confirm", "find_relapse", "find_faked"])
def test_an_unknown_method_is_refused_by_method_known_naming_the_method(trigger):
    subject = Subject(state=K.pending, ctx=replace(FULL_CHECK, method="瞎看"))
    with pytest.raises(GuardRefused) as e:
        CHECK_CHART.fire(subject, trigger)
    assert e.value.guard == "method_known"
    assert "瞎看" in e.value.reason and "随机抽查" in e.value.reason and "random" in e.value.reason
    assert subject.state == K.pending


@pytest.mark.parametrize("method", [*METHODS, *METHODS.values()])
def test_every_method_is_accepted_by_key_or_by_chinese_name(method):
    subject = Subject(state=K.pending, ctx=replace(FULL_CHECK, method=method))
    CHECK_CHART.fire(subject, "confirm")
    assert subject.state == K.confirmed


# -- method_key ---------------------------------------------------------------------------
@pytest.mark.parametrize("key", sorted(METHODS))
def test_method_key_returns_a_key_unchanged(key):
    assert method_key(key) == key


@pytest.mark.parametrize("name,key", [("四不两直", "four_nos"), ("随机抽查", "random"),
                                      ("突击检查", "surprise"), ("实地暗访", "undercover"),
                                      ("案卷审查", "file_review")])
def test_method_key_turns_a_chinese_name_into_its_key(name, key):
    assert method_key(name) == key


@pytest.mark.parametrize("value", ["瞎看", "", "Random", "four-nos", "随机", "四不两直四不两直"])
def test_method_key_returns_none_for_anything_else(value):
    assert method_key(value) is None
