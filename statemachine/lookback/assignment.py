"""Giving units to inspection teams (督察组) and scheduling their visits.

A team takes whole units (000: nine teams, each sent to some of the 12 盟市
and 24 departments), so assignment is per unit and its workload is the
number of items drawn there. Rules:
- a team never inspects a unit one of its members (or the team itself)
  comes from, nor a unit below that unit (回避); members from the organising
  unit or above it are the supervisors themselves and exclude nothing;
- workloads are balanced greedily, largest unit first, to the least-loaded
  eligible team (LPT: the heaviest team carries at most the lightest's load
  plus one unit's);
- each team's units are spread over the days of the visit window in order.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Mapping, Sequence

from statemachine.errors import InvalidInput

__all__ = ["TeamSlot", "UnitLoad", "assign_units", "visit_days", "excluded_paths", "may_inspect"]


@dataclass(frozen=True)
class UnitLoad:
    unit: int
    code: str
    path: str   # materialised path "/1/4/9/"
    items: int


@dataclass(frozen=True)
class TeamSlot:
    team: int
    code: str
    member_paths: tuple[str, ...]  # the units of the team and its members


def excluded_paths(team: TeamSlot, scope_path: str) -> tuple[str, ...]:
    """Paths whose subtrees the team may not inspect. A member whose unit is the
    scope's root or above it supervises the round and excludes nothing."""
    return tuple(p for p in team.member_paths if not scope_path.startswith(p))


def may_inspect(team: TeamSlot, unit_path: str, scope_path: str) -> bool:
    return not any(unit_path.startswith(p) for p in excluded_paths(team, scope_path))


def assign_units(units: Sequence[UnitLoad], teams: Sequence[TeamSlot], *, scope_path: str
                 ) -> dict[int, int]:
    """unit → team. Raises InvalidInput naming a unit no team may inspect."""
    if not teams:
        return {}
    load = {t.team: 0 for t in teams}
    count = {t.team: 0 for t in teams}
    order = {t.team: i for i, t in enumerate(teams)}
    out: dict[int, int] = {}
    for u in sorted(units, key=lambda u: (-u.items, u.code)):
        eligible = [t for t in teams if may_inspect(t, u.path, scope_path)]
        if not eligible:
            raise InvalidInput(f"unit '{u.code}' cannot be inspected by any team: every team has a "
                               f"member from it or from a unit above it (回避)")
        best = min(eligible, key=lambda t: (load[t.team], count[t.team], order[t.team]))
        out[u.unit] = best.team
        load[best.team] += u.items
        count[best.team] += 1
    return out


def visit_days(assigned: Mapping[int, int], units: Sequence[UnitLoad], start: date, end: date
               ) -> dict[int, date]:
    """unit → the day its team visits: each team's units spread evenly over the window,
    in the order of their codes."""
    days = [start + timedelta(d) for d in range((end - start).days + 1)]
    by_team: dict[int, list[UnitLoad]] = {}
    for u in sorted(units, key=lambda u: u.code):
        if u.unit in assigned:
            by_team.setdefault(assigned[u.unit], []).append(u)
    out: dict[int, date] = {}
    for team_units in by_team.values():
        n = len(team_units)
        for i, u in enumerate(team_units):
            out[u.unit] = days[i * len(days) // n]
    return out
