"""How far a rectification deadline may be set, and extending one (statemachine/time/deadlines.py,
docs/domain.md §5.7): properties over dates and plans, against an oracle that walks the
calendar day by day, and the clue chart applying them."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from statemachine.charts.clue import CLUE_CHART, ClueContext, ClueState
from statemachine.charts.table import Subject
from statemachine.time.deadlines import DeadlineLimit, deadline_limit, deadline_refusal, extension_refusal, \
    receipt_refusal
from statemachine.errors import GuardRefused
from statemachine.time.calendar import TZ, WorkingCalendar, end_of_day

CAL = WorkingCalendar()
DAYS = st.dates(date(2023, 1, 1), date(2024, 12, 31))  # + 365 working days: still covered (2026)
WORKING_DAYS = st.integers(1, 365)  # what a plan may say (statemachine/plan.py ClueRules)
ANY_DEADLINE = st.one_of(st.dates(date(2022, 1, 1), date(2027, 12, 31)),
                         st.sampled_from([date.min, date.max, date(9999, 12, 31)]))


def _latest_by_walking(today: date, n: int) -> date:
    """The oracle: step day by day past `today`, counting official working days."""
    d, seen = today, 0
    while seen < n:
        d += timedelta(days=1)
        seen += CAL.is_workday(d)
    return d


@settings(max_examples=300, deadline=None)
@given(today=DAYS, n=st.integers(1, 120), deadline=ANY_DEADLINE)
def test_a_deadline_is_allowed_exactly_from_its_day_to_the_nth_working_day_after(today, n, deadline):
    limit = deadline_limit(CAL, today=today, working_days=n)
    latest = _latest_by_walking(today, n)
    assert limit.latest == latest and CAL.is_workday(latest)
    why = deadline_refusal(deadline, limit)
    assert (why is None) == (today <= deadline <= latest), (today, n, deadline, why)
    if deadline > latest:
        assert f"at most {latest}" in why and "延期" in why and "\n" not in why


@settings(max_examples=200, deadline=None)
@given(today=DAYS, n=WORKING_DAYS, a=st.integers(0, 800), b=st.integers(0, 800))
def test_the_allowed_deadlines_are_one_unbroken_span(today, n, a, b):
    limit = deadline_limit(CAL, today=today, working_days=n)
    early, late = sorted((today + timedelta(days=a), today + timedelta(days=b)))
    if deadline_refusal(late, limit) is None:
        assert deadline_refusal(early, limit) is None
    # a longer plan never allows less
    assert deadline_limit(CAL, today=today, working_days=min(n + 1, 365)).latest >= limit.latest


@settings(max_examples=200, deadline=None)
@given(current=DAYS, new=DAYS, hours=st.integers(-72, 72))
def test_an_extension_is_asked_for_before_the_deadline_passes_and_moves_it_later(current, new, hours):
    as_of = datetime.combine(current, time(12, 0), TZ) + timedelta(hours=hours)
    why = extension_refusal(current=current, current_due=end_of_day(current), new=new, as_of=as_of)
    in_time = as_of <= end_of_day(current)
    assert (why is None) == (in_time and new > current), (current, new, as_of, why)
    if not in_time:
        assert "has passed" in why
    assert extension_refusal(current=None, current_due=None, new=new, as_of=as_of) == \
        "the item has no deadline to extend"


# -- the chart applies the rule ------------------------------------------------------------
def _ctx(**kw) -> ClueContext:
    base = dict(actor="sup.city", actor_unit=1, owner_unit=2, owner="赵书涵", measures="退还罚款",
                reason="汛期施工，申请延期", as_of=datetime(2023, 5, 10, 10, 0, tzinfo=TZ),
                limit=DeadlineLimit(date(2023, 5, 10), date(2023, 6, 21), 30), row_received=date(2023, 4, 3))
    return ClueContext(**(base | kw))


@settings(max_examples=200, deadline=None)
@given(deadline=ANY_DEADLINE, trigger=st.sampled_from(["substantiate", "reopen"]))
def test_substantiate_and_reopen_move_exactly_when_the_deadline_is_within_the_limit(deadline, trigger):
    ctx = _ctx(deadline=deadline)
    source = ClueState.verifying if trigger == "substantiate" else ClueState.closed
    subject = Subject(state=source, ctx=ctx, entity="XS-2023-00001")
    if deadline_refusal(deadline, ctx.limit) is None:
        CLUE_CHART.fire(subject, trigger)
        assert subject.state == ClueState.rectifying
    else:
        with pytest.raises(GuardRefused) as e:
            CLUE_CHART.fire(subject, trigger)
        assert e.value.guard == "deadline_within_limit" and subject.state == source


@settings(max_examples=200, deadline=None)
@given(new=ANY_DEADLINE, current=st.dates(date(2023, 5, 1), date(2023, 7, 31)))
def test_extend_moves_exactly_when_in_time_later_and_within_the_limit(new, current):
    ctx = _ctx(deadline=new, row_deadline=current, row_deadline_at=end_of_day(current))
    subject = Subject(state=ClueState.rectifying, ctx=ctx, entity="XS-2023-00001")
    ok = (deadline_refusal(new, ctx.limit) is None
          and extension_refusal(current=current, current_due=end_of_day(current), new=new, as_of=ctx.as_of) is None)
    if ok:
        CLUE_CHART.fire(subject, "extend")
        assert subject.state == ClueState.rectifying
    else:
        with pytest.raises(GuardRefused) as e:
            CLUE_CHART.fire(subject, "extend")
        assert e.value.guard in ("extension_within_limit", "extends_in_time")


def test_a_step_that_sets_a_deadline_without_its_limit_is_refused_not_let_through():
    subject = Subject(state=ClueState.verifying, ctx=_ctx(deadline=date(2023, 6, 1), limit=None))
    with pytest.raises(GuardRefused, match="no deadline limit was given"):
        CLUE_CHART.fire(subject, "substantiate")


def test_the_issue_s_cases():
    limit = DeadlineLimit(date(2023, 5, 10), date(2023, 6, 21), 30)
    assert deadline_refusal(date(9999, 12, 31), limit) == (
        "the deadline 9999-12-31 is beyond the plan's limit of 30 working days (at most 2023-06-21); "
        "a later deadline is an extension (延期): asked for before the deadline passes, granted by a "
        "supervisor above the unit")
    # the ledger's move of 2023-09-30 to 2026-12-31, the day before it lapsed, as an extension
    asked = datetime(2023, 9, 29, 16, 0, tzinfo=TZ)
    on_the_day = deadline_limit(CAL, today=asked.date(), working_days=30)
    assert deadline_refusal(date(2026, 12, 31), on_the_day, extending=True).endswith(
        "a further extension may be granted nearer the time")
    assert extension_refusal(current=date(2023, 9, 30), current_due=end_of_day(date(2023, 9, 30)),
                             new=date(2023, 10, 31), as_of=asked) is None


# -- never before the item was received (issue 15: `substantiate --deadline 2022-01-01`) -----------
@settings(max_examples=300, deadline=None)
@given(deadline=ANY_DEADLINE, received=DAYS)
def test_a_deadline_before_the_receipt_is_refused_and_only_that(deadline, received):
    why = receipt_refusal(deadline, received)
    assert (why is None) == (deadline >= received)
    if why:
        assert str(received) in why and str(deadline) in why and "\n" not in why


@settings(max_examples=300, deadline=None)
@given(deadline=st.dates(date(2022, 1, 1), date(2023, 6, 30)), received=st.dates(date(2022, 1, 1), date(2023, 6, 30)),
       trigger=st.sampled_from(["substantiate", "reopen", "extend"]))
def test_every_step_that_sets_a_deadline_refuses_one_before_the_receipt(deadline, received, trigger):
    # the limit and the running deadline let everything through: only the receipt can refuse
    ctx = _ctx(deadline=deadline, row_received=received, as_of=datetime(2021, 12, 1, 10, 0, tzinfo=TZ),
               limit=DeadlineLimit(date(2021, 12, 1), date(2024, 1, 1), 365),
               row_deadline=date(2021, 12, 31), row_deadline_at=end_of_day(date(2021, 12, 31)))
    source = {"substantiate": ClueState.verifying, "reopen": ClueState.closed, "extend": ClueState.rectifying}[trigger]
    subject = Subject(state=source, ctx=ctx, entity="XS-2023-00001")
    if deadline >= received:
        CLUE_CHART.fire(subject, trigger)
        assert subject.state == ClueState.rectifying
    else:
        with pytest.raises(GuardRefused) as e:
            CLUE_CHART.fire(subject, trigger)
        assert e.value.guard == "deadline_after_receipt" and subject.state == source
        assert f"before the item was received ({received})" in str(e.value)


def test_a_step_that_sets_a_deadline_without_the_receipt_is_refused_not_let_through():
    subject = Subject(state=ClueState.verifying, ctx=_ctx(deadline=date(2023, 6, 1), row_received=None))
    with pytest.raises(GuardRefused, match="receipt date was not given"):
        CLUE_CHART.fire(subject, "substantiate")
