"""Two kinds of colour, named apart (docs/domain.md §12).

A deadline's early warning (`DeadlineColour`, for every open item, case and
round): blue when it is near, yellow when it is imminent, red once it has passed.

A unit's row in a report (`UnitColour`): red when it has overdue items,
yellow when its rate is below the average of the units reported, blue when
items are due soon, plain otherwise. Same hues as the seeds use them, a
different question: how a unit is doing, not how close one deadline is.
"""
from __future__ import annotations

import enum
from datetime import datetime, timedelta

__all__ = ["DeadlineColour", "warning_colour", "WARNING_LABELS", "due_soon", "BLUE_WITHIN_DAYS",
           "YELLOW_WITHIN_DAYS", "UnitColour", "unit_colour",
           "UNIT_COLOUR_LABELS", "UNIT_COLOUR_MARKS"]


class DeadlineColour(str, enum.Enum):
    red = "red"        # passed
    yellow = "yellow"  # within yellow_within_days
    blue = "blue"      # within blue_within_days
    none = ""


WARNING_LABELS = {"red": "红色预警(逾期)", "yellow": "黄色预警", "blue": "蓝色预警", "": ""}


# the defaults of a plan's escalation.warning (statemachine/plan.py WarningColours)
BLUE_WITHIN_DAYS, YELLOW_WITHIN_DAYS = 3, 1


def warning_colour(due_at: datetime | None, as_of: datetime, *, blue_within_days: int = BLUE_WITHIN_DAYS,
                   yellow_within_days: int = YELLOW_WITHIN_DAYS) -> str:
    """A deadline's DeadlineColour (its value) at `as_of`."""
    if due_at is None:
        return DeadlineColour.none.value
    if as_of > due_at:
        return DeadlineColour.red.value
    left = due_at - as_of
    if left <= timedelta(days=yellow_within_days):
        return DeadlineColour.yellow.value
    if left <= timedelta(days=blue_within_days):
        return DeadlineColour.blue.value
    return DeadlineColour.none.value


def due_soon(due_at: datetime | None, as_of: datetime, *, blue_within_days: int = BLUE_WITHIN_DAYS) -> bool:
    """Not passed yet, and within the blue window (blue or yellow): what a report counts as
    "due soon". Its SQL form for items: services/clues/chart.py `due_soon_sql`."""
    return due_at is not None and as_of <= due_at and due_at - as_of <= timedelta(days=blue_within_days)


class UnitColour(str, enum.Enum):
    overdue = "red"
    below_average = "yellow"
    due_soon = "blue"
    normal = ""


UNIT_COLOUR_LABELS = {"red": "红色预警（有逾期未整改问题）", "yellow": "黄色预警（整改率低于平均）",
                      "blue": "蓝色提示（有问题即将到期）", "": "正常"}
# in a report's table: words, never emoji (a printer without the emoji font prints a box);
# the HTML and Word reports colour them
UNIT_COLOUR_MARKS = {"red": "红色预警", "yellow": "黄色预警", "blue": "蓝色提示", "": "正常"}


def unit_colour(*, overdue: int, due_soon: int, rate: float | None, average: float | None) -> str:
    """A unit's UnitColour (its value) in a report: the worst that applies."""
    if overdue:
        return UnitColour.overdue.value
    if rate is not None and average is not None and rate < average:
        return UnitColour.below_average.value
    if due_soon:
        return UnitColour.due_soon.value
    return UnitColour.normal.value
