"""考核排名 as pure rules (statemachine/ranking.py): scores from counts, the order, 红榜/黑榜."""
from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from services.ranking.counts import bounds
from statemachine.errors import InvalidInput
from statemachine.ranking import (WORK_ORDER_FACTS, Deductions, RankingRules, UnitCounts, Weights, rank, rates_of,
                                  red_and_black, score_of)
from statemachine.ranking_period import parse_period

RULES = RankingRules()


def counts(draw_int=st.integers(0, 40)):
    @st.composite
    def one(draw, code):
        closed = draw(draw_int)
        in_hand = closed + draw(draw_int)
        assigned = draw(draw_int)
        callbacks = draw(draw_int)
        return UnitCounts(unit=code, in_hand=in_hand, closed=closed, closed_on_time=draw(st.integers(0, closed)),
                          extended=draw(st.integers(0, in_hand)), lapses=draw(draw_int),
                          escalations=draw(st.integers(0, 5)), assigned=assigned,
                          signed_on_time=draw(st.integers(0, assigned)), returns_refused=draw(st.integers(0, 5)),
                          callbacks=callbacks, satisfied=draw(st.integers(0, callbacks)),
                          redone=draw(st.integers(0, callbacks)))
    return one


UNITS = st.lists(st.sampled_from([f"u{i:02d}" for i in range(30)]), min_size=1, max_size=12, unique=True) \
    .flatmap(lambda codes: st.tuples(*[counts()(c) for c in codes]))
RULESETS = st.builds(
    RankingRules,
    weights=st.builds(Weights, **{k: st.integers(0, 50) for k in
                                  ("sign_on_time", "close_on_time", "satisfaction", "no_redo", "no_extension")}),
    deductions=st.builds(Deductions, lapse=st.decimals("0", "10", places=1),
                         escalation=st.decimals("0", "10", places=1), refused_return=st.decimals("0", "10", places=1)),
    floor=st.sampled_from([Decimal(0), Decimal(40)]), list_size=st.integers(1, 5))


@settings(max_examples=300, deadline=None)
@given(units=UNITS, rules=RULESETS, which=st.integers(0, 100), more=st.integers(1, 5))
def test_adding_a_lapse_never_raises_a_units_score(units, rules, which, more):
    c = units[which % len(units)]
    assert score_of(replace(c, lapses=c.lapses + more), rules) <= score_of(c, rules)
    assert score_of(replace(c, escalations=c.escalations + more), rules) <= score_of(c, rules)
    assert score_of(replace(c, returns_refused=c.returns_refused + more), rules) <= score_of(c, rules)


@settings(max_examples=300, deadline=None)
@given(units=UNITS, rules=RULESETS, seed=st.integers(0, 2 ** 32))
def test_the_order_is_total_and_the_same_whatever_order_the_counts_come_in(units, rules, seed):
    rows = rank(units, rules)
    shuffled = list(units)
    random.Random(seed).shuffle(shuffled)
    assert [(r.rank, r.unit, r.score) for r in rank(shuffled, rules)] == [(r.rank, r.unit, r.score) for r in rows]
    assert sorted(r.unit for r in rows) == sorted(c.unit for c in units)
    for a, b in zip(rows, rows[1:]):
        assert a.assessed >= b.assessed  # the assessed first
        assert a.score >= b.score or a.assessed > b.assessed
        # equal scores share a rank; a lower score ranks after all who came before it
        tied = a.score == b.score and a.assessed == b.assessed
        assert b.rank == (a.rank if tied else rows.index(b) + 1)
        if tied:
            assert (a.counts.lapses, a.counts.escalations, a.unit) < (b.counts.lapses, b.counts.escalations, b.unit)
    assert all(rules.floor <= r.score <= 100 for r in rows)
    red, black = red_and_black(rows, rules.list_size)
    assert not {r.unit for r in red} & {r.unit for r in black}
    assert len(red) == len(black) <= rules.list_size


def test_a_score_by_hand():
    c = UnitCounts(unit="county-a", in_hand=10, closed=4, closed_on_time=3, extended=1, lapses=2, escalations=1)
    # close_on_time 3/4 (weight 40) and no_extension 9/10 (weight 10) apply: (40·0.75 + 10·0.9)/50 = 0.78
    assert rates_of(c) == {"close_on_time": Fraction(3, 4), "no_extension": Fraction(9, 10)}
    assert score_of(c, RULES) == Decimal("78.00") - 2 * 2 - 3


