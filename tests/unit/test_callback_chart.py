"""The callback (回访) chart, its deadline and lateness, the merge rule and masked telephone
numbers (pure, no database). The tables are written out from issue 16 items 5 and 6."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given, strategies as st

from statemachine.authority import Who
from statemachine.charts.callback import (CALLBACK_CHART, RESULTS, CallbackContext, CallbackState, callback_due,
                                          callback_overdue)
from statemachine.charts.merge import Kept, merge_refusal
from statemachine.charts.table import Subject
from statemachine.errors import GuardRefused, InvalidTransition
from statemachine.masking import masked_phone
from statemachine.time.calendar import TZ, WorkingCalendar, end_of_day, local_date

C = CallbackState
EXPECTED = {(C.owed, "call_back"): C.made, (C.owed, "find_at_fault"): C.at_fault}
PAIRS = [(s, t) for s in CallbackState for t in ("call_back", "find_at_fault")]


@pytest.mark.parametrize("state,trigger", PAIRS)
def test_each_pair_moves_to_the_table_destination_or_is_refused(state, trigger):
    subject = Subject(state=state, ctx=CallbackContext(result="dissatisfied"), entity="XS-2023-00001")
    if (state, trigger) in EXPECTED:
        CALLBACK_CHART.fire(subject, trigger)
        assert subject.state == EXPECTED[(state, trigger)]
    else:
        with pytest.raises(InvalidTransition):
            CALLBACK_CHART.fire(subject, trigger)
        assert subject.state == state
    assert CALLBACK_CHART.who(trigger) is Who.supervisor  # the supervising level calls, never the unit


# (trigger, result) → the guard that refuses, or None
GUARDS = [("call_back", None, "has_result"), ("call_back", "great", "known_result"),
          ("find_at_fault", "satisfied", "dissatisfied"), ("find_at_fault", "unreachable", "dissatisfied"),
          ("find_at_fault", "dissatisfied", None)] + [("call_back", r, None) for r in RESULTS]


@pytest.mark.parametrize("trigger,result,guard", GUARDS)
def test_the_result_is_required_known_and_dissatisfied_where_the_unit_is_at_fault(trigger, result, guard):
    subject = Subject(state=C.owed, ctx=CallbackContext(result=result), entity="XS-2023-00001")
    if guard is None:
        CALLBACK_CHART.fire(subject, trigger)
        return
    with pytest.raises(GuardRefused) as e:
        CALLBACK_CHART.fire(subject, trigger)
    assert e.value.guard == guard and subject.state == C.owed


CAL = WorkingCalendar()
instants = st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2025, 12, 31)).map(
    lambda d: d.replace(tzinfo=TZ))


@given(closed=instants, n=st.integers(1, 30))
def test_a_callback_is_due_at_the_end_of_the_nth_working_day_after_the_close(closed, n):
    due = callback_due(CAL, closed, n)
    day = local_date(due)
    assert due == end_of_day(day) and CAL.is_workday(day)
    assert due > closed
    # exactly n working days lie after the day of the close, up to and including the due day
    counted = sum(CAL.is_workday(local_date(closed) + timedelta(days=k))
                  for k in range(1, (day - local_date(closed)).days + 1))
    assert counted == n


@given(closed=instants, later=st.integers(0, 20 * 24), n=st.integers(1, 29))
def test_the_due_instant_never_comes_earlier_for_a_later_close_or_a_longer_time(closed, later, n):
    assert callback_due(CAL, closed, n) <= callback_due(CAL, closed + timedelta(hours=later), n)
    assert callback_due(CAL, closed, n) < callback_due(CAL, closed, n + 1)


@given(state=st.sampled_from(["closed", "rectifying", "merged"]), cb=st.sampled_from(list(CallbackState)),
       due=st.one_of(st.none(), instants), as_of=instants)
def test_only_a_closed_item_owing_its_callback_past_the_due_instant_is_late(state, cb, due, as_of):
    late = callback_overdue(state=state, callback=cb.value, callback_due_at=due, as_of=as_of)
    assert late == (state == "closed" and cb is C.owed and due is not None and as_of > due)


BASE = Kept(dup_id=1, dup_campaign_id=1, keep_id=2, keep_campaign_id=1, keep_number="XS-2023-00002",
            keep_state="rectifying")
MERGE_RULES = [
    ({}, None),
    ({"keep_state": "closed"}, None),                                       # its reporters are told
    ({"keep_id": 1}, "into itself"),
    ({"keep_campaign_id": 2}, "another campaign"),
    ({"keep_state": "merged", "keep_merged_into": "XS-2023-00003"}, "merged into XS-2023-00003"),
    ({"keep_state": "transferred"}, "transferred"),
]


@pytest.mark.parametrize("change,refusal", MERGE_RULES)
def test_the_item_kept_must_be_another_of_the_campaign_still_its_own(change, refusal):
    why = merge_refusal(replace(BASE, **change))
    assert (why is None) if refusal is None else (refusal in why)


@pytest.mark.parametrize("phone,shown", [("13800000102", "138****0102"), ("138-0000-0102", "138-****-0102"),
                                         ("0571-87654321", "057*-****4321"), ("12345", "***45"), (None, None)])
def test_a_telephone_number_is_shown_masked(phone, shown):
    assert masked_phone(phone) == shown
