"""The one clock type: an aware stdlib `datetime` in Asia/Shanghai.

Every instant that crosses a boundary (the CLI's --now, a flow's `as_of`
parameter, a deployment run's scheduled start, the web) goes through
`instant()` once; everything behind the boundary can then add timedeltas
and compare without asking what it was given. Why stdlib and not whatever
arrived: Prefect hands out pendulum `DateTime`s, and pendulum's
`dt + timedelta(...)` on a value converted to a zoneinfo zone drops the zone
(and shifts the wall time), which a database column then refuses as naive.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from statemachine.errors import InvalidInput

__all__ = ["TZ", "DAY_STARTS", "EARLIEST", "LATEST", "instant", "parse_instant"]

TZ = ZoneInfo("Asia/Shanghai")
# A bare date is "that day, office hours": what --now always meant, so a date
# given to a flow and to the CLI names the same instant.
DAY_STARTS = time(9, 0)

# What an instant may be: far wider than any campaign, and narrow enough that
# converting to UTC for the database and adding a deadline's months never
# leaves the datetime range (0001-01-01 07:00 in Beijing is year 0 in UTC).
EARLIEST = datetime(1970, 1, 1, tzinfo=TZ)
LATEST = datetime(3000, 1, 1, tzinfo=TZ)  # excluded

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_HINT = "use 2023-04-08, 2023-04-08T09:30 (Asia/Shanghai) or an ISO instant with offset"


def instant(value: object, *, name: str = "as_of") -> datetime:
    """`value` as an aware stdlib datetime in Asia/Shanghai.

    Accepts a datetime (naive means Asia/Shanghai), a pendulum/Prefect
    DateTime, a date (at DAY_STARTS), or an ISO string: '2023-05-23',
    '2023-05-23T00:05', '2023-05-23 00:05', with or without an offset.
    Anything else is InvalidInput naming the parameter `name`.
    """
    if isinstance(value, datetime):  # before date: a datetime is a date too
        return _bounded(_stdlib, value, name=name, shown=value.isoformat())
    if isinstance(value, date):
        return _bounded(_day_starts, value, name=name, shown=value.isoformat())
    if isinstance(value, str):
        return _parse(value, name)
    raise InvalidInput(f"{name}: {value!r} is not a date or time ({_HINT})")


def parse_instant(text: str, *, name: str = "--now") -> datetime:
    """A date or time typed by a person (the CLI's --now)."""
    return _parse(text, name)


def _parse(text: str, name: str) -> datetime:
    raw = text.strip()
    try:
        if _DATE.fullmatch(raw):
            return _bounded(_day_starts, date.fromisoformat(raw), name=name, shown=repr(text))
        # strict prefix: fromisoformat alone also takes '20230523' (midnight, not 09:00)
        if _DATE_TIME.match(raw):
            return _bounded(_stdlib, datetime.fromisoformat(raw.replace(" ", "T", 1)), name=name,
                            shown=repr(text))
    except ValueError:  # e.g. 2023-02-30, 25:00
        pass
    raise InvalidInput(f"{name}: {text!r} is not a date or time ({_HINT})")


def _day_starts(d: date) -> datetime:
    return datetime.combine(date(d.year, d.month, d.day), DAY_STARTS, TZ)


def _bounded(convert, value, *, name: str, shown: str) -> datetime:
    """convert(value), refused in one line when it falls outside EARLIEST..LATEST."""
    try:
        got = convert(value)
    except OverflowError:  # the offset took it past year 1 or 9999
        got = None
    if got is None or not EARLIEST <= got < LATEST:
        raise InvalidInput(f"{name}: {shown} is outside the instants Rectify handles "
                           f"({EARLIEST.year}-01-01 to {LATEST.year - 1}-12-31)")
    return got


def _stdlib(dt: datetime) -> datetime:
    # Rebuilt field by field: subclasses (pendulum) override astimezone and
    # arithmetic, so converting one would hand back the same troublesome type.
    plain = datetime(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond,
                     fold=dt.fold)
    offset = dt.utcoffset()
    if offset is None:
        return plain.replace(tzinfo=TZ)
    return (plain - offset).replace(tzinfo=timezone.utc).astimezone(TZ)
