"""The escalation chart pair by pair, for every level (pure, no database).

The expected table is written out from docs/domain.md §8.3 and issue 3 on purpose: the
chart under test is never its own oracle here.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from itertools import product

import pytest

from statemachine.charts.ladder import CASE_CHART, SUPERVISOR_CASE_TRIGGERS, UNIT_TRIGGERS, CaseContext, \
    CaseState, Level, next_level
from statemachine.charts.table import Subject
from statemachine.errors import GuardRefused, InvalidTransition
from statemachine.warning import warning_colour

S = CaseState
ANSWERABLE = (S.issued, S.awaiting_response)
# (state, trigger) -> (destination, the levels it is allowed for)
ALL = frozenset(Level)
EXPECTED = {
    (S.proposed, "issue"): (S.issued, ALL),
    (S.proposed, "withdraw"): (S.withdrawn, ALL),
    (S.issued, "acknowledge"): (S.awaiting_response, ALL),
    **{(s, "record_interview"): (S.awaiting_response, {Level.interview}) for s in ANSWERABLE},
    **{(s, "respond"): (S.responded, {Level.criticism, Level.interview, Level.listed})
       for s in ANSWERABLE},
    (S.responded, "return_response"): (S.awaiting_response, ALL),
    (S.responded, "resolve"): (S.resolved, {Level.criticism, Level.interview}),
    (S.responded, "delist"): (S.resolved, {Level.listed}),
    **{(s, "decide"): (S.resolved, {Level.accountability}) for s in (*ANSWERABLE, S.responded)},
    **{(s, "conclude"): (S.resolved, {Level.transfer}) for s in ANSWERABLE},
    **{(s, "escalate"): (S.escalated, ALL - {Level.transfer}) for s in (*ANSWERABLE, S.responded)},
}
TRIGGERS = sorted({t for _, t in EXPECTED})
FULL = CaseContext(reason="逾期未整改", minutes="约谈记录", report_due=date(2023, 6, 1),
                   response="整改报告", attachment="报告.pdf", note="经实地核查已整改到位",
                   decision="accountable", decision_text="给予诫勉谈话", grounds=None,
                   receiving_organ="示例市纪委监委", follow_up="已立案审查")


def _fire(state: S, trigger: str, ctx: CaseContext) -> S:
    subject = Subject(state=state, ctx=ctx, entity="case 1")
    CASE_CHART.fire(subject, trigger)
    return subject.state


@pytest.mark.parametrize("state,trigger,level", list(product(S, TRIGGERS, Level)))
def test_every_state_trigger_and_level(state, trigger, level):
    ctx = replace(FULL, level=int(level))
    expected = EXPECTED.get((state, trigger))
    if expected is None:
        with pytest.raises(InvalidTransition) as e:
            _fire(state, trigger, ctx)
        assert f"in state '{state.value}'" in str(e.value)
        return
    dest, levels = expected
    if level in levels:
        assert _fire(state, trigger, ctx) == dest
    else:
        with pytest.raises(GuardRefused, match="only for"):
            _fire(state, trigger, ctx)


def test_final_states_allow_nothing():
    for s in (S.resolved, S.escalated, S.withdrawn):
        assert CASE_CHART.allowed(s) == []


@pytest.mark.parametrize("trigger,field,state,level", [
    ("withdraw", "reason", S.proposed, 1),
    ("escalate", "reason", S.issued, 1),
    ("return_response", "reason", S.responded, 2),
    ("respond", "response", S.issued, 1),
    ("record_interview", "minutes", S.issued, 2),
    ("record_interview", "report_due", S.awaiting_response, 2),
    ("delist", "note", S.responded, 3),
    ("conclude", "follow_up", S.issued, 5),
    ("issue", "receiving_organ", S.proposed, 5),
])
def test_what_each_step_must_be_given(trigger, field, state, level):
    with pytest.raises(GuardRefused) as e:
        _fire(state, trigger, replace(FULL, level=level, **{field: None}))
    assert "required" in str(e.value) or "names the receiving" in str(e.value)


def test_issue_below_transfer_needs_no_organ():
    assert _fire(S.proposed, "issue", replace(FULL, level=1, receiving_organ=None)) == S.issued


@pytest.mark.parametrize("decision,text,grounds,ok", [
    ("accountable", "给予党内警告处分", None, True),
    ("accountable", None, None, False),
    ("exempt", None, "属于探索性试验中的失误，符合“三个区分开来”", True),
    ("exempt", "x", None, False),
    (None, "x", "y", False),
    ("maybe", "x", "y", False),
])
def test_accountability_decides_or_exempts_with_grounds(decision, text, grounds, ok):
    ctx = replace(FULL, level=4, decision=decision, decision_text=text, grounds=grounds)
    if ok:
        assert _fire(S.awaiting_response, "decide", ctx) == S.resolved
    else:
        with pytest.raises(GuardRefused, match="decision_valid"):
            _fire(S.awaiting_response, "decide", ctx)


def test_the_ladder_has_five_rungs_and_the_unit_only_answers():
    assert [next_level(lv) for lv in Level] == [Level.interview, Level.listed, Level.accountability,
                                                Level.transfer, None]
    assert UNIT_TRIGGERS == {"acknowledge", "respond"}
    assert SUPERVISOR_CASE_TRIGGERS == set(TRIGGERS) - UNIT_TRIGGERS


def test_warning_colours_around_a_deadline():
    due = datetime(2023, 5, 10, 23, 59)
    assert warning_colour(due, due - timedelta(days=5)) == ""
    assert warning_colour(due, due - timedelta(days=3)) == "blue"
    assert warning_colour(due, due - timedelta(hours=20)) == "yellow"
    assert warning_colour(due, due) == "yellow"
    assert warning_colour(due, due + timedelta(seconds=1)) == "red"
    assert warning_colour(None, due) == ""
    assert warning_colour(due, due - timedelta(days=2), blue_within_days=1, yellow_within_days=0) == ""
