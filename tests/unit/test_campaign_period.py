"""When a change on the real clock is taken, and when it needs an explicit --now
(statemachine/time/period.py; issue 15: a clue of 2026 filed silently into a 2023 campaign)."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings, strategies as st

from statemachine.time.period import AFTER_END_DAYS, CampaignPeriod, period_refusal

P = CampaignPeriod("xinzhou-2023", date(2023, 3, 15), date(2023, 10, 31))
DAYS = st.dates(date(2021, 1, 1), date(2027, 12, 31))


@settings(max_examples=400, deadline=None)
@given(today=DAYS, start=DAYS, length=st.integers(0, 700))
def test_the_real_clock_is_taken_exactly_from_the_start_to_the_follow_up_s_end(today, start, length):
    p = CampaignPeriod("c", start, start + timedelta(days=length))
    why = period_refusal(p, today=today, chosen=False)
    inside = start <= today <= p.end + timedelta(days=AFTER_END_DAYS)
    assert (why is None) == inside, (p, today, why)
    if why:
        assert "\n" not in why and "--now" in why and str(p.start) in why and str(p.end) in why
        assert str(today) in why


@settings(max_examples=200, deadline=None)
@given(today=DAYS)
def test_an_instant_the_person_chose_is_taken_as_given(today):
    assert period_refusal(P, today=today, chosen=True) is None


def test_the_issue_s_case_and_the_edges():
    assert period_refusal(P, today=date(2026, 11, 30), chosen=False) == (
        "the campaign xinzhou-2023 ran from 2023-03-15 to 2023-10-31 (its follow-up until 2024-01-29); "
        "today is 2026-11-30: give --now to act as of a date in it")
    assert period_refusal(P, today=date(2023, 3, 14), chosen=False) == (
        "the campaign xinzhou-2023 runs from 2023-03-15 to 2023-10-31; today (2023-03-14) is before it "
        "starts: give --now to act as of a date in it")
    for ok in (P.start, P.end, P.last_day):
        assert period_refusal(P, today=ok, chosen=False) is None
    assert period_refusal(P, today=P.last_day + timedelta(days=1), chosen=False) is not None
    # the web has no --now: it says its own way out
    assert period_refusal(P, today=date(2026, 1, 1), chosen=False, hint="ask an operator").endswith(
        ": ask an operator")
