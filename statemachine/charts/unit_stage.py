"""The unit-stage machine: a participating unit walks the campaign's stages.

Stage names and count are data from the plan (docs/domain.md §4.1: real plans have 4
or 5 stages with different names), so the chart is built per stage list and
cached. A unit advances only when the current stage's deliverables are in.
"""
from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from statemachine.authority import Who
from statemachine.lapses import Cause
from statemachine.time.calendar import end_of_day
from .table import Chart, Guard, Transition

if TYPE_CHECKING:
    from statemachine.plan import StageSpec

__all__ = ["COMPLETED", "StageContext", "stage_chart", "StageDeadline", "stage_deadline", "stage_lapse",
           "STAGE_DEADLINE", "DELIVERABLES_OVERDUE"]

COMPLETED = "completed"
# the lapse causes a unit's stage can give (statemachine/lapses.py names every cause)
STAGE_DEADLINE = Cause.stage_deadline.value
DELIVERABLES_OVERDUE = Cause.deliverables_overdue.value


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


@dataclass(frozen=True)
class StageDeadline:
    """When a stage's work is due (docs/domain.md §4.2, §4.4).

    A stage with an end is due when that day ends: a unit still in it afterwards
    is late in the stage. An ongoing stage (长期推进) has no end, so nobody is ever
    late in it; but a date stated for it (003's 总结提升: "10月25日前阶段性完成，
    长期推进", `summary_due`) is when its deliverables are owed, and a unit in the
    stage without all of them by then has missed that while the stage stays open.
    """

    stage: str
    due_at: datetime | None               # late in the stage after this (aware)
    deliverables_due_at: datetime | None  # an ongoing stage's deliverables owed by this (aware)
    required: tuple[str, ...] = ()        # the deliverables' keys


def stage_deadline(stage: StageSpec) -> StageDeadline:
    required = tuple(d.key for d in stage.deliverables)
    if stage.ongoing:
        due = end_of_day(stage.summary_due) if stage.summary_due and required else None
        return StageDeadline(stage.key, None, due, required)
    # a plan's validation guarantees an end for every stage that is not ongoing
    return StageDeadline(stage.key, end_of_day(stage.end), None, required)


def stage_lapse(deadline: StageDeadline, *, recorded: Collection[str], as_of: datetime) -> str | None:
    """The lapse cause of a unit that is in this stage at `as_of` and has recorded
    `recorded` of its deliverables, or None while it is on time. The sweep records
    the same thing set-based (services/ladder/sweep.py), once per unit and stage."""
    if deadline.due_at is not None and deadline.due_at < as_of:
        return STAGE_DEADLINE
    if (deadline.deliverables_due_at is not None and deadline.deliverables_due_at < as_of
            and any(k not in recorded for k in deadline.required)):
        return DELIVERABLES_OVERDUE
    return None
