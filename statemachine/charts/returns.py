"""退单 / 改派: a unit returns an item that is not its own; the level above decides.

    requested ─reassign─▶ reassigned   (the item moves to another unit, its clock restarts there)
    requested ─refuse───▶ refused      (the item stays; its clock never stopped; counted against the unit)

A member of the item's unit (Who.member) returns it with a reason while it is
still received (not yet being verified) and within the plan's
`clues.return_window` of its assignment (`return_refusal`); an item has at most
one return waiting. A supervisor above the unit (the level above) reassigns it
to another unit below that supervisor, or refuses the return with a reason.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from statemachine.authority import Who
from statemachine.time.calendar import local_time
from .table import Chart, Guard, Transition, required

__all__ = ["ReturnState", "ReturnContext", "RETURN_CHART", "LABELS", "TRIGGER_LABELS", "return_refusal",
           "RETURNABLE_STATES"]


class ReturnState(str, enum.Enum):
    requested = "requested"
    reassigned = "reassigned"
    refused = "refused"


LABELS = {ReturnState.requested: "退单待审核", ReturnState.reassigned: "已改派", ReturnState.refused: "退单不予同意"}
TRIGGER_LABELS = {"return": "退单", "reassign": "改派", "refuse": "退单驳回"}
# a unit that has begun verifying an item has taken it as its own
RETURNABLE_STATES = frozenset({"received"})


@dataclass
class ReturnContext:
    reason: str | None = None
    target: str | None = None        # the unit it is reassigned to (code)
    target_problem: str | None = None  # why that unit cannot take it (the use case looks it up)


def return_refusal(*, clue_state: str, as_of: datetime, return_until: datetime, waiting: bool) -> str | None:
    """Why the item's unit may not return it at `as_of`, or None."""
    if clue_state not in RETURNABLE_STATES:
        return f"only an item not yet being verified (received) can be returned; it is {clue_state}"
    if waiting:
        return "a return of it waits for the level above already"
    if as_of > return_until:
        return (f"the window for returning it closed at {local_time(return_until):%Y-%m-%d %H:%M} "
                f"(the plan's clues.return_window after it was assigned)")
    return None


def _target(ctx: ReturnContext) -> str | None:
    return ctx.target_problem


HAS_REASON = Guard("has_reason", required("reason", "a reason (--reason)"))
HAS_TARGET = Guard("has_target", required("target", "the unit to reassign it to (--to)"))
TARGET_TAKES_IT = Guard("target_takes_it", _target)

S = ReturnState
RETURN_CHART: Chart[ReturnState] = Chart(
    name="return",
    states=ReturnState,
    final=frozenset({S.reassigned, S.refused}),
    transitions=[
        # the level above decides, never the unit that returned it
        Transition("reassign", (S.requested,), S.reassigned, (HAS_TARGET, TARGET_TAKES_IT), by=Who.supervisor),
        Transition("refuse", (S.requested,), S.refused, (HAS_REASON,), by=Who.supervisor),
    ],
)
