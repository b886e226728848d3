"""The look-back draw (statemachine.lookback.sampling), pure and mostly property-based.

A sample must be re-drawable by anyone from the published seed and candidate
list: the result depends on neither the order of the candidates nor anything
but (seed, number, weight) per item.
"""
from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statemachine.lookback.sampling import (Candidate, RiskRules, digest, draw, fast_threshold,
                                   per_unit_quota, risk_weight, risk_weights, sample_key)

SEEDS = st.integers(min_value=0, max_value=2 ** 53 - 1)
UNIT_IDS = st.integers(min_value=1, max_value=6)
WEIGHTS = st.sampled_from([1.0, 1.5, 2.0, 3.0, 6.0, 18.0])
MINIMUMS = st.integers(min_value=1, max_value=5)
COUNTS = st.integers(min_value=1, max_value=12)
# shares as whole per-mille, so the exact quota is known: ceil(p * n / 1000)
PERMILLE = st.integers(min_value=1, max_value=1000)


@st.composite
def pools(draw_, min_size=1, max_size=60):
    """Candidates with unique numbers spread over a few units."""
    rows = draw_(st.lists(st.tuples(UNIT_IDS, WEIGHTS), min_size=min_size, max_size=max_size))
    return [Candidate(f"XS-2023-{i:05d}", unit, weight=w) for i, (unit, w) in enumerate(rows)]


def per_unit(cands):
    out: dict[int, list[Candidate]] = {}
    for c in cands:
        out.setdefault(c.unit, []).append(c)
    return out


# -- reproducibility --------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(cands=pools(), seed=SEEDS, rnd=st.randoms(use_true_random=False),
       permille=PERMILLE, minimum=MINIMUMS)
def test_the_same_seed_and_candidates_in_any_order_give_the_same_sample(cands, seed, rnd,
                                                                         permille, minimum):
    first = draw(seed, cands, share=permille / 1000, minimum=minimum)
    shuffled = list(cands)
    rnd.shuffle(shuffled)
    assert draw(seed, shuffled, share=permille / 1000, minimum=minimum) == first
    # and from a one-shot iterator, as rows stream out of a cursor
    assert draw(seed, iter(shuffled), share=permille / 1000, minimum=minimum) == first


@settings(max_examples=100, deadline=None)
@given(cands=pools(), seed=SEEDS, rnd=st.randoms(use_true_random=False), count=COUNTS)
def test_a_count_sample_is_reproducible_in_any_order(cands, seed, rnd, count):
    shuffled = list(cands)
    rnd.shuffle(shuffled)
    assert draw(seed, shuffled, count=count) == draw(seed, cands, count=count)


@settings(max_examples=100, deadline=None)
@given(cands=pools(), other=pools(max_size=20), seed=SEEDS, count=COUNTS)
def test_a_units_sample_does_not_depend_on_other_units_candidates(cands, other, seed, count):
    # the other units' candidates get numbers of their own, in units 101..106
    extra = [Candidate(f"ZZ-{i}", c.unit + 100, weight=c.weight) for i, c in enumerate(other)]
    alone = draw(seed, cands, count=count)
    mixed = draw(seed, cands + extra, count=count)
    assert {u: mixed[u] for u in alone} == alone


@settings(max_examples=100, deadline=None)
@given(cands=pools(), seed=SEEDS, count=COUNTS, weight=WEIGHTS)
def test_adding_a_candidate_either_leaves_a_sample_alone_or_puts_itself_in(cands, seed, count, weight):
    newcomer = Candidate("XS-2023-NEW", cands[0].unit, weight=weight)
    before = draw(seed, cands, count=count)[newcomer.unit]
    after = draw(seed, cands + [newcomer], count=count)[newcomer.unit]
    if newcomer.number in after:
        assert set(after) - {newcomer.number} <= set(before)
    else:
        assert after == before


# -- quotas ------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(cands=pools(), seed=SEEDS, count=st.one_of(st.none(), COUNTS),
       permille=PERMILLE, minimum=MINIMUMS)
