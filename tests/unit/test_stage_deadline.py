"""When a stage's work is due, and what a unit in it has missed (docs/domain.md §4.2, §4.4):
a stage with an end is due when that day ends; an ongoing stage (长期推进) is
never late, but a date stated for it is when its deliverables are owed (003:
总结提升 "10月25日前阶段性完成，长期推进")."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, strategies as st

from services.campaigns.plans import read_plan
from statemachine.charts.unit_stage import DELIVERABLES_OVERDUE, STAGE_DEADLINE, stage_deadline, \
    stage_lapse
from statemachine.plan import LAPSE_CAUSES, EscalationPolicy, StageSpec
from statemachine.time.calendar import TZ, end_of_day

from ..conftest import SMALL_PLAN

PLANS = SMALL_PLAN.parent.parent.parent / "deploy" / "plans"
KEYS = ["impl_plan", "ledger", "long_term_measures"]


def stage(**kw) -> StageSpec:
    return StageSpec.model_validate({"key": "summary", "name": "总结提升", **kw})


def test_a_stage_with_an_end_is_due_when_that_day_ends_whatever_was_delivered():
    due = stage_deadline(stage(end="2023-04-07", deliverables=[{"key": "impl_plan", "name": "实施方案"}]))
    assert (due.due_at, due.deliverables_due_at, due.required) == (end_of_day(date(2023, 4, 7)), None,
                                                                   ("impl_plan",))
    assert stage_lapse(due, recorded=set(), as_of=datetime(2023, 4, 7, 23, 59, 59, tzinfo=TZ)) is None
    assert stage_lapse(due, recorded={"impl_plan"}, as_of=datetime(2023, 4, 8, tzinfo=TZ)) == STAGE_DEADLINE


def test_the_xinzhou_summary_stage_owes_its_long_term_measures_by_the_end_of_october_25():
    summary = read_plan(PLANS / "003-xinzhou-2023.yaml").stages[-1]
    due = stage_deadline(summary)
    assert summary.ongoing and due.due_at is None  # the stage stays open: nobody is late in it
    assert due.deliverables_due_at == datetime.combine(date(2023, 10, 25), datetime.max.time(), TZ)
    assert due.required == ("long_term_measures",)
    assert stage_lapse(due, recorded=set(), as_of=datetime(2023, 10, 25, 23, 0, tzinfo=TZ)) is None
    assert stage_lapse(due, recorded=set(), as_of=datetime(2023, 10, 26, 0, 5, tzinfo=TZ)) == DELIVERABLES_OVERDUE
    assert stage_lapse(due, recorded={"long_term_measures"}, as_of=datetime(2024, 1, 1, tzinfo=TZ)) is None


def test_an_ongoing_stage_without_a_date_or_without_deliverables_owes_nothing_fixed():
    undated = stage_deadline(stage(ongoing=True, deliverables=[{"key": "x", "name": "材料"}]))
    empty = stage_deadline(stage(ongoing=True, summary_due="2023-10-25"))
    for due in (undated, empty):
        assert (due.due_at, due.deliverables_due_at) == (None, None)
        assert stage_lapse(due, recorded=set(), as_of=datetime(2030, 1, 1, tzinfo=TZ)) is None


def test_the_stage_causes_are_ladder_causes_answered_by_criticism_by_default():
    assert {STAGE_DEADLINE, DELIVERABLES_OVERDUE} <= set(LAPSE_CAUSES)
    policy = EscalationPolicy()
    assert policy.level_for(STAGE_DEADLINE) == policy.level_for(DELIVERABLES_OVERDUE) == 1


_days = st.dates(date(2023, 3, 1), date(2023, 12, 31))


@st.composite
def stages(draw):
    ongoing = draw(st.booleans())
    required = draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=3))
    data = {"deliverables": [{"key": k, "name": k} for k in required]}
    if ongoing:
        data["ongoing"] = True
    else:
        data["end"] = draw(_days).isoformat()
    if draw(st.booleans()):
        data["summary_due"] = draw(_days).isoformat()
    return stage(**data)


_instants = st.builds(lambda d, m: datetime.combine(d, datetime.min.time(), TZ) + timedelta(minutes=m),
                      st.dates(date(2023, 2, 1), date(2024, 2, 1)), st.integers(0, 24 * 60 - 1))
_recorded = st.sets(st.sampled_from(KEYS))


@given(stages(), _recorded, _instants)
def test_a_unit_is_late_in_a_stage_only_past_its_end_and_owes_deliverables_only_in_an_ongoing_one(
        spec, recorded, as_of):
    due = stage_deadline(spec)
    cause = stage_lapse(due, recorded=recorded, as_of=as_of)
    if not spec.ongoing:
        assert due.deliverables_due_at is None
        assert cause == (STAGE_DEADLINE if as_of > end_of_day(spec.end) else None)
    else:
        assert due.due_at is None and cause != STAGE_DEADLINE
        owed = spec.summary_due is not None and as_of > end_of_day(spec.summary_due)
        missing = {d.key for d in spec.deliverables} - recorded
        assert (cause == DELIVERABLES_OVERDUE) == (owed and bool(missing))


@given(stages(), _recorded, _recorded, _instants, st.integers(0, 400))
def test_a_lapse_once_due_stays_due_later_and_delivering_more_never_makes_one(spec, recorded, more, as_of,
                                                                              days):
    due = stage_deadline(spec)
    cause = stage_lapse(due, recorded=recorded, as_of=as_of)
    if cause is not None:
        assert stage_lapse(due, recorded=recorded, as_of=as_of + timedelta(days=days)) == cause
    if cause is None:
        assert stage_lapse(due, recorded=recorded | more, as_of=as_of) is None
