"""挂账: a clock suspended and resumed, on SQLite and PostgreSQL (statemachine/charts/clock.py)."""
from __future__ import annotations

from datetime import date

import pytest

from services.clues import suspension
from statemachine.errors import GuardRefused, InvalidTransition, PermissionDenied

from ..conftest import at
from .test_clue_services import _add, _substantiated  # deadline 2023-04-30
from .test_extension_requests import _deadline, _rectify_lapses

# (who, trigger) → the refusal, or None
STEPS = [("sup.city", "suspend", None), ("sup.a", "suspend", PermissionDenied), ("off.a", "suspend", PermissionDenied),
         ("sup.city", "resume", InvalidTransition)]  # a running clock is not resumed


@pytest.mark.parametrize("actor,trigger,refused", STEPS)
def test_only_the_level_above_stops_a_clock(engine, campaign, calendar, actor, trigger, refused):
    n = _substantiated(engine, campaign, calendar)
    call = (lambda: suspension.suspend(engine, campaign, n, reason="诉讼未决", actor=actor, now=at("2023-04-10"))) \
        if trigger == "suspend" else \
        (lambda: suspension.resume(engine, campaign, n, actor=actor, now=at("2023-04-10"), calendar=calendar))
    if refused:
        with pytest.raises(refused):
            call()
    else:
        assert call().clock == "suspended"


def test_suspending_needs_a_reason_and_a_running_clock(engine, campaign, calendar):
    n = _substantiated(engine, campaign, calendar)
    with pytest.raises(GuardRefused, match="reason"):
        suspension.suspend(engine, campaign, n, reason=None, actor="sup.city", now=at("2023-04-10"))
    suspension.suspend(engine, campaign, n, reason="季节性施工", actor="sup.city", now=at("2023-04-10"))
    with pytest.raises(InvalidTransition):
        suspension.suspend(engine, campaign, n, reason="再次", actor="sup.city", now=at("2023-04-11"))


def test_a_suspended_item_raises_no_lapse_and_resuming_moves_its_deadline(engine, campaign, calendar):
    n = _substantiated(engine, campaign, calendar)
    suspension.suspend(engine, campaign, n, reason="等待规划部门批复", actor="sup.city", now=at("2023-04-24"))
    assert _rectify_lapses(engine, campaign, calendar, at("2023-05-08")) == []
    # stood 04-24 .. 05-08: 04-24..28, 04-23 is Sunday; 05-01..03 holiday, 05-04, 05-05, 05-06 (worked Sat)
    v = suspension.resume(engine, campaign, n, actor="sup.city", now=at("2023-05-08"), calendar=calendar)
    assert v.moved_by == 8 and v.clock == "running"
    assert _deadline(engine, n) == calendar.add_working_days(date(2023, 4, 30), 8) == date(2023, 5, 12)
    with pytest.raises(InvalidTransition):  # resuming twice changes nothing
        suspension.resume(engine, campaign, n, actor="sup.city", now=at("2023-05-09"), calendar=calendar)
    assert _deadline(engine, n) == date(2023, 5, 12)
    assert _rectify_lapses(engine, campaign, calendar, at("2023-05-12 12:00")) == []
    assert [s for s, _ in _rectify_lapses(engine, campaign, calendar, at("2023-05-13"))] == [n]


def test_a_closed_item_has_no_clock_to_stop(engine, campaign, calendar):
    from services.clues import lifecycle as clues

    n = _add(engine, campaign, calendar)
    clues.transition(engine, campaign, n, "verify", actor="off.a", now=at("2023-03-21"))
    clues.transition(engine, campaign, n, "dismiss", actor="off.a", now=at("2023-03-22"),
                     data=clues.ClueInput(reason="查无实据"))
    with pytest.raises(GuardRefused, match="running clock"):
        suspension.suspend(engine, campaign, n, reason="诉讼", actor="sup.city", now=at("2023-03-23"))


def test_a_clues_history_shows_its_extension_requests_and_its_clock(engine, campaign, calendar):
    from services.clues import extensions as ext
    from services.clues.lifecycle import get_clue

    n = _substantiated(engine, campaign, calendar)
    other = _substantiated(engine, campaign, calendar)  # its steps never show in n's history
    ext.request_extension(engine, campaign, other, until=date(2023, 5, 15), reason="另案", actor="off.a",
                          now=at("2023-04-03"), calendar=calendar)
    suspension.suspend(engine, campaign, n, reason="诉讼未决", actor="sup.city", now=at("2023-04-03"))
    suspension.resume(engine, campaign, n, actor="sup.city", now=at("2023-04-10"), calendar=calendar)
    ext.request_extension(engine, campaign, n, until=date(2023, 5, 20), reason="汛期", actor="off.a",
                          now=at("2023-04-20"), calendar=calendar)
    ext.approve_extension(engine, campaign, n, actor="sup.city", now=at("2023-04-21"), calendar=calendar)
    steps = [(h["entity"], h["trigger"]) for h in get_clue(engine, campaign, n).history]
    assert steps[-5:] == [("clue_clock", "suspend"), ("clue_clock", "resume"), ("extension", "request_extension"),
                          ("extension", "approve"), ("clue", "extend")]
    assert ("extension", "request_extension") not in steps[:-5]
