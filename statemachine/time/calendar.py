"""China Standard Time deadlines and official working days (工作日).

Campaign deadlines are stated in Beijing time and often as "within n working
days"; official working days are not Mon-Fri because of holidays and swapped
weekend workdays (调休). chinese_calendar knows 2004-2026 only, so a YAML
override file can add (or correct) years. A date in a year nobody covers is
refused loudly (CalendarNotCovered): guessing Mon-Fri would silently move
deadlines across Spring Festival.
"""
from __future__ import annotations

import os
import re
import stat
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from types import MappingProxyType

import chinese_calendar
import yaml

from statemachine.errors import CalendarFileError, CalendarNotCovered
from .clock import TZ

__all__ = ["TZ", "OVERRIDES_ENV", "COVERAGE_WARNING_DAYS", "CalendarNotCovered", "CalendarFileError",
           "YearOverride", "WorkingCalendar", "Coverage", "coverage_warning", "end_of_day", "local_date", "local_time",
           "due_end_of_day_after_working_days"]

OVERRIDES_ENV = "RECTIFY_CALENDAR_OVERRIDES"  # named in messages so users know what to set
# The State Council publishes next year's holidays in November or December; a
# month's notice leaves time to copy them into the override file.
COVERAGE_WARNING_DAYS = 30


@dataclass(frozen=True)
class YearOverride:
    holidays: frozenset[date] = frozenset()   # non-working days (weekend ones are harmless)
    workdays: frozenset[date] = frozenset()   # weekend days worked (调休)


@dataclass(frozen=True)
class WorkingCalendar:
    overrides: Mapping[int, YearOverride] = field(default_factory=dict)
    source: str | None = field(default=None, compare=False)  # the override file, shown by coverage()
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
        return cls(_load_overrides(Path(path)), source=str(path))

    def coverage(self) -> Coverage:
        """Which years this calendar knows, and from where."""
        package, first, last = _package_coverage()
        return Coverage(package=package, package_years=(first, last), override_file=self.source,
                        override_years=frozenset(self.overrides))

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


@dataclass(frozen=True)
class Coverage:
    """The years the working-day calendar knows: the package's range, and the
    override file's years (which win over the package's where both list one)."""

    package: str                     # e.g. "chinese_calendar 1.11.0"
    package_years: tuple[int, int]   # its first and last year
    override_file: str | None = None
    override_years: frozenset[int] = frozenset()

    def source(self, year: int) -> str | None:
        """'override file', 'package', or None for a year nobody covers."""
        if year in self.override_years:
            return "override file"
        first, last = self.package_years
        return "package" if first <= year <= last else None

    def end(self, day: date) -> date | None:
        """The last day of the gap-free run of covered years that holds `day`
        (None if its year is not covered): where working-day deadlines stop."""
        if self.source(day.year) is None:
            return None
        year = day.year
        while year < 9999 and self.source(year + 1) is not None:
            year += 1
        return date(year, 12, 31)

    def spans(self) -> list[tuple[int, int, str]]:
        """(first year, last year, source) of each run of years with one source, in order."""
        years = sorted(set(range(self.package_years[0], self.package_years[1] + 1)) | self.override_years)
        out: list[tuple[int, int, str]] = []
        for y in years:
            src = self.source(y)
            if out and out[-1][1] == y - 1 and out[-1][2] == src:
                out[-1] = (out[-1][0], y, src)
            else:
                out.append((y, y, src))
        return out


def coverage_warning(as_of: date, coverage: Coverage, *,
                     within_days: int = COVERAGE_WARNING_DAYS) -> str | None:
    """The one warning that the working-day calendar runs out: from `within_days`
    before its last covered day (and after it), else None. `as_of` is a date or an instant."""
    day = local_date(as_of) if isinstance(as_of, datetime) else as_of
    end = coverage.end(day)
    if end is None:
        return (f"the working-day calendar does not cover {day.year}: deadlines in working days "
                f"cannot be computed; add {day.year} to the calendar override file ({OVERRIDES_ENV})")
    left = (end - day).days
    if left > within_days:
        return None
    when = "today" if left == 0 else "tomorrow" if left == 1 else f"in {left} days"
    return (f"the working-day calendar ends on {end.isoformat()} ({when}): add {end.year + 1} to the "
            f"calendar override file ({OVERRIDES_ENV}) from the State Council's holiday notice "
            f"(see 'rectify calendar')")


@lru_cache(maxsize=1)
def _package_coverage() -> tuple[str, int, int]:
    from importlib.metadata import PackageNotFoundError, version

    from chinese_calendar.constants import holidays

    try:
        v = version("chinese_calendar")
    except PackageNotFoundError:  # vendored or renamed: say what we know
        v = getattr(chinese_calendar, "__version__", "?")
    # the package's own range check (utils._validate_date) uses these bounds
    return f"chinese_calendar {v}", min(holidays).year, max(holidays).year


def _as_date(d: date) -> date:
    # A datetime here is a time-zone bug waiting to happen (which day is it?), and
    # datetimes never equal dates in sets, so refuse instead of answering wrongly.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"expected a date, got {type(d).__name__}; use local_date() for instants")
    return d