def test_every_unit_gets_exactly_its_quota_of_its_own_distinct_candidates(cands, seed, count,
                                                                            permille, minimum):
    share = None if count is not None else permille / 1000
    drawn = draw(seed, cands, count=count, share=share, minimum=minimum)
    groups = per_unit(cands)
    assert set(drawn) == set(groups)
    for unit, mine in groups.items():
        n = len(mine)
        quota = per_unit_quota(n, count=count, share=share, minimum=minimum)
        got = drawn[unit]
        assert len(got) == quota
        assert min(n, minimum) <= quota <= n
        assert len(set(got)) == len(got)
        assert set(got) <= {c.number for c in mine}


@settings(max_examples=300, deadline=None)
@given(n=st.integers(min_value=1, max_value=2000), permille=PERMILLE, minimum=MINIMUMS)
def test_a_share_quota_is_the_ceiling_of_share_times_n_but_at_least_the_minimum(n, permille, minimum):
    exact = math.ceil(Fraction(permille, 1000) * n)  # no floating point in the oracle
    assert per_unit_quota(n, count=None, share=permille / 1000, minimum=minimum) == \
        min(n, max(exact, minimum))


@pytest.mark.parametrize("share,n,want", [(0.1, 30, 3), (0.07, 100, 7), (0.29, 100, 29),
                                          (0.2, 11, 3), (0.5, 1, 1), (1.0, 17, 17)])
def test_a_share_quota_is_not_thrown_off_by_floating_point(share, n, want):
    assert per_unit_quota(n, count=None, share=share, minimum=1) == want


@given(n=st.integers(min_value=1, max_value=500), count=COUNTS, minimum=MINIMUMS)
def test_a_count_quota_is_the_count_but_at_least_the_minimum_and_never_more_than_n(n, count, minimum):
    assert per_unit_quota(n, count=count, share=None, minimum=minimum) == min(n, max(count, minimum))


@given(n=st.integers(min_value=1, max_value=500))
def test_without_count_or_share_every_candidate_is_drawn(n):
    assert per_unit_quota(n, count=None, share=None, minimum=1) == n


@pytest.mark.parametrize("n", [0, -1])
def test_a_unit_without_candidates_gets_nothing(n):
    assert per_unit_quota(n, count=5, share=None, minimum=3) == 0


def test_drawing_from_no_candidates_gives_no_units():
    assert draw(7, [], count=3) == {}


# -- the keys ---------------------------------------------------------------------------
@given(seed=SEEDS, number=st.text(min_size=1, max_size=30))
def test_the_key_is_strictly_between_zero_and_one_and_deterministic(seed, number):
    u = sample_key(seed, number)
    assert 0 < u < 1
    assert sample_key(seed, number) == u == sample_key(seed, number, 1.0)


@given(seed=SEEDS, number=st.text(min_size=1, max_size=30),
       weight=st.floats(min_value=1.01, max_value=100))
def test_a_weight_above_one_raises_the_key_to_u_to_the_one_over_w(seed, number, weight):
    u = sample_key(seed, number)
    k = sample_key(seed, number, weight)
    assert u < k < 1
    assert math.isclose(k, u ** (1 / weight), rel_tol=1e-12)


@given(seed=SEEDS, number=st.text(min_size=1, max_size=30), w1=WEIGHTS, w2=WEIGHTS)
def test_a_heavier_weight_never_gives_a_smaller_key(seed, number, w1, w2):
    lo, hi = sorted((w1, w2))
    assert sample_key(seed, number, lo) <= sample_key(seed, number, hi)


def test_the_key_depends_on_the_seed_and_the_number():
    assert sample_key(1, "XS-2023-00001") != sample_key(2, "XS-2023-00001")
    assert sample_key(1, "XS-2023-00001") != sample_key(1, "XS-2023-00002")


@settings(max_examples=100, deadline=None)
@given(cands=pools(), seed=SEEDS, count=COUNTS)
def test_a_unit_sample_is_its_largest_keys_largest_first(cands, seed, count):
    drawn = draw(seed, cands, count=count)
    for unit, mine in per_unit(cands).items():
        key = {c.number: sample_key(seed, c.number, c.weight) for c in mine}
        got = drawn[unit]
        assert [key[x] for x in got] == sorted((key[x] for x in got), reverse=True)
        left_out = [key[c.number] for c in mine if c.number not in got]
        if left_out:
            assert min(key[x] for x in got) >= max(left_out)


