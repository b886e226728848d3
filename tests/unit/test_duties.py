"""Reporting duties expanded into occurrences: weekly with a time of day,
monthly by a day (clamped to short months, or the month's end), once, and a
stage's summary; periods are stable labels."""
from __future__ import annotations

from datetime import date, datetime, time

import pytest
from hypothesis import given, strategies as st

from services.campaigns.plans import read_plan
from statemachine.errors import InvalidInput
from statemachine.plan import Plan
from statemachine.reports.duties import all_occurrences, find_occurrence, occurrences
from statemachine.time.calendar import TZ

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


# -- "at the end of each stage" (stage_end without a stage: 每阶段一总结, seed 000) ---------------
def test_stage_end_without_a_stage_owes_each_stages_summary_at_its_end_labelled_by_stage():
    plan = plan_with({"key": "each", "name": "阶段总结", "schedule": {"kind": "stage_end"}})
    occ = occurrences(plan, plan.reporting[0])
    # the small plan: deploy by 04-07, self_check 04-08 – 05-10, summary ongoing without a date
    assert [(o.period, o.due_at, o.start, o.end) for o in occ] == [
        ("deploy", datetime(2023, 4, 7, 23, 59, 59, tzinfo=TZ), date(2023, 3, 15), date(2023, 4, 7)),
        ("self_check", datetime(2023, 5, 10, 23, 59, 59, tzinfo=TZ), date(2023, 4, 8), date(2023, 5, 10)),
    ]
    assert find_occurrence(plan, "each", "self_check") == occ[1]
    assert find_occurrence(plan, "each", None, at=datetime(2023, 4, 9, tzinfo=TZ)).period == "self_check"


def _stages_plan(stages: list[dict], **duty) -> Plan:
    base = read_plan(SMALL_PLAN).model_dump()
    base["stages"] = stages
    base["reporting"] = [{"key": "each", "name": "阶段总结", "schedule": {"kind": "stage_end"}, **duty}]
    return Plan.model_validate(base)


def test_an_ongoing_stage_with_a_summary_date_owes_its_summary_then_and_out_of_order_dates_are_sorted():
    # 001's shape: the ongoing summary stage's report is due before the rectification stage ends
    plan = _stages_plan([
        {"key": "deploy", "name": "动员部署", "end": "2023-03-25"},
        {"key": "rectify", "name": "查纠整改", "start": "2023-07-01", "end": "2023-10-31"},
        {"key": "summary", "name": "总结提升", "ongoing": True, "summary_due": "2023-10-01"}])
    occ = occurrences(plan, plan.reporting[0])
    assert [(o.period, o.due_at.date()) for o in occ] == [
        ("deploy", date(2023, 3, 25)), ("summary", date(2023, 10, 1)), ("rectify", date(2023, 10, 31))]
    summary = occ[1]
    assert (summary.start, summary.end) == (date(2023, 3, 15), date(2023, 10, 1))


def test_a_stages_summary_date_comes_before_its_end_and_the_duty_window_limits_each_stage():
    # 004's 查摆问题: the stage ends 05-10, its ledger is due 05-15
    stages = [{"key": "deploy", "name": "安排部署", "end": "2023-04-20"},
              {"key": "find", "name": "查摆问题", "end": "2023-05-10", "summary_due": "2023-05-15"},
              {"key": "rectify", "name": "集中整治", "end": "2023-09-30"}]
    plan = _stages_plan(stages)
    assert [(o.period, o.due_at.date()) for o in occurrences(plan, plan.reporting[0])] == [
        ("deploy", date(2023, 4, 20)), ("find", date(2023, 5, 15)), ("rectify", date(2023, 9, 30))]
    windowed = _stages_plan(stages, start="2023-05-01", until="2023-06-30")
    assert [o.period for o in occurrences(windowed, windowed.reporting[0])] == ["find"]


@pytest.mark.parametrize("stem", ["default-five-stage", "000-neimenggu-2023"])
def test_the_shipped_plans_stage_summaries_are_owed_for_each_stage(stem):
    plan = read_plan(PLANS / f"{stem}.yaml")
    summaries = [o for o in all_occurrences(plan) if o.duty == "stage_summary"]
    with_date = [s for s in plan.stages if s.summary_due or s.end]
    assert [o.period for o in summaries] == [s.key for s in with_date]
    assert [o.due_at.date() for o in summaries] == [s.summary_due or s.end for s in with_date]
    if stem == "default-five-stage":  # 总结提升 is ongoing; its summary is due 10-20
        assert (summaries[-1].period, summaries[-1].due_at.date()) == ("summary", date(2023, 10, 20))


_day = st.dates(date(2023, 3, 1), date(2023, 12, 31))


@st.composite
def _stage_lists(draw):
    n = draw(st.integers(1, 6))
    stages = []
    for i in range(n):
        ongoing = i == n - 1 and draw(st.booleans())
        start, end = sorted((draw(_day), draw(_day)))
        stage = {"key": f"s{i}", "name": f"阶段{i}", "start": start.isoformat()}
        if not ongoing:
            stage["end"] = end.isoformat()
        else:
            stage["ongoing"] = True
        if draw(st.booleans()):
            stage["summary_due"] = draw(_day).isoformat()
        stages.append(stage)
    return stages


@given(_stage_lists())
def test_each_stage_with_a_date_owes_one_summary_labelled_by_its_key_in_due_order(stages):
    plan = _stages_plan(stages)
    occ = occurrences(plan, plan.reporting[0])
    owing = [s for s in plan.stages if s.summary_due or s.end]
    assert sorted(o.period for o in occ) == sorted(s.key for s in owing)
    by_key = {s.key: s for s in owing}
    assert all(o.due_at.date() == (by_key[o.period].summary_due or by_key[o.period].end) for o in occ)
    assert [o.due_at for o in occ] == sorted(o.due_at for o in occ)
    # a named stage owes exactly what "each" owes for that stage
    for s in plan.stages:
        named = plan_with_stage_duty(plan, s.key)
        assert occurrences(named, named.reporting[0]) == [o for o in occ if o.period == s.key]


def plan_with_stage_duty(plan: Plan, stage: str) -> Plan:
    data = plan.model_dump()
    data["reporting"] = [{"key": "each", "name": "阶段总结", "schedule": {"kind": "stage_end", "stage": stage}}]
    return Plan.model_validate(data)
