"""延期 asked for and decided: a unit's request, the level above's answer.

    requested ─approve─▶ approved      (the clue's deadline moves: its `extend` trigger)
    requested ─refuse──▶ refused

The unit asks before its deadline passes, with a reason and the date it wants
(`request_refusal`); a supervisor above the unit approves it, possibly to an
earlier date than asked, or refuses it with a reason. The plan's
`clues.max_extensions` bounds how many an item gets and
`clues.rectify_within_working_days` how far each reaches
(statemachine/time/deadlines.py). A clue has at most one request waiting.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from statemachine.authority import Who
from statemachine.time.deadlines import extensions_left_refusal
from .table import Chart, Guard, Transition, required

__all__ = ["ExtensionState", "ExtensionContext", "EXTENSION_CHART", "LABELS", "TRIGGER_LABELS",
           "request_refusal", "grant_refusal"]


class ExtensionState(str, enum.Enum):
    requested = "requested"
    approved = "approved"
    refused = "refused"


LABELS = {ExtensionState.requested: "延期待审批", ExtensionState.approved: "延期已批准",
          ExtensionState.refused: "延期未批准"}
TRIGGER_LABELS = {"request_extension": "申请延期", "approve": "批准延期", "refuse": "不予延期"}


@dataclass
class ExtensionContext:
    reason: str | None = None
    asked: date | None = None     # the date the unit asked for
    granted: date | None = None   # the date the supervisor grants (default: as asked)
    current: date | None = None   # the clue's deadline now


def request_refusal(*, clue_state: str, current: date | None, current_due: datetime | None,
                    asked: date, as_of: datetime, granted_before: int, max_extensions: int) -> str | None:
    """Why a unit may not ask to have its deadline moved to `asked` at `as_of`, or None."""
    if clue_state != "rectifying":
        return f"only an item being rectified (rectifying) has a deadline to extend; it is {clue_state}"
    if current is None or current_due is None:
        return "the item has no deadline to extend"
    if as_of > current_due:
        return (f"its deadline {current} has passed: an extension (延期) is asked for before the deadline, "
                f"and an overdue item stays overdue")
    if asked <= current:
        return f"the date asked for ({asked}) is not later than the current deadline ({current})"
    return extensions_left_refusal(granted_before=granted_before, max_extensions=max_extensions)


def grant_refusal(ctx: ExtensionContext) -> str | None:
    """Why the granted date may not be given: after the current deadline, at most what was asked."""
    if ctx.granted is None or ctx.asked is None or ctx.current is None:
        return None
    if ctx.granted > ctx.asked:
        return f"the date granted ({ctx.granted}) is later than the date asked for ({ctx.asked})"
    if ctx.granted <= ctx.current:
        return f"the date granted ({ctx.granted}) is not later than the current deadline ({ctx.current})"
    return None


HAS_REASON = Guard("has_reason", required("reason", "a reason (--reason)"))
GRANT_WITHIN_ASKED = Guard("grant_within_asked", grant_refusal)

S = ExtensionState
EXTENSION_CHART: Chart[ExtensionState] = Chart(
    name="extension",
    states=ExtensionState,
    final=frozenset({S.approved, S.refused}),
    transitions=[
        # the level above decides, never the unit that asked (docs/domain.md §5.7)
        Transition("approve", (S.requested,), S.approved, (GRANT_WITHIN_ASKED,), by=Who.supervisor),
        Transition("refuse", (S.requested,), S.refused, (HAS_REASON,), by=Who.supervisor),
    ],
)
