"""The unit-stage machine: a participating unit walks the campaign's stages.

Stage names and count are data from the plan (docs/domain.md §4.1: real plans have 4
or 5 stages with different names), so the chart is built per stage list and
cached. A unit advances only when the current stage's deliverables are in.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import lru_cache

from .authority import Who
from .table import Chart, Guard, Transition

__all__ = ["COMPLETED", "StageContext", "stage_chart"]

COMPLETED = "completed"


@dataclass
class StageContext:
    required: list[str] = field(default_factory=list)
    recorded: set[str] = field(default_factory=set)

    @property
    def missing(self) -> list[str]:
        return [d for d in self.required if d not in self.recorded]


def _deliverables_in(ctx: StageContext) -> str | None:
    missing = ctx.missing
    if missing:
        return "deliverables missing: " + ", ".join(missing)
    return None


DELIVERABLES_IN = Guard("deliverables_in", _deliverables_in, row_dependent=True)


@lru_cache(maxsize=64)
def stage_chart(stage_keys: tuple[str, ...]) -> Chart:
    """The chart for one stage plan: stage_1 → … → stage_n → completed."""
    if not stage_keys or len(set(stage_keys)) != len(stage_keys):
        raise ValueError("a stage plan needs at least one stage and unique keys")
    states = enum.Enum("UnitStage", [(k, k) for k in (*stage_keys, COMPLETED)], type=str)
    members = list(states)
    transitions = [
        Transition("advance", (members[i],), members[i + 1], (DELIVERABLES_IN,), by=Who.unit)
        for i in range(len(members) - 1)
    ]
    return Chart(name="unit-stage", states=members, transitions=transitions,
                 final=frozenset({members[-1]}))
