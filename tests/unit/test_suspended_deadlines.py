"""挂账: "start + budget + working days suspended", one function, and its properties."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings, strategies as st

from statemachine.time.calendar import WorkingCalendar
from statemachine.time.deadlines import Pause, moved_deadline, resumed, suspended_working_days

CAL = WorkingCalendar()
DAYS = st.dates(min_value=date(2023, 1, 1), max_value=date(2023, 12, 31))


@st.composite
def pauses(draw, max_size=4):
    out = []
    for _ in range(draw(st.integers(0, max_size))):
        start = draw(DAYS)
        length = draw(st.integers(0, 40))
        out.append(Pause(start, start + timedelta(days=length)))
    return tuple(out)


@settings(max_examples=200, deadline=None)
@given(due=DAYS, ps=pauses(), ext=st.one_of(st.none(), DAYS))
def test_never_earlier_than_without_suspensions_or_extensions(due, ps, ext):
    assert moved_deadline(CAL, due=due, pauses=ps, extended_to=ext) >= due
    assert moved_deadline(CAL, due=due, pauses=ps, extended_to=ext) >= moved_deadline(CAL, due=due, pauses=ps)
    assert moved_deadline(CAL, due=due, pauses=ps, extended_to=ext) >= moved_deadline(CAL, due=due,
                                                                                     extended_to=ext)


@settings(max_examples=200, deadline=None)
@given(due=DAYS, ps=pauses(), extra=pauses(max_size=1))
def test_adding_a_suspension_never_shortens(due, ps, extra):
    assert moved_deadline(CAL, due=due, pauses=ps + extra) >= moved_deadline(CAL, due=due, pauses=ps)


@settings(max_examples=200, deadline=None)
@given(due=DAYS, start=DAYS, first=st.integers(0, 30), later=st.integers(0, 30))
def test_resuming_twice_changes_nothing(due, start, first, later):
    standing = (Pause(start),)
    once = resumed(standing, start + timedelta(days=first))
    twice = resumed(once, start + timedelta(days=first + later))
    assert twice == once
    assert moved_deadline(CAL, due=due, pauses=twice) == moved_deadline(CAL, due=due, pauses=once)


@settings(max_examples=200, deadline=None)
@given(due=DAYS, start=DAYS, gaps=st.lists(st.tuples(st.integers(0, 10), st.integers(0, 15)), max_size=4))
def test_resuming_spell_by_spell_is_moving_by_all_of_them_at_once(due, start, gaps):
    """The service moves a deadline on each resume; that must equal counting every spell at once."""
    spells, day = [], start
    for gap, length in gaps:
        day += timedelta(days=gap)
        spells.append(Pause(day, day + timedelta(days=length)))
        day += timedelta(days=length)
    step = due
    for p in spells:
        step = moved_deadline(CAL, due=step, pauses=(p,))
    assert step == moved_deadline(CAL, due=due, pauses=tuple(spells))


def test_the_working_days_a_clock_stood_are_counted_once():
    # Mon 2023-06-19 .. Fri 06-23 is a short week (端午 06-22/23); 06-25 (Sun) is a working day
    week = Pause(date(2023, 6, 19), date(2023, 6, 26))
    assert suspended_working_days(CAL, (week,), until=date(2023, 7, 1)) == 4
    assert suspended_working_days(CAL, (week, Pause(date(2023, 6, 20), date(2023, 6, 21))),
                                  until=date(2023, 7, 1)) == 4
    assert moved_deadline(CAL, due=date(2023, 6, 30), pauses=(week,)) == date(2023, 7, 6)
    # a standing pause counts until the day given
    assert suspended_working_days(CAL, (Pause(date(2023, 6, 19)),), until=date(2023, 6, 21)) == 2
    assert moved_deadline(CAL, due=date(2023, 7, 1), pauses=()) == date(2023, 7, 1)  # a Saturday stays