def _with_hash(monkeypatch, digest_bytes: bytes):
    """Make sample_key see a chosen 8-byte hash (only inside the sampling module)."""
    import types

    import statemachine.lookback.sampling as sampling

    class _Fixed:
        def digest(self):
            return digest_bytes

    monkeypatch.setattr(sampling, "hashlib", types.SimpleNamespace(blake2b=lambda *a, **k: _Fixed()))
    return sampling.sample_key


def test_the_key_stays_above_zero_for_the_smallest_hash(monkeypatch):
    key = _with_hash(monkeypatch, b"\x00" * 8)
    assert 0 < key(1, "x") < key(1, "x", 2.0) < 1


def test_the_key_stays_below_one_even_for_the_largest_hash(monkeypatch):
    key = _with_hash(monkeypatch, b"\xff" * 8)
    assert 0 < key(1, "x") < 1


# -- different seeds ------------------------------------------------------------------------
def test_different_seeds_draw_different_samples():
    cands = [Candidate(f"XS-2023-{i:05d}", 1) for i in range(200)]
    samples = [tuple(draw(seed, cands, count=10)[1]) for seed in range(30)]
    assert len(set(samples)) == 30
    # and not just reorderings of one set
    assert len({frozenset(s) for s in samples}) == 30


# -- risk weights -----------------------------------------------------------------------------
RULES = RiskRules(fast=3.0, fast_ratio=0.25, thin_evidence=5.0, thin_evidence_chars=10, full_unit=7.0)
PLENTY = 200  # evidence chars: not thin


def _weights(cands, full_units=frozenset(), rules=RULES):
    return {c.number: c.weight for c in risk_weights(cands, full_units=set(full_units), rules=rules)}


def test_an_item_closed_in_under_fast_ratio_times_the_median_gets_the_fast_factor():
    # durations 2, 40, 40, 40, 40: median 40, "fast" is under 10 days
    cands = [Candidate("fast", 1, 2.0, PLENTY)] + \
        [Candidate(f"slow{i}", 1, 40.0, PLENTY) for i in range(4)]
    w = _weights(cands)
    assert w["fast"] == 3.0
    assert all(w[f"slow{i}"] == 1.0 for i in range(4))


def test_closing_exactly_at_the_fast_threshold_is_not_fast():
    cands = [Candidate("edge", 1, 10.0, PLENTY)] + [Candidate(f"s{i}", 1, 40.0, PLENTY) for i in range(4)]
    assert _weights(cands)["edge"] == 1.0


def test_the_fast_threshold_follows_the_median_of_all_candidates_across_units():
    # unit 1 alone has median 4, but the round's median is 100: 4 < 25 is fast
    cands = [Candidate("a", 1, 4.0, PLENTY), Candidate("b", 1, 4.0, PLENTY)] + \
        [Candidate(f"o{i}", 2, 100.0, PLENTY) for i in range(5)]
    w = _weights(cands)
    assert w["a"] == w["b"] == 3.0


def test_items_without_a_closing_time_are_never_fast_and_do_not_move_the_median():
    cands = [Candidate("unknown", 1, None, PLENTY), Candidate("fast", 1, 1.0, PLENTY),
             Candidate("s1", 1, 40.0, PLENTY), Candidate("s2", 1, 40.0, PLENTY)]
    w = _weights(cands)
    assert w["unknown"] == 1.0 and w["fast"] == 3.0
    assert fast_threshold(None) is None
    assert fast_threshold(40.0, RULES) == 10.0


@pytest.mark.parametrize("chars,thin", [(0, True), (9, True), (10, False), (500, False)])
def test_evidence_shorter_than_thin_evidence_chars_gets_the_thin_factor(chars, thin):
    cands = [Candidate("x", 1, 40.0, chars), Candidate("y", 1, 40.0, PLENTY)]
    assert _weights(cands)["x"] == (5.0 if thin else 1.0)


def test_every_item_of_a_full_unit_gets_the_full_unit_factor():
    cands = [Candidate("in-full", 3, 40.0, PLENTY), Candidate("also", 3, 40.0, PLENTY),
             Candidate("elsewhere", 4, 40.0, PLENTY)]
    w = _weights(cands, full_units={3})
    assert w == {"in-full": 7.0, "also": 7.0, "elsewhere": 1.0}


