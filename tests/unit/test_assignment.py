"""Giving units to inspection teams (statemachine.lookback.assignment), pure and property-based.

Random unit trees are built from parent links, and "is X at or above Y" is
answered from those links rather than from path strings, so the module's
prefix arithmetic is checked against an independent oracle.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from statemachine.errors import InvalidInput
from statemachine.lookback.assignment import (TeamSlot, UnitLoad, assign_units, excluded_paths, may_inspect,
                                     visit_days)


@dataclass(frozen=True)
class Tree:
    parent: dict[int, int | None]   # node → parent; node 1 is the root

    def path(self, node: int) -> str:
        chain = []
        while node is not None:
            chain.append(node)
            node = self.parent[node]
        return "/" + "/".join(str(n) for n in reversed(chain)) + "/"

    def at_or_above(self, upper: int, node: int | None) -> bool:
        while node is not None:
            if node == upper:
                return True
            node = self.parent[node]
        return False

    def below(self, node: int) -> list[int]:
        return [n for n in self.parent if n != node and self.at_or_above(node, n)]


@st.composite
def trees(draw, max_nodes=25):
    n = draw(st.integers(min_value=2, max_value=max_nodes))
    parent: dict[int, int | None] = {1: None}
    for node in range(2, n + 1):
        parent[node] = draw(st.integers(min_value=1, max_value=node - 1))
    return Tree(parent)


@dataclass(frozen=True)
class World:
    tree: Tree
    scope: int                  # the organising unit: the round's subtree root
    units: list[UnitLoad]       # the units of the scope to be inspected
    node_of: dict[str, int]     # path → node

    @property
    def scope_path(self) -> str:
        return self.tree.path(self.scope)

    def member_excludes(self, member: int, unit: int) -> bool:
        """Oracle: a member from `member` keeps its team away from `unit` unless the
        member comes from the organising unit or above it."""
        if self.tree.at_or_above(member, self.scope):
            return False
        return self.tree.at_or_above(member, unit)

    def team_may_inspect(self, team: TeamSlot, unit: UnitLoad) -> bool:
        return not any(self.member_excludes(self.node_of[p], unit.unit) for p in team.member_paths)


@st.composite
def worlds(draw):
    tree = draw(trees())
    # usually the root organises; sometimes a prefecture inside the tree
    candidates = [n for n in tree.parent if tree.below(n)]
    scope = draw(st.sampled_from(candidates)) if draw(st.booleans()) else 1
    nodes = tree.below(scope)
    loads = draw(st.lists(st.integers(min_value=0, max_value=60), min_size=len(nodes),
                          max_size=len(nodes)))
    # codes are not in node order, so "code order" is a real ordering of its own
    codes = draw(st.permutations([f"u{i:03d}" for i in range(len(nodes))]))
    units = [UnitLoad(unit=n, code=c, path=tree.path(n), items=k)
             for n, c, k in zip(nodes, codes, loads)]
    return World(tree, scope, units, {tree.path(n): n for n in tree.parent})


@st.composite
def teams_in(draw, world: World, *, min_teams=1, max_teams=5, supervisors_only=False):
    if supervisors_only:
        pool = [n for n in world.tree.parent if world.tree.at_or_above(n, world.scope)]
    else:
        pool = list(world.tree.parent)
    n = draw(st.integers(min_value=min_teams, max_value=max_teams))
    return [TeamSlot(team=100 + i, code=f"team-{i}",
                     member_paths=tuple(world.tree.path(m) for m in
                                        draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4))))
            for i in range(n)]


def loads_by_team(assigned, units, teams):
    load = {t.team: 0 for t in teams}
    for u in units:
        load[assigned[u.unit]] += u.items
    return load


# -- excluded paths (回避) ---------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_excluded_paths_are_exactly_the_members_not_at_or_above_the_organiser(data):
    world = data.draw(worlds())
    team = data.draw(teams_in(world, min_teams=1, max_teams=1))[0]
    want = tuple(p for p in team.member_paths
                 if not world.tree.at_or_above(world.node_of[p], world.scope))
    assert excluded_paths(team, world.scope_path) == want


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_may_inspect_agrees_with_the_tree(data):
    world = data.draw(worlds())
    team = data.draw(teams_in(world, min_teams=1, max_teams=1))[0]
    for u in world.units:
        assert may_inspect(team, u.path, world.scope_path) == world.team_may_inspect(team, u)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_members_from_the_organiser_or_above_exclude_nothing(data):
    world = data.draw(worlds())
    team = data.draw(teams_in(world, min_teams=1, max_teams=1, supervisors_only=True))[0]
    assert excluded_paths(team, world.scope_path) == ()
    assert all(may_inspect(team, u.path, world.scope_path) for u in world.units)


def test_a_sibling_path_with_a_common_prefix_is_not_excluded():
    team = TeamSlot(1, "team-1", ("/1/2/",))
    assert not may_inspect(team, "/1/2/", "/1/")
    assert not may_inspect(team, "/1/2/7/", "/1/")
    assert may_inspect(team, "/1/23/", "/1/")   # /1/2/ is not above /1/23/


# -- assignment ----------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_team_is_never_given_a_unit_below_any_of_its_excluded_paths(data):
    world = data.draw(worlds())
    teams = data.draw(teams_in(world))
    try:
        assigned = assign_units(world.units, teams, scope_path=world.scope_path)
    except InvalidInput:
        assume(False)
    by_id = {t.team: t for t in teams}
    for u in world.units:
        team = by_id[assigned[u.unit]]
        assert not any(u.path.startswith(p) for p in excluded_paths(team, world.scope_path))
        assert world.team_may_inspect(team, u), f"{team.code} was sent to {u.code} (回避)"


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_every_unit_is_assigned_when_some_team_may_inspect_it_and_otherwise_it_is_named(data):
    world = data.draw(worlds())
    teams = data.draw(teams_in(world))
    orphans = [u for u in world.units if not any(world.team_may_inspect(t, u) for t in teams)]
    if not orphans:
        assigned = assign_units(world.units, teams, scope_path=world.scope_path)
        assert set(assigned) == {u.unit for u in world.units}
        assert set(assigned.values()) <= {t.team for t in teams}
        return
    with pytest.raises(InvalidInput) as e:
        assign_units(world.units, teams, scope_path=world.scope_path)
    named = [u.code for u in orphans if f"'{u.code}'" in str(e.value)]
    assert named, f"the error should name one of {[u.code for u in orphans]}: {e.value}"
    assert "回避" in str(e.value)


def test_a_unit_every_team_is_from_is_named_in_the_error():
    units = [UnitLoad(2, "city-a", "/1/2/", 5), UnitLoad(3, "county-a", "/1/2/3/", 4),
             UnitLoad(4, "city-b", "/1/4/", 3)]
    teams = [TeamSlot(1, "team-1", ("/1/", "/1/2/")), TeamSlot(2, "team-2", ("/1/2/",))]
    with pytest.raises(InvalidInput, match="'city-a'"):
        assign_units(units, teams, scope_path="/1/")


def test_no_teams_assign_nothing():
    assert assign_units([UnitLoad(2, "a", "/1/2/", 3)], [], scope_path="/1/") == {}


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_lpt_keeps_teams_eligible_for_everything_within_one_unit_of_each_other(data):
    world = data.draw(worlds())
    free = data.draw(teams_in(world, min_teams=1, max_teams=5, supervisors_only=True))
    # teams with members from inside the scope may join; the bound is about the free ones
    restricted = [TeamSlot(200 + t.team, f"r-{t.code}", t.member_paths)
                  for t in data.draw(teams_in(world, min_teams=0, max_teams=3))]
    teams = data.draw(st.permutations(free + restricted))
    assigned = assign_units(world.units, teams, scope_path=world.scope_path)
    load = loads_by_team(assigned, world.units, teams)
    free_loads = [load[t.team] for t in free]
    heaviest_unit = max((u.items for u in world.units), default=0)
    assert max(free_loads) - min(free_loads) <= heaviest_unit


def test_lpt_gives_the_largest_units_first_to_the_least_loaded_team():
    units = [UnitLoad(i, f"u{i}", f"/1/{i}/", k) for i, k in [(2, 7), (3, 5), (4, 4), (5, 3), (6, 3)]]
    teams = [TeamSlot(1, "team-1", ("/1/",)), TeamSlot(2, "team-2", ("/1/",))]
    assigned = assign_units(units, teams, scope_path="/1/")
    # 7→A, 5→B, 4→B (5<7), 3→A (7<9), 3→B or A: A=10, B=9 → B
    assert assigned == {2: 1, 3: 2, 4: 2, 5: 1, 6: 2}
    assert loads_by_team(assigned, units, teams) == {1: 10, 2: 12}


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_assignment_is_deterministic_whatever_the_order_of_the_units(data):
    world = data.draw(worlds())
    teams = data.draw(teams_in(world, supervisors_only=True))
    shuffled = data.draw(st.permutations(world.units))
    assert assign_units(shuffled, teams, scope_path=world.scope_path) == \
        assign_units(world.units, teams, scope_path=world.scope_path)


# -- visit days ------------------------------------------------------------------------------
@st.composite
def windows(draw):
    start = date(2023, 9, 1) + timedelta(draw(st.integers(min_value=0, max_value=60)))
    return start, start + timedelta(draw(st.integers(min_value=0, max_value=14)))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_every_assigned_unit_is_visited_on_a_day_inside_the_window(data):
    world = data.draw(worlds())
    teams = data.draw(teams_in(world, supervisors_only=True))
    start, end = data.draw(windows())
    assigned = assign_units(world.units, teams, scope_path=world.scope_path)
    days = visit_days(assigned, world.units, start, end)
    assert set(days) == set(assigned)
    assert all(start <= d <= end for d in days.values())


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_team_visits_its_units_in_code_order_spread_over_the_window(data):
    world = data.draw(worlds())
    teams = data.draw(teams_in(world, supervisors_only=True))
    start, end = data.draw(windows())
    assigned = assign_units(world.units, teams, scope_path=world.scope_path)
    days = visit_days(assigned, world.units, start, end)
    window = (end - start).days + 1
    for t in teams:
        mine = sorted((u for u in world.units if assigned[u.unit] == t.team), key=lambda u: u.code)
        seq = [days[u.unit] for u in mine]
        assert seq == sorted(seq), f"{t.code} must visit in code order"
        if seq:
            assert seq[0] == start
        if len(mine) <= window:
            assert len(set(seq)) == len(seq), "no two visits on one day while days are free"


def test_units_that_were_not_assigned_get_no_visit_day():
    units = [UnitLoad(2, "a", "/1/2/", 1), UnitLoad(3, "b", "/1/3/", 1)]
    assert visit_days({2: 1}, units, date(2023, 9, 18), date(2023, 9, 25)) == {2: date(2023, 9, 18)}


def test_a_one_day_window_puts_every_visit_on_that_day():
    units = [UnitLoad(i, f"u{i}", f"/1/{i}/", 1) for i in range(2, 6)]
    day = date(2023, 9, 18)
    assert set(visit_days({u.unit: 1 for u in units}, units, day, day).values()) == {day}


def test_four_units_over_eight_days_are_two_days_apart_in_code_order():
    units = [UnitLoad(9, "d", "/1/9/", 1), UnitLoad(7, "b", "/1/7/", 1),
             UnitLoad(8, "c", "/1/8/", 1), UnitLoad(6, "a", "/1/6/", 1)]
    days = visit_days({u.unit: 1 for u in units}, units, date(2023, 9, 18), date(2023, 9, 25))
    assert days == {6: date(2023, 9, 18), 7: date(2023, 9, 20), 8: date(2023, 9, 22),
                    9: date(2023, 9, 24)}
