"""China Standard Time deadlines and official working days (工作日).

Campaign deadlines are stated in Beijing time and often as "within n working
days"; official working days are not Mon-Fri because of holidays and swapped
weekend workdays (调休). chinese_calendar knows 2004-2026 only, so a YAML
override file can add (or correct) years. A date in a year nobody covers is
refused loudly (CalendarNotCovered): guessing Mon-Fri would silently move
deadlines across Spring Festival.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from types import MappingProxyType

import chinese_calendar
import yaml

from .clock import TZ

__all__ = ["TZ", "OVERRIDES_ENV", "CalendarNotCovered", "CalendarFileError", "YearOverride",
           "WorkingCalendar", "end_of_day", "local_date", "due_end_of_day_after_working_days"]

OVERRIDES_ENV = "RECTIFY_CALENDAR_OVERRIDES"  # named in messages so users know what to set


class CalendarNotCovered(ValueError):
    def __init__(self, year: int, needed: date):
        self.year, self.needed = year, needed
        super().__init__(f"no working-day calendar for {year} (needed for {needed.isoformat()}): "
                         f"add the year to the calendar override file ({OVERRIDES_ENV})")


class CalendarFileError(ValueError):
    pass


@dataclass(frozen=True)
class YearOverride:
    holidays: frozenset[date] = frozenset()   # non-working days (weekend ones are harmless)
    workdays: frozenset[date] = frozenset()   # weekend days worked (调休)


@dataclass(frozen=True)
class WorkingCalendar:
    overrides: Mapping[int, YearOverride] = field(default_factory=dict)
    # year -> sorted ordinals of its workdays. Built lazily because bulk imports call
    # add_working_days per row; a benign race only computes a year twice.
    _years: dict[int, tuple[tuple[int, ...], frozenset[int]]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Copy so a caller mutating its dict cannot desynchronise the cache.
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))

    @classmethod
    def from_file(cls, path: str | Path | None) -> WorkingCalendar:
        """Load overrides; None (or "", an unset env var) means chinese_calendar alone."""
        if path is None or str(path) == "":
            return cls()
        return cls(_load_overrides(Path(path)))

    def is_workday(self, d: date) -> bool:
        """Whether d is an official working day (raises CalendarNotCovered if unknown)."""
        return _as_date(d).toordinal() in self._year(d.year, d)[1]

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after start; n=0 is start itself or the next workday."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        o, year = _as_date(start).toordinal(), start.year
        days = self._year(year, start)[0]
        i = (bisect_right(days, o) + n - 1) if n else bisect_left(days, o)
        while i >= len(days):  # the answer lies in a later year
            i -= len(days)
            year += 1
            days = self._year(year, date(year, 1, 1))[0]
        return date.fromordinal(days[i])

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; 0 if end <= start."""
        if _as_date(end) <= _as_date(start):
            return 0
        first = start + timedelta(days=1)  # start itself is excluded, so its year may be unknown
        s, e, total = start.toordinal(), end.toordinal(), 0
        for year in range(first.year, end.year + 1):
            days = self._year(year, max(first, date(year, 1, 1)))[0]
            total += bisect_right(days, e) - bisect_right(days, s)
        return total

    def working_days_back(self, start: date, n: int) -> date:
        """The n-th working day before start (n >= 1): "no progress for n working days"."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        d = _as_date(start)
        while n:
            d -= timedelta(days=1)
            n -= self.is_workday(d)
        return d

    def next_workday(self, d: date) -> date:
        return self.add_working_days(d, 0)

    def _year(self, year: int, needed: date) -> tuple[tuple[int, ...], frozenset[int]]:
        if (cached := self._years.get(year)) is not None:
            return cached
        jan1 = date(year, 1, 1)
        all_days = [jan1 + timedelta(days=k) for k in range(date(year, 12, 31).timetuple().tm_yday)]
        ov = self.overrides.get(year)
        if ov is not None:  # the file wins: it exists to correct chinese_calendar too
            work = [d for d in all_days
                    if d in ov.workdays or (d.weekday() < 5 and d not in ov.holidays)]
        else:
            try:
                work = [d for d in all_days if chinese_calendar.is_workday(d)]
            except NotImplementedError:  # chinese_calendar's "year not covered"
                raise CalendarNotCovered(year, needed) from None
        ords = tuple(d.toordinal() for d in work)
        self._years[year] = (ords, frozenset(ords))
        return self._years[year]


def _as_date(d: date) -> date:
    # A datetime here is a time-zone bug waiting to happen (which day is it?), and
    # datetimes never equal dates in sets, so refuse instead of answering wrongly.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"expected a date, got {type(d).__name__}; use local_date() for instants")
    return d


def end_of_day(d: date) -> datetime:
    """The last instant of d in Beijing time: "by 3-25" means until 3-25 ends."""
    return datetime.combine(d, time.max, TZ)


def local_date(instant: datetime) -> date:
    """The Beijing calendar date of an instant; naive values are taken as UTC (as stored)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        instant = instant.replace(tzinfo=timezone.utc)
    return instant.astimezone(TZ).date()


