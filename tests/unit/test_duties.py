"""Reporting duties expanded into occurrences: weekly with a time of day,
monthly by a day (clamped to short months, or the month's end), once, and a
stage's summary; periods are stable labels."""
from __future__ import annotations

from datetime import date, datetime, time

import pytest
from hypothesis import given, strategies as st

from services.plans import read_plan
from statemachine.calendar import TZ
from statemachine.duties import all_occurrences, find_occurrence, occurrences
from statemachine.errors import InvalidInput
from statemachine.plan import Plan, ReportingDuty

from ..conftest import SMALL_PLAN

PLANS = SMALL_PLAN.parent.parent.parent / "deploy" / "plans"


def plan_with(*duties: dict) -> Plan:
    base = read_plan(SMALL_PLAN).model_dump()
    base["reporting"] = list(duties)
    return Plan.model_validate(base)


def test_weekly_thursday_noon_from_start_until_end():
    plan = plan_with({"key": "weekly", "name": "周报",
                      "schedule": {"kind": "weekly", "weekday": "thu", "at": "12:00"},
                      "start": "2023-04-20", "until": "2023-05-11"})
    occ = occurrences(plan, plan.reporting[0])
    assert [o.period for o in occ] == ["2023-04-20", "2023-04-27", "2023-05-04", "2023-05-11"]
    assert occ[0].due_at == datetime(2023, 4, 20, 12, 0, tzinfo=TZ)
    assert all(o.due_at.weekday() == 3 and o.due_at.time() == time(12, 0) for o in occ)
    # each week reports on the days since the previous report
    assert (occ[1].start, occ[1].end) == (date(2023, 4, 21), date(2023, 4, 27))


def test_weekly_starts_on_the_first_matching_weekday():
    plan = plan_with({"key": "w", "name": "周报", "schedule": {"kind": "weekly", "weekday": "mon"},
                      "start": "2023-03-15", "until": "2023-03-31"})  # 03-15 is a Wednesday
    assert [o.period for o in occurrences(plan, plan.reporting[0])] == ["2023-03-20", "2023-03-27"]


def test_monthly_by_day_clamps_and_month_end():
    plan = plan_with({"key": "m31", "name": "月报", "schedule": {"kind": "monthly", "day": 31},
                      "start": "2023-04-01", "until": "2023-06-30"},
                     {"key": "mlast", "name": "月底", "schedule": {"kind": "monthly", "day": "last"},
                      "start": "2023-04-01", "until": "2023-06-30"},
                     {"key": "m8", "name": "自查报告", "schedule": {"kind": "monthly", "day": 8},
                      "start": "2023-05-01", "until": "2023-08-31"})
    m31, last, m8 = (occurrences(plan, d) for d in plan.reporting)
    assert [o.due_at.date() for o in m31] == [date(2023, 4, 30), date(2023, 5, 31), date(2023, 6, 30)]
    assert [o.due_at.date() for o in last] == [o.due_at.date() for o in m31]
    assert [o.period for o in m8] == ["2023-05", "2023-06", "2023-07", "2023-08"]
    assert m8[0].due_at == datetime(2023, 5, 8, 23, 59, 59, tzinfo=TZ)  # "by the 8th" = end of day


def test_monthly_day_before_start_is_skipped():
    plan = plan_with({"key": "m", "name": "简报", "schedule": {"kind": "monthly", "day": 5},
                      "start": "2023-04-10", "until": "2023-06-04"})
    assert [o.period for o in occurrences(plan, plan.reporting[0])] == ["2023-05"]


def test_once_and_stage_end():
    plan = plan_with({"key": "final", "name": "总结报告", "schedule": {"kind": "once", "due": "2023-09-10"},
                      "typical_cases": 3},
                     {"key": "self", "name": "自查阶段总结", "schedule": {"kind": "stage_end", "stage": "self_check"}},
                     {"key": "ongoing", "name": "长期", "schedule": {"kind": "stage_end", "stage": "summary"}})
    final, stage, ongoing = (occurrences(plan, d) for d in plan.reporting)
    assert [(o.period, o.due_at.date(), o.typical_cases) for o in final] == [("2023-09-10", date(2023, 9, 10), 3)]
    assert [(o.period, o.due_at.date(), o.start) for o in stage] == [("self_check", date(2023, 5, 10),
                                                                      date(2023, 4, 8))]
    assert ongoing == []  # an ongoing stage without a summary date owes nothing fixed


def test_find_occurrence_by_period_and_errors():
    plan = plan_with({"key": "m", "name": "月报", "schedule": {"kind": "monthly", "day": 25},
                      "start": "2023-04-01", "until": "2023-06-30"})
    assert find_occurrence(plan, "m", "2023-05").due_at.date() == date(2023, 5, 25)
    assert find_occurrence(plan, "m", None, at=datetime(2023, 5, 26, tzinfo=TZ)).period == "2023-06"
    with pytest.raises(InvalidInput, match="unknown reporting duty 'x'.*one of m"):
        find_occurrence(plan, "x", None)
    with pytest.raises(InvalidInput, match="no period '2023-13'.*2023-04, 2023-05, 2023-06"):
        find_occurrence(plan, "m", "2023-13")


def test_the_shipped_haixi_plan_owes_weekly_thursday_reports():
    plan = read_plan(PLANS / "004-haixi-2023.yaml")
    weekly = [o for o in all_occurrences(plan) if o.duty == "weekly_report"]
    assert weekly[0].due_at == datetime(2023, 4, 20, 12, 0, tzinfo=TZ)
    assert weekly[-1].due_at.date() == date(2023, 10, 26)
    assert len(weekly) == 28
    briefing = [o.period for o in all_occurrences(plan) if o.duty == "monthly_briefing"]
    assert briefing == ["2023-04", "2023-05", "2023-06", "2023-07", "2023-08", "2023-09", "2023-10"]
    lead = [o.duty for o in all_occurrences(plan) if o.owed_by == "lead"]
    assert lead == ["prefecture_report"]


@given(st.dates(date(2023, 1, 1), date(2024, 12, 31)), st.integers(0, 400),
       st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]), st.integers(1, 31))
def test_occurrences_lie_within_their_window_in_order(start, span, weekday, day):
    until = date.fromordinal(start.toordinal() + span)
    plan = plan_with({"key": "w", "name": "周报", "schedule": {"kind": "weekly", "weekday": weekday},
                      "start": start.isoformat(), "until": until.isoformat()},
                     {"key": "m", "name": "月报", "schedule": {"kind": "monthly", "day": day},
                      "start": start.isoformat(), "until": until.isoformat()})
    for duty in plan.reporting:
        occ = occurrences(plan, duty)
        days = [o.due_at.date() for o in occ]
        assert days == sorted(set(days))
        assert all(start <= d <= until for d in days)
        assert len({o.period for o in occ}) == len(occ)
    weekly = occurrences(plan, plan.reporting[0])
    assert len(weekly) in (span // 7, span // 7 + 1)
