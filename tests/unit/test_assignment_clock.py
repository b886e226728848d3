"""The clock of an assignment (statemachine/time/spans.py, deadlines.assignment_clock) and the
sign-for rule (statemachine/charts/signing.sign_for_overdue), as properties and as a table."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from statemachine.charts.signing import sign_for_overdue
from statemachine.time.calendar import WorkingCalendar, end_of_day, local_date, local_time
from statemachine.time.clock import TZ
from statemachine.time.deadlines import assignment_clock
from statemachine.time.spans import OFFICE_HOURS, WorkingSpan, add_working_hours, parse_span, span_end

CAL = WorkingCalendar()
instants = st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2024, 12, 20)).map(
    lambda d: d.replace(tzinfo=TZ))
hours = st.integers(min_value=0, max_value=60)
spans = st.builds(WorkingSpan, st.integers(1, 20), st.sampled_from(["day", "hour"]))
FAST = settings(max_examples=300, deadline=None)


def _office(t: datetime) -> bool:
    t = local_time(t)
    return CAL.is_workday(t.date()) and OFFICE_HOURS[0] <= t.time() <= OFFICE_HOURS[1]


@FAST
@given(start=instants, n=hours)
def test_working_hours_never_go_back_and_land_in_office_hours(start, n):
    end = add_working_hours(CAL, start, n)
    assert end >= start
    if n:
        assert _office(end)
        assert end - start >= timedelta(hours=n)  # time outside office hours never counts


@FAST
@given(start=instants, a=hours, b=hours)
def test_working_hours_add_up(start, a, b):
    # the office hours after a, then b more, are the office hours after a + b
    assert add_working_hours(CAL, add_working_hours(CAL, start, a), b) == add_working_hours(CAL, start, a + b)


@FAST
@given(start=instants, later=st.integers(0, 200), span=spans)
def test_a_span_begun_later_never_ends_earlier(start, later, span):
    assert span_end(CAL, start + timedelta(hours=later), span) >= span_end(CAL, start, span)
    assert span_end(CAL, start, span) > start


@FAST
@given(assigned=instants, restarted=st.integers(0, 400), verify=st.integers(1, 30), sign=st.one_of(st.none(), spans),
       ret=spans)
def test_a_reassigned_clock_restarts_with_the_full_budget(assigned, restarted, verify, sign, ret):
    first = assignment_clock(CAL, assigned_at=assigned, verify_working_days=verify, sign_for=sign, return_window=ret)
    again = assignment_clock(CAL, assigned_at=assigned + timedelta(hours=restarted), verify_working_days=verify,
                             sign_for=sign, return_window=ret)
    # never earlier than where it was, and the whole budget counted from the new assignment
    assert again.verify_due_at >= first.verify_due_at and again.return_until >= first.return_until
    assert again.verify_due_at == end_of_day(CAL.add_working_days(local_date(again.assigned_at), verify))
    assert CAL.working_days_between(local_date(again.assigned_at), local_date(again.verify_due_at)) == verify
    assert (again.sign_due_at is None) == (sign is None)
    if sign is not None:
        assert again.sign_due_at >= first.sign_due_at > assigned


@pytest.mark.parametrize("start,span,end", [
    # Friday 16:00, then the 2023 May Day holiday (4-29 … 5-3) counts nothing
    (datetime(2023, 4, 28, 16, 0, tzinfo=TZ), "4 working hours", datetime(2023, 5, 4, 12, 0, tzinfo=TZ)),
    (datetime(2023, 4, 28, 16, 0, tzinfo=TZ), "1 working day", end_of_day(date(2023, 5, 4))),
    (datetime(2023, 3, 20, 7, 30, tzinfo=TZ), "2 working hours", datetime(2023, 3, 20, 11, 0, tzinfo=TZ)),
    (datetime(2023, 3, 20, 18, 0, tzinfo=TZ), "8 working hours", datetime(2023, 3, 21, 17, 0, tzinfo=TZ)),
    (datetime(2023, 3, 24, 12, 0, tzinfo=TZ), "2 working days", end_of_day(date(2023, 3, 28))),
])
def test_spans_end_where_an_office_would_say(start, span, end):
    assert span_end(CAL, start, parse_span(span)) == end


@pytest.mark.parametrize("text", ["1 day", "0 working days", "two working days", "1 working week", "", "-1 working day"])
def test_a_span_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError):
        parse_span(text)


DUE = datetime(2023, 3, 21, 23, 59, tzinfo=TZ)
LATER, EARLIER = DUE + timedelta(hours=1), DUE - timedelta(hours=1)
# (state, signing, signed_at, return waiting, as_of) → a lapse?
RULE = [
    ("received", "unsigned", None, False, LATER, True),
    ("received", "unsigned", None, False, DUE, False),          # not past due yet
    ("received", "unsigned", None, True, LATER, False),          # a return asked in time excuses it
    ("received", "signed", EARLIER, False, LATER, False),        # signed in time
    ("verifying", "signed", LATER, False, LATER + timedelta(1), True),  # signed late: still a lapse
    ("transferred", "unsigned", None, False, LATER, False),      # nothing open to sign
    ("received", "signed", None, False, LATER, False),           # a plan without signing
]


@pytest.mark.parametrize("state,signing,signed_at,waiting,as_of,lapse", RULE)
def test_the_sign_for_rule(state, signing, signed_at, waiting, as_of, lapse):
    assert sign_for_overdue(state=state, signing=signing, sign_due_at=DUE, signed_at=signed_at,
                            return_waiting=waiting, as_of=as_of) is lapse
    assert not sign_for_overdue(state=state, signing=signing, sign_due_at=None, signed_at=signed_at,
                                return_waiting=waiting, as_of=as_of)
