"""回访 / 满意度: the reporter called back after 办结, held on the item's `callback` column.

    none ─(销号 of an item with a reporter's contact)─▶ owed
    owed ─call_back──────▶ made        (满意, 基本满意, 不满意, 未联系上)
    owed ─find_at_fault──▶ at_fault    (不满意 and the unit at fault: 重办 may follow)
    at_fault ─(the clue's redo, 重办)─▶ none

Which items are owed one: an item closed by 销号 (`approve`, resolution `approved`) that
has at least one source with a reporter's telephone. Not an item closed as 查无实据
(`dismiss`): nothing was rectified to ask about; not a transferred or merged one: the
matter went elsewhere (a merged item's reporters are the kept item's). A reporter who
left no contact cannot be called back, so an anonymous item owes none.

The callback is owed within the plan's `clues.callback_within_working_days` of the 销号
(`callback_due`) by the supervising level: the unit above the item's unit, which must also
make the call. 未联系上 (unreachable) counts as made: the call was tried. A callback not
made by then is the `callback_overdue` lapse of that level (`callback_overdue`; the SQL
twin is services/clues/callbacks.callback_overdue_sql).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from statemachine.authority import Who
from statemachine.time.calendar import WorkingCalendar, due_end_of_day_after_working_days
from .table import Chart, Guard, Transition, required

__all__ = ["CallbackState", "CallbackContext", "CALLBACK_CHART", "LABELS", "TRIGGER_LABELS", "RESULTS",
           "DISSATISFIED", "callback_due", "callback_overdue", "OWED"]


class CallbackState(str, enum.Enum):
    none = "none"
    owed = "owed"
    made = "made"
    at_fault = "at_fault"


OWED = CallbackState.owed.value
LABELS = {CallbackState.none: "无需回访", CallbackState.owed: "待回访", CallbackState.made: "已回访",
          CallbackState.at_fault: "不满意(责任单位有过错)"}
TRIGGER_LABELS = {"call_back": "回访", "find_at_fault": "回访不满意(责任单位有过错)"}
# the result of a callback, by key (what the table stores) → its name (what people say)
RESULTS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意",
           "unreachable": "未联系上"}
DISSATISFIED = "dissatisfied"


@dataclass
class CallbackContext:
    result: str | None = None
    unit_at_fault: bool = False


def _known_result(ctx: CallbackContext) -> str | None:
    if ctx.result is not None and ctx.result not in RESULTS:
        return f"unknown result {ctx.result!r} (one of {', '.join(f'{k} {v}' for k, v in RESULTS.items())})"
    return None


def _dissatisfied(ctx: CallbackContext) -> str | None:
    if ctx.result != DISSATISFIED:
        return f"the unit is at fault only where the reporter is dissatisfied (不满意); the result is {ctx.result}"
    return None


HAS_RESULT = Guard("has_result", required("result", "the callback's result (--result)"))
KNOWN_RESULT = Guard("known_result", _known_result)
DISSATISFIED_RESULT = Guard("dissatisfied", _dissatisfied)

S = CallbackState
CALLBACK_CHART: Chart[CallbackState] = Chart(
    name="callback",
    states=CallbackState,
    transitions=[
        # the supervising level calls, never the unit that did the work
        Transition("call_back", (S.owed,), S.made, (HAS_RESULT, KNOWN_RESULT), by=Who.supervisor),
        Transition("find_at_fault", (S.owed,), S.at_fault, (HAS_RESULT, KNOWN_RESULT, DISSATISFIED_RESULT),
                   by=Who.supervisor),
    ],
)


def callback_due(calendar: WorkingCalendar, closed_at: datetime, within_working_days: int) -> datetime:
    """The end of the N-th working day after the 销号 (Beijing time)."""
    return due_end_of_day_after_working_days(calendar, closed_at, within_working_days)


def callback_overdue(*, state: str, callback: str, callback_due_at: datetime | None, as_of: datetime) -> bool:
    """A closed item whose callback is still owed after its due instant."""
    return (state == "closed" and callback == OWED and callback_due_at is not None
            and callback_due_at < as_of)