def end_of_day(d: date) -> datetime:
    """The last instant of d in Beijing time: "by 3-25" means until 3-25 ends."""
    return datetime.combine(d, time.max, TZ)


def local_time(instant: datetime) -> datetime:
    """An instant in Beijing time; naive values are taken as UTC (as stored)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        instant = instant.replace(tzinfo=timezone.utc)
    return instant.astimezone(TZ)


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

    def compose_node(self, parent, index):
        # a calendar needs no anchors: refusing aliases keeps a small file from
        # standing for an exponentially large one (the "billion laughs")
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not used in a calendar file",
                                              self.peek_event().start_mark)
        return super().compose_node(parent, index)


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


# The override file is read by every command that counts working days: bounded, so that
# a path to a device, a FIFO or a huge file is refused at once instead of read forever.
MAX_CALENDAR_BYTES = 2**20


class _TooLarge(Exception):
    pass


class _NotAFile(Exception):
    pass


def _bounded_text(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the open
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _NotAFile()
    with os.fdopen(fd, "rb") as f:
        data = f.read(MAX_CALENDAR_BYTES + 1)
    if len(data) > MAX_CALENDAR_BYTES:
        raise _TooLarge()
    return data.decode("utf-8")


def _load_overrides(path: Path) -> dict[int, YearOverride]:
    """Read the file as a YAML node tree, so that every refusal names its line."""
    def bad(what: str, at: yaml.Node | yaml.Mark | None = None) -> CalendarFileError:
        mark = getattr(at, "start_mark", at)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        return CalendarFileError(f"calendar override file {path}: {where}{what}")

    try:
        text = _bounded_text(path)
    except _TooLarge:
        raise bad(f"larger than {MAX_CALENDAR_BYTES // 1024} KiB (a year's 放假 and 调休 days take about "
                  "2 KiB): not a calendar file") from None
    except _NotAFile:
        raise bad("not a regular file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise bad(f"cannot read: {getattr(e, 'strerror', None) or e}") from None
    loader = _Loader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as e:
            raise bad(f"invalid YAML: {e.problem or e.context}", e.problem_mark) from None
        except yaml.YAMLError as e:
            raise bad("invalid YAML: " + " ".join(str(e).split())) from None
        return _read_years(root, loader, bad)
    finally:
        loader.dispose()


_NULL = "tag:yaml.org,2002:null"


def _read_years(root: yaml.Node | None, loader: _Loader, bad) -> dict[int, YearOverride]:
    def value(node: yaml.Node) -> object:
        return loader.construct_object(node, deep=True)

    def mapping(node: yaml.Node | None, where: str, allowed: tuple[str, ...] | None):
        # null is "nothing yet": an empty file, or `years:` with every entry commented out
        if node is None or node.tag == _NULL:
            return []
        keys = " and/or ".join(map(repr, allowed or ()))
        if not isinstance(node, yaml.MappingNode):
            raise bad(f"{where} must be a " + (f"mapping with keys {keys}" if allowed
                                               else "mapping of years"), node)
        seen, out = set(), []
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise bad(f"a key in {where} must be a plain name or year", key_node)
            if key_node.value in seen:
                raise bad(f"duplicate key {key_node.value!r}", key_node)
            seen.add(key_node.value)
            key = value(key_node)
            if allowed and key not in allowed:
                raise bad(f"unknown key {str(key)!r} in {where} (allowed: {keys})", key_node)
            out.append((key, key_node, value_node))
        return out

    top = mapping(root, "the top level", ("years",))
    years = mapping(top[0][2], "'years'", None) if top else []

    out: dict[int, YearOverride] = {}
    for key, key_node, body_node in years:
        if isinstance(key, str) and key.isdigit():
            key = int(key)
        if not isinstance(key, int) or isinstance(key, bool) or not 1 <= key <= 9999:
            raise bad(f"year {key!r} is not a year", key_node)
        lists: dict[str, dict[date, yaml.Node]] = {"holidays": {}, "workdays": {}}
        for kind, _, list_node in mapping(body_node, f"years.{key}", ("holidays", "workdays")):
            if list_node.tag == _NULL:
                continue
            if not isinstance(list_node, yaml.SequenceNode):
                raise bad(f"years.{key}.{kind} must be a list of YYYY-MM-DD dates", list_node)
            for item_node in list_node.value:
                item = value(item_node)
                if (d := _iso_date(item)) is None:
                    raise bad(f"bad date {item!r} in years.{key}.{kind} (expected YYYY-MM-DD)", item_node)
                if d.year != key:
                    raise bad(f"date {item} is listed under year {key}", item_node)
                if kind == "workdays" and d.weekday() < 5:
                    raise bad(f"{item} is a weekday, but workdays lists only weekend days "
                              "worked (调休)", item_node)
                lists[kind][d] = item_node
        if both := lists["holidays"].keys() & lists["workdays"].keys():
            first = min(both)
            raise bad(f"{first.isoformat()} is listed as both holiday and workday",
                      lists["workdays"][first])
        out[key] = YearOverride(holidays=frozenset(lists["holidays"]),
                                workdays=frozenset(lists["workdays"]))
    return out