def due_end_of_day_after_working_days(cal: WorkingCalendar, start_instant: datetime,
                                      n: int) -> datetime:
    """Received at start_instant, due "within n working days"."""
    return end_of_day(cal.add_working_days(local_date(start_instant), n))


# --- override file -------------------------------------------------------------------

class _Loader(yaml.SafeLoader):
    """Dates stay strings (so a bad one gets our message, not a crash) and duplicate
    keys are refused (PyYAML would silently keep the last of two `2027:` blocks)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key_node.value!r}", key_node.start_mark)
                seen.add(key_node.value)
        return super().construct_mapping(node, deep)


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in rs if tag != "tag:yaml.org,2002:timestamp"]
    for ch, rs in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def _iso_date(item: object) -> date | None:
    # Strictly YYYY-MM-DD: fromisoformat alone would also take "20270105".
    if isinstance(item, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", item):
        try:
            return date.fromisoformat(item)
        except ValueError:  # e.g. 2027-02-30
            pass
    return None


def _load_overrides(path: Path) -> dict[int, YearOverride]:
    def bad(what: str) -> CalendarFileError:
        return CalendarFileError(f"calendar override file {path}: {what}")

    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, UnicodeDecodeError) as e:
        raise bad(f"cannot read: {e.strerror or e}") from None
    except yaml.MarkedYAMLError as e:
        where = f"line {e.problem_mark.line + 1}: " if e.problem_mark else ""
        raise bad(f"invalid YAML: {where}{e.problem or e.context}") from None
    except yaml.YAMLError as e:
        raise bad("invalid YAML: " + " ".join(str(e).split())) from None
    def mapping(value: object, where: str, allowed: tuple[str, ...] | None) -> dict:
        # None is "nothing yet": an empty file, or `years:` with every entry commented out.
        value = {} if value is None else value
        keys = " and/or ".join(map(repr, allowed or ()))
        if not isinstance(value, dict):
            raise bad(f"{where} must be a " + (f"mapping with keys {keys}" if allowed
                                                  else "mapping of years"))
        if allowed and (unknown := set(value) - set(allowed)):
            raise bad(f"unknown key {sorted(map(str, unknown))[0]!r} in {where} (allowed: {keys})")
        return value

    years = mapping(mapping(doc, "the top level", ("years",)).get("years"), "'years'", None)

    out: dict[int, YearOverride] = {}
    for key, body in years.items():
        if isinstance(key, str) and key.isdigit():
            key = int(key)
        if not isinstance(key, int) or isinstance(key, bool) or not 1 <= key <= 9999:
            raise bad(f"year {key!r} is not a year")
        body = mapping(body, f"years.{key}", ("holidays", "workdays"))
        lists = {}
        for kind in ("holidays", "workdays"):
            raw = [] if body.get(kind) is None else body[kind]
            if not isinstance(raw, list):
                raise bad(f"years.{key}.{kind} must be a list of YYYY-MM-DD dates")
            days = set()
            for item in raw:
                if (d := _iso_date(item)) is None:
                    raise bad(f"bad date {item!r} in years.{key}.{kind} (expected YYYY-MM-DD)")
                if d.year != key:
                    raise bad(f"date {item} is listed under year {key}")
                if kind == "workdays" and d.weekday() < 5:
                    raise bad(f"{item} is a weekday, but workdays lists only weekend days "
                              "worked (调休)")
                days.add(d)
            lists[kind] = frozenset(days)
        if both := lists["holidays"] & lists["workdays"]:
            raise bad(f"{min(both).isoformat()} is listed as both holiday and workday")
        out[key] = YearOverride(**lists)
    return out
