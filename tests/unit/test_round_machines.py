"""The round and check machines, table-driven: every (state, trigger) pair either
moves to the table's destination or is refused naming the allowed triggers."""
from __future__ import annotations

from datetime import date

import pytest

from statemachine.errors import GuardRefused, InvalidTransition
from statemachine.lookback import (CHECK_CHART, ROUND_CHART, CheckContext, CheckState, RoundContext,
                                   RoundState, method_key)
from statemachine.table import Subject

R, K = RoundState, CheckState
ROUND_TABLE = {("open", R.planned): R.open, ("begin_close", R.open): R.closing,
               ("close", R.closing): R.closed, ("cancel", R.planned): R.cancelled,
               ("cancel", R.open): R.cancelled}
CHECK_TABLE = {("confirm", K.pending): K.confirmed, ("find_relapse", K.pending): K.relapsed,
               ("find_faked", K.pending): K.faked, ("revise", K.confirmed): K.pending,
               ("revise", K.relapsed): K.pending, ("revise", K.faked): K.pending,
               ("miss", K.pending): K.missed, ("cancel", K.pending): K.cancelled}
FULL_CHECK = CheckContext(method="四不两直", inspector="吴海峰", findings="问题反弹", checked_on=date(2023, 9, 2),
                          reason="录入错误")


@pytest.mark.parametrize("state", list(RoundState))
@pytest.mark.parametrize("trigger", ROUND_CHART.triggers)
def test_every_round_pair_follows_the_table(state, trigger):
    subject = Subject(state=state, ctx=RoundContext(reason="范围有误"), entity="round lb-1")
    want = ROUND_TABLE.get((trigger, state))
    if want is None:
        with pytest.raises(InvalidTransition) as e:
            ROUND_CHART.fire(subject, trigger)
        assert state.value in str(e.value) and trigger in str(e.value)
    else:
        assert ROUND_CHART.fire(subject, trigger).dest == want and subject.state == want


@pytest.mark.parametrize("state", list(CheckState))
@pytest.mark.parametrize("trigger", CHECK_CHART.triggers)
def test_every_check_pair_follows_the_table(state, trigger):
    subject = Subject(state=state, ctx=FULL_CHECK, entity="check of XS-1")
    want = CHECK_TABLE.get((trigger, state))
    if want is None:
        with pytest.raises(InvalidTransition):
            CHECK_CHART.fire(subject, trigger)
    else:
        assert CHECK_CHART.fire(subject, trigger).dest == want


def test_closed_and_cancelled_rounds_and_missed_checks_are_final():
    for s in (R.closed, R.cancelled):
        assert ROUND_CHART.allowed(s) == []
    for s in (K.missed, K.cancelled):
        assert CHECK_CHART.allowed(s) == []


@pytest.mark.parametrize("trigger, field, guard", [
    ("confirm", "method", "has_method"), ("confirm", "inspector", "has_inspector"),
    ("confirm", "checked_on", "has_check_date"),
    ("find_relapse", "findings", "has_findings"), ("find_faked", "findings", "has_findings"),
    ("find_faked", "method", "has_method"),
])
@pytest.mark.parametrize("blank", [None, "   "])
def test_a_check_needs_its_facts(trigger, field, guard, blank):
    if field == "checked_on" and blank is not None:
        return  # a date is either there or not
    ctx = CheckContext(**{**vars(FULL_CHECK), field: blank})
    with pytest.raises(GuardRefused) as e:
        CHECK_CHART.fire(Subject(state=K.pending, ctx=ctx), trigger)
    assert e.value.guard == guard


def test_a_confirmation_needs_no_findings_and_an_unknown_method_is_refused():
    ok = CheckContext(**{**vars(FULL_CHECK), "findings": None})
    assert CHECK_CHART.fire(Subject(state=K.pending, ctx=ok), "confirm").dest == K.confirmed
    bad = CheckContext(**{**vars(FULL_CHECK), "method": "走马观花"})
    with pytest.raises(GuardRefused, match="unknown method '走马观花'"):
        CHECK_CHART.fire(Subject(state=K.pending, ctx=bad), "confirm")


def test_revising_and_cancelling_need_a_reason():
    with pytest.raises(GuardRefused, match="reason"):
        CHECK_CHART.fire(Subject(state=K.relapsed, ctx=CheckContext()), "revise")
    with pytest.raises(GuardRefused, match="reason"):
        ROUND_CHART.fire(Subject(state=R.open, ctx=RoundContext()), "cancel")


@pytest.mark.parametrize("given, key", [("四不两直", "four_nos"), ("随机抽查", "random"), ("file_review", "file_review"),
                                        ("实地暗访", "undercover"), ("看一看", None)])
def test_methods_are_known_by_key_or_chinese_name(given, key):
    assert method_key(given) == key
