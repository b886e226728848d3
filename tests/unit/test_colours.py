"""A deadline's warning and a unit's report colour are two rules, named apart
(statemachine/warning.py)."""
from __future__ import annotations

from datetime import timedelta

from hypothesis import given, strategies as st

from statemachine.warning import DeadlineColour, UnitColour, unit_colour, warning_colour

from ..conftest import at

DUE = at("2023-05-10 23:59")


@given(hours=st.integers(min_value=-200, max_value=200))
def test_a_deadline_turns_blue_then_yellow_then_red_as_it_comes_and_goes(hours):
    colour = DeadlineColour(warning_colour(DUE, DUE - timedelta(hours=hours)))
    if hours < 0:
        assert colour is DeadlineColour.red
    elif hours <= 24:
        assert colour is DeadlineColour.yellow
    elif hours <= 72:
        assert colour is DeadlineColour.blue
    else:
        assert colour is DeadlineColour.none


@given(overdue=st.integers(0, 3), due_soon=st.integers(0, 3), rate=st.none() | st.floats(0, 1),
       average=st.none() | st.floats(0, 1))
def test_a_units_colour_is_the_worst_that_applies(overdue, due_soon, rate, average):
    colour = UnitColour(unit_colour(overdue=overdue, due_soon=due_soon, rate=rate, average=average))
    below = rate is not None and average is not None and rate < average
    assert colour is (UnitColour.overdue if overdue else UnitColour.below_average if below
                      else UnitColour.due_soon if due_soon else UnitColour.normal)
