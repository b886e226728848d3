"""A span of working time a plan gives (`1 working day`, `4 working hours`), and its end.

签收 (sign-for) and 退单 (return) windows of 12345 / 督办 practice are stated either in
working days ("1个工作日内签收") or in working hours ("2个工作小时内签收"). A span of days
ends, like every deadline here, at the end of the n-th working day after the day it
starts (the day itself never counts, docs/domain.md §11.2). A span of hours counts
only office hours of working days: OFFICE_HOURS, 09:00–17:00 Beijing time, a common
office day; a plan gives the span, not the office day.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal

from statemachine.plan import SPAN_PATTERN
from .calendar import WorkingCalendar, due_end_of_day_after_working_days, local_time
from .clock import TZ

__all__ = ["WorkingSpan", "parse_span", "span_end", "add_working_hours", "OFFICE_HOURS", "SPAN_PATTERN",
           "sign_for_span", "return_span"]

OFFICE_HOURS = (time(9, 0), time(17, 0))


@dataclass(frozen=True)
class WorkingSpan:
    amount: int
    unit: Literal["day", "hour"]

    def __str__(self) -> str:
        return f"{self.amount} working {self.unit}{'s' if self.amount != 1 else ''}"


def parse_span(text: str) -> WorkingSpan:
    """'1 working day', '2 working days', '4 working hours' (1..999); ValueError otherwise."""
    m = re.match(SPAN_PATTERN, text or "")
    if m is None:
        raise ValueError(f"'{text}' is not a span of working time (e.g. '1 working day', '4 working hours')")
    return WorkingSpan(int(m.group(1)), "hour" if m.group(2).startswith("hour") else "day")


def add_working_hours(calendar: WorkingCalendar, start: datetime, hours: int) -> datetime:
    """The instant `hours` office hours after `start` (time outside office hours or on rest
    days does not count); `start` itself when hours is 0."""
    t = local_time(start)
    left = timedelta(hours=hours)
    opens, closes = OFFICE_HOURS
    while True:
        day = t.date()
        day_open = datetime.combine(day, opens, TZ)
        day_close = datetime.combine(day, closes, TZ)
        if not left:
            return t
        if not calendar.is_workday(day) or t >= day_close:
            t = datetime.combine(calendar.add_working_days(day, 1), opens, TZ)
            continue
        t = max(t, day_open)
        if t + left <= day_close:
            return t + left
        left -= day_close - t
        t = datetime.combine(calendar.add_working_days(day, 1), opens, TZ)


def span_end(calendar: WorkingCalendar, start: datetime, span: WorkingSpan) -> datetime:
    """When a span begun at `start` runs out."""
    if span.unit == "day":
        return due_end_of_day_after_working_days(calendar, start, span.amount)
    return add_working_hours(calendar, start, span.amount)


def sign_for_span(rules) -> WorkingSpan | None:
    """A plan's `clues.sign_for` (statemachine/plan.py ClueRules), None when it asks for no signing."""
    return parse_span(rules.sign_for) if rules.sign_for else None


def return_span(rules) -> WorkingSpan:
    """A plan's `clues.return_window`."""
    return parse_span(rules.return_window)