def test_the_factors_multiply():
    cands = [Candidate("all-three", 2, 1.0, 0), Candidate("fast-thin", 1, 1.0, 3),
             Candidate("thin-full", 2, 40.0, 3), Candidate("plain", 1, 40.0, PLENTY),
             Candidate("s", 1, 40.0, PLENTY)]
    w = _weights(cands, full_units={2})
    assert w["all-three"] == 3.0 * 5.0 * 7.0
    assert w["fast-thin"] == 3.0 * 5.0
    assert w["thin-full"] == 5.0 * 7.0
    assert w["plain"] == 1.0


@given(days=st.one_of(st.none(), st.floats(min_value=0, max_value=400)),
       chars=st.integers(min_value=0, max_value=100), full=st.booleans(),
       fast_below=st.one_of(st.none(), st.floats(min_value=0, max_value=100)))
def test_a_risk_weight_is_the_product_of_the_factors_it_meets(days, chars, full, fast_below):
    want = 1.0
    if fast_below is not None and days is not None and days < fast_below:
        want *= RULES.fast
    if chars < RULES.thin_evidence_chars:
        want *= RULES.thin_evidence
    if full:
        want *= RULES.full_unit
    assert risk_weight(days, chars, full, fast_below=fast_below, rules=RULES) == want


def test_risk_weights_keep_each_candidates_identity_and_order():
    cands = [Candidate("b", 2, 3.0, 1), Candidate("a", 1, 40.0, PLENTY)]
    out = risk_weights(cands, full_units=set(), rules=RULES)
    assert [(c.number, c.unit, c.days_to_close, c.evidence_chars) for c in out] == \
        [(c.number, c.unit, c.days_to_close, c.evidence_chars) for c in cands]


# -- weights tilt the draw ---------------------------------------------------------------------
def test_heavily_weighted_items_are_drawn_more_often_over_many_seeds():
    heavy = [Candidate(f"H{i:02d}", 1, weight=8.0) for i in range(10)]
    light = [Candidate(f"L{i:02d}", 1, weight=1.0) for i in range(30)]
    times = {c.number: 0 for c in heavy + light}
    for seed in range(200):
        for number in draw(seed, heavy + light, count=5)[1]:
            times[number] += 1
    per_heavy = sum(times[c.number] for c in heavy) / len(heavy)
    per_light = sum(times[c.number] for c in light) / len(light)
    assert per_heavy > 3 * per_light
    # the light items are not starved entirely: the draw is a lottery, not a filter
    assert sum(times[c.number] for c in light) > 0


def test_without_weights_every_item_has_a_fair_chance():
    cands = [Candidate(f"N{i:02d}", 1) for i in range(20)]
    times = {c.number: 0 for c in cands}
    for seed in range(200):
        for number in draw(seed, cands, count=5)[1]:
            times[number] += 1
    # expected 50 each (200 draws x 5 / 20); allow wide, deterministic slack
    assert min(times.values()) > 25 and max(times.values()) < 80


# -- digest -------------------------------------------------------------------------------------
@given(numbers=st.lists(st.text(alphabet="XS-0123456789", min_size=1, max_size=12), unique=True),
       rnd=st.randoms(use_true_random=False))
def test_the_digest_does_not_depend_on_order(numbers, rnd):
    shuffled = list(numbers)
    rnd.shuffle(shuffled)
    assert digest(shuffled) == digest(numbers) == digest(iter(numbers)) == digest(set(numbers))


@given(a=st.sets(st.text(alphabet="XS-0123456789", min_size=1, max_size=12), max_size=20),
       b=st.sets(st.text(alphabet="XS-0123456789", min_size=1, max_size=12), max_size=20))
def test_different_sets_have_different_digests(a, b):
    if a != b:
        assert digest(a) != digest(b)


def test_the_digest_tells_item_boundaries_apart():
    assert digest(["XS-1", "2"]) != digest(["XS-12"])
    assert digest(["XS-1", "XS-2"]) != digest(["XS-1"])


def test_the_digest_is_a_sha256_hex_string_even_for_no_items():
    for numbers in ([], ["XS-2023-00001"]):
        d = digest(numbers)
        assert len(d) == 64 and set(d) <= set("0123456789abcdef")
