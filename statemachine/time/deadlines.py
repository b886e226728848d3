"""How far a rectification deadline (整改时限) may be set, and moving one: 延期.

docs/domain.md §5.2 and §5.7. A deadline is set when an item is substantiated
(by the unit), reopened (by a supervisor above it, or a look-back's check) or
extended. Wherever it is set, it lies between the day it is set and the end of
the plan's `clues.rectify_within_working_days` (default 30) working days after
that day (§11.2: the day itself never counts). A later deadline is never
typed in: it is an extension (延期, 12345 / 督办 practice), asked for before
the deadline passes and granted by a supervisor above the unit (the level
above), again at most that many working days after the day it is granted, and
audited like every step. A ledger coming back from a unit never moves a
deadline (services/ledgers/importing.py refuses the cell and names this path).
Nor does a deadline ever lie before the day the item was received: the work
cannot be due before anyone knew of it (`receipt_refusal`, a row guard of the
clue chart, so the CLI, the web, the API and the bulk path all hold it).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .calendar import WorkingCalendar, due_end_of_day_after_working_days
from .spans import WorkingSpan, span_end

__all__ = ["DeadlineLimit", "deadline_limit", "deadline_refusal", "extension_refusal", "extensions_left_refusal",
           "receipt_refusal", "EXTENSION_HINT", "Pause", "resumed", "suspended_working_days", "moved_deadline",
           "AssignmentClock", "assignment_clock"]

EXTENSION_HINT = ("a later deadline is an extension (延期): asked for before the deadline passes, "
                  "granted by a supervisor above the unit")


@dataclass(frozen=True)
class DeadlineLimit:
    """The deadlines that may be set on `today`: from `today` to `latest`."""

    today: date
    latest: date
    working_days: int


def deadline_limit(calendar: WorkingCalendar, *, today: date, working_days: int) -> DeadlineLimit:
    """The limit on `today` (Beijing date) for a plan giving `working_days`."""
    return DeadlineLimit(today, calendar.add_working_days(today, working_days), working_days)


def deadline_refusal(deadline: date, limit: DeadlineLimit, *, extending: bool = False) -> str | None:
    """Why `deadline` may not be set under `limit`, or None."""
    if deadline < limit.today:
        return f"the deadline {deadline} is before the day it is set ({limit.today})"
    if deadline > limit.latest:
        then = ("a further extension may be granted nearer the time" if extending else EXTENSION_HINT)
        return (f"the deadline {deadline} is beyond the plan's limit of {limit.working_days} working days "
                f"(at most {limit.latest}); {then}")
    return None


def extensions_left_refusal(*, granted_before: int, max_extensions: int) -> str | None:
    """Why an item already extended `granted_before` times may have no more under a plan
    allowing `max_extensions` (clues.max_extensions), or None. The one count: a request
    (statemachine/charts/extension.py) and the clue's `extend` (direct or approved) hold it."""
    if granted_before >= max_extensions:
        return f"the plan allows {max_extensions} extension(s) per item and it has had {granted_before}"
    return None


def receipt_refusal(deadline: date, received: date) -> str | None:
    """Why `deadline` may not be set on an item received on `received` (Beijing date), or None."""
    if deadline < received:
        return f"the deadline {deadline} is before the item was received ({received})"
    return None


def extension_refusal(*, current: date | None, current_due: datetime | None, new: date,
                      as_of: datetime) -> str | None:
    """Why an item whose deadline is `current` (ending at `current_due`) may not be
    extended to `new` at `as_of`, or None; the limit is `deadline_refusal`'s."""
    if current is None or current_due is None:
        return "the item has no deadline to extend"
    if as_of > current_due:
        return (f"its deadline {current} has passed: an extension (延期) is asked for before the "
                f"deadline, and an overdue item stays overdue")
    if new <= current:
        return f"the new deadline {new} is not later than the current one ({current})"
    return None


# -- 挂账 / 暂停: a suspended clock -------------------------------------------------------
# A supervisor may stop an item's clock (seasonal works, litigation pending, waiting for
# another organ) and start it again; the days it stood do not count. Every deadline of the
# item is then "start + budget + working days suspended": `moved_deadline` is the one
# function that says so (tests/unit/test_suspended_deadlines.py holds its properties).

@dataclass(frozen=True)
class Pause:
    """A suspension from the Beijing day `start` until the day `end` (None: still standing);
    the working days in [start, end) stood still."""

    start: date
    end: date | None = None


def resumed(pauses: tuple[Pause, ...], day: date) -> tuple[Pause, ...]:
    """The pauses with a standing one ended on `day`; resuming what runs changes nothing."""
    return tuple(Pause(p.start, max(day, p.start)) if p.end is None else p for p in pauses)


def suspended_working_days(calendar: WorkingCalendar, pauses: tuple[Pause, ...] | list[Pause], *,
                           until: date) -> int:
    """Working days on which the clock stood, each counted once however the pauses overlap;
    a standing pause counts until `until`."""
    spans = sorted((p.start, until if p.end is None else p.end) for p in pauses)
    total, reached = 0, None
    for start, end in spans:
        if reached is not None and start < reached:
            start = reached
        if end > start:
            # working days in [start, end) are those in (start - 1, end - 1]
            total += calendar.working_days_between(start - timedelta(days=1), end - timedelta(days=1))
        reached = end if reached is None else max(reached, end)
    return total


def moved_deadline(calendar: WorkingCalendar, *, due: date, pauses: tuple[Pause, ...] | list[Pause] = (),
                   until: date | None = None, extended_to: date | None = None) -> date:
    """The day an item is due: its deadline (`due`, or a later approved extension) moved on
    by the working days its clock stood. Never earlier than `due`."""
    base = max(due, extended_to) if extended_to is not None else due
    n = suspended_working_days(calendar, pauses, until=until or base) if pauses else 0
    # no day stood: the deadline itself, even on a rest day (add_working_days(d, 0) would move it)
    return calendar.add_working_days(base, n) if n else base


# -- 签收 / 退单 / 改派: the clock of an assignment ------------------------------------------
# An item assigned to a unit (received, or reassigned 改派 after a return) owes its signing
# within the plan's `clues.sign_for`, may be returned within `clues.return_window`, and owes
# its verification within `clues.verify_within_working_days`, all counted from the instant
# it was assigned: a reassigned item's clock restarts at the new unit, with the full budget.
# `assignment_clock` is the one function that says so (tests/unit/test_assignment_clock.py).

@dataclass(frozen=True)
class AssignmentClock:
    assigned_at: datetime
    verify_due_at: datetime
    sign_due_at: datetime | None   # None: the plan asks for no signing
    return_until: datetime


def assignment_clock(calendar: WorkingCalendar, *, assigned_at: datetime, verify_working_days: int,
                     sign_for: WorkingSpan | None, return_window: WorkingSpan) -> AssignmentClock:
    """The deadlines of an item assigned to a unit at `assigned_at`."""
    return AssignmentClock(
        assigned_at=assigned_at,
        verify_due_at=due_end_of_day_after_working_days(calendar, assigned_at, verify_working_days),
        sign_due_at=span_end(calendar, assigned_at, sign_for) if sign_for is not None else None,
        return_until=span_end(calendar, assigned_at, return_window))
