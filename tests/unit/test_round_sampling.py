"""Properties of the look-back draw and of team assignment (pure, hypothesis):
a sample is reproducible from its seed whatever the order, each unit gets its
quota and at least the minimum, weights tilt the draw, teams respect 回避 and
stay balanced."""
from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statemachine.assignment import TeamSlot, UnitLoad, assign_units, may_inspect, visit_days
from statemachine.errors import InvalidInput
from statemachine.sampling import Candidate, RiskRules, digest, draw, per_unit_quota, risk_weights, sample_key

units = st.integers(min_value=1, max_value=6)
pools = st.lists(st.tuples(units, st.floats(min_value=1.0, max_value=9.0)), min_size=1, max_size=60)


def candidates(pool) -> list[Candidate]:
    return [Candidate(f"XS-2023-{i:05d}", u, weight=w) for i, (u, w) in enumerate(pool)]


@settings(max_examples=150, deadline=None)
@given(pool=pools, seed=st.integers(min_value=0, max_value=2 ** 53 - 1), shuffle=st.randoms(),
       share=st.floats(min_value=0.01, max_value=1.0), minimum=st.integers(min_value=1, max_value=4))
def test_a_sample_is_reproducible_from_its_seed_in_any_order(pool, seed, shuffle, share, minimum):
    cands = candidates(pool)
    first = draw(seed, cands, share=share, minimum=minimum)
    shuffled = list(cands)
    shuffle.shuffle(shuffled)
    assert draw(seed, shuffled, share=share, minimum=minimum) == first


@settings(max_examples=150, deadline=None)
@given(pool=pools, seed=st.integers(min_value=0, max_value=10 ** 9),
       count=st.one_of(st.none(), st.integers(min_value=1, max_value=10)),
       share=st.floats(min_value=0.01, max_value=1.0), minimum=st.integers(min_value=1, max_value=4))
def test_every_unit_gets_its_quota_and_at_least_the_minimum(pool, seed, count, share, minimum):
    cands = candidates(pool)
    drawn = draw(seed, cands, count=count, share=None if count else share, minimum=minimum)
    for unit in {c.unit for c in cands}:
        n = sum(1 for c in cands if c.unit == unit)
        got = drawn[unit]
        want = min(n, max(count if count else math.ceil(share * n - 1e-9), minimum))
        assert len(got) == want == per_unit_quota(n, count=count, share=None if count else share,
                                                  minimum=minimum)
        assert len(got) >= min(n, minimum) and len(set(got)) == len(got)
        assert {x for x in got} <= {c.number for c in cands if c.unit == unit}


def test_another_seed_draws_another_sample():
    cands = [Candidate(f"N{i}", 1) for i in range(100)]
    samples = {tuple(draw(seed, cands, count=10)[1]) for seed in range(20)}
    assert len(samples) == 20


@given(seed=st.integers(min_value=0, max_value=10 ** 12), number=st.text(min_size=1, max_size=20),
       weight=st.floats(min_value=1.01, max_value=50))
def test_the_key_is_in_the_open_interval_and_weight_raises_it(seed, number, weight):
    u = sample_key(seed, number)
    assert 0 < u < 1 and sample_key(seed, number) == u
    assert sample_key(seed, number, weight) > u


def test_risk_factors_multiply():
    rules = RiskRules(fast=3, fast_ratio=0.25, thin_evidence=2, thin_evidence_chars=10, full_unit=5)
    cands = [Candidate("slow", 1, 40.0, 50), Candidate("fast", 1, 2.0, 50), Candidate("thin", 1, 40.0, 3),
             Candidate("fast-thin", 2, 1.0, 0), Candidate("other", 2, 40.0, 50)]
    w = {c.number: c.weight for c in risk_weights(cands, full_units={2}, rules=rules)}
    # median 40 days: "fast" is under 10 days
    assert w == {"slow": 1, "fast": 3, "thin": 2, "fast-thin": 3 * 2 * 5, "other": 5}


def test_weighted_items_are_drawn_more_often():
    cands = [Candidate(f"H{i}", 1, weight=4.0) for i in range(10)] + \
        [Candidate(f"L{i}", 1, weight=1.0) for i in range(10)]
    heavy = sum(n.startswith("H") for seed in range(300) for n in draw(seed, cands, count=2)[1])
    assert heavy > 0.7 * 600  # weight 4 vs 1: about 4 in 5


def test_the_digest_ignores_order_and_sees_a_change():
    assert digest(["b", "a"]) == digest(["a", "b"]) != digest(["a", "c"])


# -- teams ------------------------------------------------------------------------------------
SCOPE = "/1/"


@st.composite
def rounds(draw_):
    n = draw_(st.integers(min_value=1, max_value=25))
    loads = [UnitLoad(i, f"u{i:03d}", f"/1/{i}/", draw_(st.integers(min_value=1, max_value=50)))
             for i in range(2, n + 2)]
    teams = []
    for t in range(draw_(st.integers(min_value=1, max_value=5))):
        homes = draw_(st.lists(st.sampled_from([ld.path for ld in loads] + ["/1/"]), max_size=2))
        teams.append(TeamSlot(100 + t, f"t{t}", tuple(homes)))
    return loads, teams


@settings(max_examples=200, deadline=None)
@given(rounds())
def test_a_team_never_gets_a_unit_a_member_comes_from(case):
    loads, teams = case
    try:
        assigned = assign_units(loads, teams, scope_path=SCOPE)
    except InvalidInput as e:
        stuck = [ld for ld in loads if not any(may_inspect(t, ld.path, SCOPE) for t in teams)]
        assert any(f"'{ld.code}'" in str(e) for ld in stuck)
        return
    assert set(assigned) == {ld.unit for ld in loads}
    by_id = {t.team: t for t in teams}
    for ld in loads:
        team = by_id[assigned[ld.unit]]
        assert not any(ld.path.startswith(p) for p in team.member_paths if not SCOPE.startswith(p))


@settings(max_examples=200, deadline=None)
@given(loads=st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=40),
       n_teams=st.integers(min_value=1, max_value=9))
def test_workloads_are_balanced_within_one_unit(loads, n_teams):
    units_ = [UnitLoad(i, f"u{i:03d}", f"/1/{i}/", n) for i, n in enumerate(loads, start=2)]
    teams = [TeamSlot(t, f"t{t}", ("/1/",)) for t in range(n_teams)]  # organiser's people: no 回避
    assigned = assign_units(units_, teams, scope_path=SCOPE)
    load = {t.team: 0 for t in teams}
    for u in units_:
        load[assigned[u.unit]] += u.items
    assert max(load.values()) - min(load.values()) <= max(loads)


def test_visits_are_spread_over_the_window_in_code_order():
    units_ = [UnitLoad(i, f"u{i}", f"/1/{i}/", 1) for i in range(2, 8)]
    assigned = {u.unit: 1 for u in units_}
    days = visit_days(assigned, units_, date(2023, 9, 18), date(2023, 9, 25))
    ordered = [days[u.unit] for u in sorted(units_, key=lambda u: u.code)]
    assert ordered == sorted(ordered) and ordered[0] == date(2023, 9, 18)
    assert all(date(2023, 9, 18) <= d <= date(2023, 9, 25) for d in ordered)


def test_no_team_for_a_unit_names_the_unit():
    units_ = [UnitLoad(2, "county-b", "/1/2/", 3)]
    with pytest.raises(InvalidInput, match="county-b"):
        assign_units(units_, [TeamSlot(1, "t1", ("/1/2/",))], scope_path=SCOPE)