def test_facts_a_period_does_not_have_neither_reward_nor_punish():
    c = UnitCounts(unit="county-a", in_hand=10, closed=4, closed_on_time=3, extended=1)
    assert all(getattr(c, f) == 0 for f in WORK_ORDER_FACTS)
    # a plan weighting only the facts held scores the same unit the same
    only_held = RankingRules(weights=Weights(sign_on_time=0, close_on_time=40, satisfaction=0, no_redo=0,
                                             no_extension=10))
    assert score_of(c, RULES) == score_of(c, only_held)
    # once wired, a perfect 签收 record raises it and a poor one lowers it
    assert score_of(replace(c, assigned=5, signed_on_time=5), RULES) > score_of(c, RULES)
    assert score_of(replace(c, assigned=5, signed_on_time=0), RULES) < score_of(c, RULES)


def test_nothing_to_assess_is_100_less_deductions_and_off_the_lists():
    rows = rank([UnitCounts(unit="idle", lapses=1), UnitCounts(unit="busy", in_hand=2, closed=2, closed_on_time=1),
                 UnitCounts(unit="good", in_hand=2, closed=2, closed_on_time=2)], RULES)
    # busy: 按时办结 1/2 (40) and no 延期 2/2 (10): (20 + 10) / 50
    assert [(r.unit, r.score, r.assessed) for r in rows] == [
        ("good", Decimal("100.00"), True), ("busy", Decimal("60.00"), True), ("idle", Decimal("98.00"), False)]
    red, black = red_and_black(rows, 3)
    assert [r.unit for r in red] == ["good"] and [r.unit for r in black] == ["busy"]


def test_ties_share_a_rank_and_the_next_rank_skips():
    rows = rank([UnitCounts(unit=u, in_hand=1) for u in ("b", "a", "c")] +
                [UnitCounts(unit="d", in_hand=1, lapses=1)], RULES)
    assert [(r.rank, r.unit) for r in rows] == [(1, "a"), (1, "b"), (1, "c"), (4, "d")]


def test_a_unit_counted_twice_or_a_negative_count_is_refused():
    with pytest.raises(ValueError, match="twice"):
        rank([UnitCounts(unit="a"), UnitCounts(unit="a")], RULES)
    with pytest.raises(ValueError, match="negative"):
        UnitCounts(unit="a", lapses=-1)


@pytest.mark.parametrize("text,label,first,after", [
    ("2023-05", "2023-05", "2023-05-01", "2023-06-01"), ("2023-12", "2023-12", "2023-12-01", "2024-01-01"),
    ("2023-q2", "2023-Q2", "2023-04-01", "2023-07-01"), ("2023-Q4", "2023-Q4", "2023-10-01", "2024-01-01"),
    (" 2023 ", "2023", "2023-01-01", "2024-01-01")])
def test_periods(text, label, first, after):
    p = parse_period(text)
    assert (p.label, p.first.isoformat(), p.after.isoformat()) == (label, first, after)
    start, end = bounds(p)
    assert (start.date(), end.date()) == (p.first, p.after)
    assert start.utcoffset().total_seconds() == 8 * 3600 and start.hour == 0  # Beijing midnight


@pytest.mark.parametrize("text", ["2023-13", "2023-00", "2023-Q5", "May 2023", "", "2023-05-01"])
def test_a_bad_period_is_refused_in_one_line(text):
    with pytest.raises(InvalidInput, match="is not a month") as e:
        parse_period(text)
    assert "\n" not in str(e.value)


def _plan_with(ranking: dict):
    import yaml

    from statemachine.plan import Plan
    from tests.conftest import SMALL_PLAN

    data = yaml.safe_load(SMALL_PLAN.read_text(encoding="utf-8"))
    return Plan.model_validate(data | {"ranking": ranking})


def test_the_plans_ranking_section_gives_the_rules_and_refuses_nonsense():
    from pydantic import ValidationError

    rules = _plan_with({"weights": {"satisfaction": 0}, "deductions": {"lapse": "0.5"}, "list_size": 5}).ranking.rules()
    assert rules.weights.satisfaction == 0 and rules.weights.close_on_time == 40
    assert rules.deductions.lapse == Decimal("0.5") and rules.list_size == 5
    assert _plan_with({}).ranking.rules() == RULES  # the defaults are the pure rules' own
    for bad in ({"weights": {k: 0 for k in ("sign_on_time", "close_on_time", "satisfaction", "no_redo",
                                             "no_extension")}},
                {"deductions": {"lapse": -1}}, {"list_size": 0}, {"weights": {"speed": 5}}):
        with pytest.raises(ValidationError):
            _plan_with(bad)
