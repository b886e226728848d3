"""挂账 / 暂停: an item's clock, stopped and started by a supervisor.

    running ─suspend─▶ suspended ─resume─▶ running

A supervisor above the unit suspends an item's clock with a reason (seasonal
works, litigation pending, waiting for another organ) and resumes it; while it
stands the sweep records no lapse of the item, and on resuming its deadlines
move on by the working days it stood (statemachine/time/deadlines.moved_deadline).
Only an item whose clock runs can be suspended: one being verified or rectified.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from statemachine.authority import Who
from .clue import ClueState
from .table import Chart, Guard, Transition, required

__all__ = ["ClockState", "ClockContext", "CLOCK_CHART", "CLOCKED_STATES", "LABELS", "TRIGGER_LABELS"]


class ClockState(str, enum.Enum):
    running = "running"
    suspended = "suspended"


LABELS = {ClockState.running: "计时中", ClockState.suspended: "挂账暂停"}
TRIGGER_LABELS = {"suspend": "挂账暂停", "resume": "恢复计时"}
# the clue states whose clock runs: verification, then rectification
CLOCKED_STATES = frozenset({ClueState.received.value, ClueState.verifying.value, ClueState.rectifying.value})


@dataclass
class ClockContext:
    reason: str | None = None
    clue_state: str | None = None


def _clocked(ctx: ClockContext) -> str | None:
    if ctx.clue_state not in CLOCKED_STATES:
        return (f"only an item being verified or rectified has a running clock; "
                f"it is {ctx.clue_state}")
    return None


HAS_REASON = Guard("has_reason", required("reason", "a reason (--reason)"))
CLOCKED = Guard("clocked", _clocked, row_dependent=True, row_in=("state", CLOCKED_STATES))

S = ClockState
CLOCK_CHART: Chart[ClockState] = Chart(
    name="clock",
    states=ClockState,
    transitions=[
        Transition("suspend", (S.running,), S.suspended, (HAS_REASON, CLOCKED), by=Who.supervisor),
        Transition("resume", (S.suspended,), S.running, by=Who.supervisor),
    ],
)
