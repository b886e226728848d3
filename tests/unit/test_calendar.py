"""Working-day calendar and Beijing-time deadlines (statemachine.time.calendar)."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statemachine.time.calendar import (
    COVERAGE_WARNING_DAYS,
    TZ,
    CalendarFileError,
    CalendarNotCovered,
    Coverage,
    WorkingCalendar,
    YearOverride,
    coverage_warning,
    due_end_of_day_after_working_days,
    end_of_day,
    local_date,
)

D = date.fromisoformat
CAL = WorkingCalendar()
EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "calendar-overrides.example.yaml"

OVERRIDES_2027 = """\
# overrides for years chinese-calendar does not know
years:
  2027:
    holidays: [2027-01-01, 2027-02-05, 2027-02-08, 2027-02-09, 2027-02-10, 2027-02-11]
    workdays: [2027-02-20]
"""


def write(tmp_path: Path, text: str, name: str = "overrides.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# --- is_workday --------------------------------------------------------------------

@pytest.mark.parametrize("day, expected", [
    # 2023 National Day + Mid-Autumn: 9-29..10-06 off, Sat 10-07 and Sun 10-08 worked
    ("2023-09-28", True), ("2023-09-29", False), ("2023-10-02", False),
    ("2023-10-06", False), ("2023-10-07", True), ("2023-10-08", True), ("2023-10-09", True),
    # 2023 Spring Festival: 1-21..1-27 off, Sat 1-28 and Sun 1-29 worked
    ("2023-01-20", True), ("2023-01-21", False), ("2023-01-23", False),
    ("2023-01-27", False), ("2023-01-28", True), ("2023-01-29", True), ("2023-01-30", True),
    # an ordinary week
    ("2023-03-13", True), ("2023-03-17", True), ("2023-03-18", False), ("2023-03-19", False),
])
def test_is_workday_2023(day, expected):
    assert CAL.is_workday(D(day)) is expected


# --- add_working_days / next_workday / working_days_between --------------------------

@pytest.mark.parametrize("start, n, expected", [
    ("2023-09-28", 0, "2023-09-28"),   # n=0 on a workday: itself
    ("2023-09-29", 0, "2023-10-07"),   # n=0 on a holiday: next workday
    ("2023-09-28", 1, "2023-10-07"),   # the whole holiday is skipped
    ("2023-09-28", 2, "2023-10-08"),   # and the swapped Sunday counts
    ("2023-09-28", 3, "2023-10-09"),
    ("2023-10-01", 1, "2023-10-07"),   # counting starts after start, even from a holiday
    ("2023-10-01", 2, "2023-10-08"),
    ("2023-01-19", 1, "2023-01-20"),
    ("2023-01-20", 1, "2023-01-28"),
    ("2023-01-20", 5, "2023-02-01"),
    ("2023-03-13", 4, "2023-03-17"),   # an ordinary week
    ("2023-03-13", 5, "2023-03-20"),
    ("2023-03-17", 1, "2023-03-20"),
    ("2023-03-18", 1, "2023-03-20"),   # from a Saturday
    ("2023-12-29", 1, "2024-01-02"),   # across a year boundary (2024-01-01 holiday)
    ("2023-01-01", 250, "2024-01-02"),   # 2023 has 249 working days
])
def test_add_working_days(start, n, expected):
    assert CAL.add_working_days(D(start), n) == D(expected)


@pytest.mark.parametrize("day, expected", [
    ("2023-10-01", "2023-10-07"), ("2023-10-07", "2023-10-07"),
    ("2023-03-18", "2023-03-20"), ("2023-03-15", "2023-03-15"),
])
def test_next_workday(day, expected):
    assert CAL.next_workday(D(day)) == D(expected)


@pytest.mark.parametrize("start, end, expected", [
    ("2023-09-28", "2023-10-09", 3),   # 10-07, 10-08, 10-09
    ("2023-09-27", "2023-09-28", 1),
    ("2023-09-28", "2023-09-28", 0),
    ("2023-10-09", "2023-09-28", 0),   # end before start
    ("2023-03-12", "2023-03-19", 5),
    ("2023-03-13", "2023-03-19", 4),   # start itself is excluded
    ("2022-12-31", "2023-12-31", 249),
    ("2023-12-29", "2024-01-02", 1),
])
def test_working_days_between(start, end, expected):
    assert CAL.working_days_between(D(start), D(end)) == expected


def test_negative_n_is_refused():
    with pytest.raises(ValueError):
        CAL.add_working_days(D("2023-03-13"), -1)


def test_datetimes_are_refused_where_a_date_is_meant():
    with pytest.raises(TypeError, match="local_date"):
        CAL.is_workday(datetime(2023, 3, 13, 9, tzinfo=TZ))


covered_days = st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 6, 30))


@settings(max_examples=300, deadline=None)
@given(covered_days, st.integers(min_value=1, max_value=100))
def test_add_then_count_round_trips(d, n):
    result = CAL.add_working_days(d, n)
    assert result > d
    assert CAL.is_workday(result)
    assert CAL.working_days_between(d, result) == n
    # and it is the first such day: one calendar day earlier has one fewer
    assert CAL.working_days_between(d, result - timedelta(days=1)) == n - 1


@settings(max_examples=300, deadline=None)
@given(covered_days)
def test_next_workday_is_first_workday_on_or_after(d):
    nxt = CAL.next_workday(d)
    assert nxt >= d and CAL.is_workday(nxt)
    assert all(not CAL.is_workday(d + timedelta(days=k)) for k in range((nxt - d).days))


@settings(max_examples=200, deadline=None)
@given(covered_days, covered_days)
def test_between_matches_day_by_day_count(a, b):
    a, b = min(a, b), min(max(a, b), a + timedelta(days=800))
    naive = sum(CAL.is_workday(a + timedelta(days=k)) for k in range(1, (b - a).days + 1))
    assert CAL.working_days_between(a, b) == naive


# --- coverage and the override file --------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda c: c.is_workday(D("2027-01-04")),
    lambda c: c.add_working_days(D("2026-12-30"), 5),
    lambda c: c.working_days_between(D("2026-12-01"), D("2027-01-04")),
    lambda c: c.next_workday(D("2003-06-01")),
])
def test_uncovered_year_raises(call):
    with pytest.raises(CalendarNotCovered) as exc:
        call(CAL)
    msg = str(exc.value)
    assert isinstance(exc.value, ValueError)
    assert "\n" not in msg
    assert re.search(r"\b(2027|2003)\b", msg)
    assert "RECTIFY_CALENDAR_OVERRIDES" in msg


def test_uncovered_message_names_year_and_date():
    with pytest.raises(CalendarNotCovered) as exc:
        CAL.is_workday(D("2027-01-04"))
    assert str(exc.value) == (
        "no working-day calendar for 2027 (needed for 2027-01-04): "
        "add the year to the calendar override file (RECTIFY_CALENDAR_OVERRIDES)")
    assert exc.value.year == 2027


def test_year_end_of_covered_range_needs_no_next_year():
    assert CAL.working_days_between(D("2026-12-30"), D("2026-12-31")) == 1
    assert CAL.working_days_between(D("2003-12-31"), D("2004-01-05")) == 2


def test_override_file_covers_2027(tmp_path):
    cal = WorkingCalendar.from_file(write(tmp_path, OVERRIDES_2027))
    assert cal.overrides[2027] == YearOverride(
        holidays=frozenset(map(D, ["2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09",
                                   "2027-02-10", "2027-02-11"])),
        workdays=frozenset([D("2027-02-20")]))
    assert not cal.is_workday(D("2027-01-01"))
    assert cal.is_workday(D("2027-01-04"))
    assert cal.is_workday(D("2027-02-20"))          # Saturday 调休
    assert not cal.is_workday(D("2027-02-21"))
    assert cal.add_working_days(D("2027-02-04"), 1) == D("2027-02-12")
    assert cal.add_working_days(D("2026-12-31"), 1) == D("2027-01-04")  # crosses into the file
    assert cal.working_days_between(D("2026-12-31"), D("2027-01-08")) == 5
    assert cal.is_workday(D("2023-10-07"))          # other years still from chinese_calendar


def test_override_file_wins_over_chinese_calendar(tmp_path):
    path = write(tmp_path, "years:\n  2023:\n    holidays: [2023-03-13]\n")
    cal = WorkingCalendar.from_file(path)
    assert not cal.is_workday(D("2023-03-13"))
    assert not cal.is_workday(D("2023-10-07"))      # the file lists no 调休 for 2023
    assert cal.is_workday(D("2023-10-02"))


@pytest.mark.parametrize("path", [None, ""])
def test_no_file_means_no_overrides(path):
    assert dict(WorkingCalendar.from_file(path).overrides) == {}


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "years:\n", "years: {}\n",
                                  "years:\n  '2027':\n    holidays: ['2027-01-01']\n",
                                  "years:\n  2027:\n    holidays: ~\n"])
def test_benign_files_load(tmp_path, text):
    WorkingCalendar.from_file(write(tmp_path, text))


@pytest.mark.parametrize("text, problem", [
    ("years:\n  2027:\n    holidays: [2027-02-30]\n", "bad date '2027-02-30'"),
    ("years:\n  2027:\n    holidays: [next-friday]\n", "bad date 'next-friday'"),
    ("years:\n  2027:\n    holidays: [2027-1-5]\n", "bad date '2027-1-5'"),
    ("years:\n  2027:\n    holidays: [20270105]\n", "bad date 20270105"),
    ("years:\n  2027:\n    holiday: [2027-01-01]\n", "unknown key 'holiday'"),
    ("year:\n  2027: {}\n", "unknown key 'year'"),
    ("years:\n  2027:\n    holidays: [2028-01-03]\n", "2028-01-03 is listed under year 2027"),
    ("years:\n  2027:\n    workdays: [2027-02-22]\n", "2027-02-22 is a weekday"),
    ("years:\n  2027:\n    holidays: [2027-02-20]\n    workdays: [2027-02-20]\n",
     "both holiday and workday"),
    ("years:\n  2027:\n    holidays: 2027-01-01\n", "must be a list"),
    ("years:\n  twenty:\n    holidays: []\n", "'twenty' is not a year"),
    ("years: [2027]\n", "'years' must be a mapping of years"),
    ("years: []\n", "'years' must be a mapping of years"),
    ("years:\n  2027: []\n", "years.2027 must be a mapping"),
    ("years:\n  2027:\n    workdays: ''\n", "years.2027.workdays must be a list"),
    ("- 2027\n", "the top level must be a mapping with keys 'years'"),
    ("years:\n  2027: {holidays: [2027-01-01}\n", "invalid YAML"),
    ("years:\n  2027:\n    holidays: [2027-01-01]\n  2027:\n    workdays: []\n",
     "duplicate key '2027'"),
])
def test_malformed_file_raises(tmp_path, text, problem):
    path = write(tmp_path, text, name="bad-calendar.yaml")
    with pytest.raises(CalendarFileError) as exc:
        WorkingCalendar.from_file(path)
    msg = str(exc.value)
    assert isinstance(exc.value, ValueError)
    assert str(path) in msg
    assert problem in msg
    assert "\n" not in msg
    assert re.search(rf"^calendar override file {re.escape(str(path))}: line \d+: ", msg)


@pytest.mark.parametrize("text, line, problem", [
    ("years:\n  2027:\n    holidays:\n      - 2027-01-01\n      - 2027-02-30\n", 5, "bad date '2027-02-30'"),
    ("# header\n\nyears:\n  2027:\n    holiday: []\n", 5, "unknown key 'holiday'"),
    ("years:\n  2027:\n    holidays: [2027-02-20]\n    workdays:\n      - 2027-02-20\n", 5,
     "both holiday and workday"),
    ("years:\n  2027:\n    workdays: [2027-02-22]\n", 3, "2027-02-22 is a weekday"),
    ("years:\n  2027: {}\n  2027: {}\n", 3, "duplicate key '2027'"),
    ("years:\n  2027:\n    holidays: [2027-01-01\n", 4, "invalid YAML"),
    ("years:\n  twenty:\n", 2, "'twenty' is not a year"),
])
def test_a_broken_file_is_one_line_naming_the_file_and_the_line(tmp_path, text, line, problem):
    path = write(tmp_path, text, name="calendar.yaml")
    with pytest.raises(CalendarFileError) as exc:
        WorkingCalendar.from_file(path)
    assert str(exc.value).startswith(f"calendar override file {path}: line {line}: "), str(exc.value)
    assert problem in str(exc.value) and "\n" not in str(exc.value)


def test_missing_file_raises(tmp_path):
    with pytest.raises(CalendarFileError, match="cannot read"):
        WorkingCalendar.from_file(tmp_path / "absent.yaml")


def test_example_file_loads_and_its_commented_block_is_valid(tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "ILLUSTRATIVE" in text and "国务院办公厅关于2027年" in text
    assert dict(WorkingCalendar.from_file(EXAMPLE).overrides) == {}
    head, sep, block = text.partition("\nyears:\n")
    uncommented = head + sep + re.sub(r"(?m)^#", "", block)   # as the file tells users to
    cal = WorkingCalendar.from_file(write(tmp_path, uncommented))
    assert set(cal.overrides) == {2027}
    assert not cal.is_workday(D("2027-01-01"))
    assert cal.is_workday(D("2027-02-20"))


def _uncommented_example(tmp_path) -> WorkingCalendar:
    head, sep, block = EXAMPLE.read_text(encoding="utf-8").partition("\nyears:\n")
    return WorkingCalendar.from_file(write(tmp_path, head + sep + re.sub(r"(?m)^#", "", block)))


def test_the_example_is_a_whole_year_of_holidays_and_swapped_workdays(tmp_path):
    cal = _uncommented_example(tmp_path)
    year = [D("2027-01-01") + timedelta(days=k) for k in range(365)]
    off_weekdays = [d for d in year if d.weekday() < 5 and not cal.is_workday(d)]
    worked_weekends = [d for d in year if d.weekday() >= 5 and cal.is_workday(d)]
    # every festival of the year (元旦 春节 清明 劳动 端午 中秋 国庆) gives weekdays off ...
    assert {d.month for d in off_weekdays} == {1, 2, 4, 5, 6, 9, 10}
    assert {D("2027-02-05"), D("2027-04-05"), D("2027-06-09"), D("2027-09-15"),
            D("2027-10-01")} <= set(off_weekdays)
    # ... and each 调休 workday is a weekend day beside a long holiday
    assert worked_weekends == [D("2027-01-31"), D("2027-02-20"), D("2027-05-08"), D("2027-09-26"),
                               D("2027-10-09")]
    assert cal.working_days_between(D("2026-12-31"), D("2027-12-31")) == 248  # as the file says
    assert "(248 working days once uncommented)" in EXAMPLE.read_text(encoding="utf-8")


def test_the_example_in_the_readme_is_the_same_year(tmp_path):
    readme = (EXAMPLE.parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("```yaml\nyears:\n  2027:") + 8:]
    cal = WorkingCalendar.from_file(write(tmp_path, block[:block.index("```")], name="readme.yaml"))
    assert cal.overrides == _uncommented_example(tmp_path).overrides


# --- coverage: which years, from where, until when -------------------------------------

def test_coverage_of_the_package_alone():
    from importlib.metadata import version

    cov = WorkingCalendar().coverage()
    assert cov.package == f"chinese_calendar {version('chinese_calendar')}"
    assert cov.package_years[0] == 2004 and cov.package_years[1] >= 2026
    assert cov.override_file is None and cov.spans() == [(2004, cov.package_years[1], "package")]
    last = cov.package_years[1]
    assert cov.end(D("2023-05-10")) == date(last, 12, 31)
    with pytest.raises(CalendarNotCovered):  # the range is the package's own
        CAL.is_workday(date(last + 1, 1, 4))
    CAL.is_workday(date(last, 12, 31))  # its last year is covered: no CalendarNotCovered


def test_the_override_file_extends_coverage(tmp_path):
    path = write(tmp_path, OVERRIDES_2027)
    cal = WorkingCalendar.from_file(path)
    cov = cal.coverage()
    assert cov.override_file == str(path) and cov.override_years == {2027}
    assert cov.spans() == [(2004, 2026, "package"), (2027, 2027, "override file")]
    assert cov.end(D("2026-12-10")) == D("2027-12-31")
    assert coverage_warning(D("2026-12-10"), cov) is None
    assert cal.add_working_days(D("2026-12-31"), 1) == D("2027-01-04")  # and it is used


def test_an_override_year_replacing_the_packages_is_shown_as_the_files(tmp_path):
    cov = WorkingCalendar.from_file(write(tmp_path, "years:\n  2023:\n    holidays: [2023-03-13]\n")).coverage()
    assert cov.spans() == [(2004, 2022, "package"), (2023, 2023, "override file"), (2024, 2026, "package")]


def test_a_gap_ends_coverage_at_the_gap():
    cov = Coverage(package="p 1", package_years=(2004, 2026), override_years=frozenset({2028}))
    assert cov.end(D("2026-06-01")) == D("2026-12-31")
    assert cov.end(D("2027-06-01")) is None
    assert cov.end(D("2028-06-01")) == D("2028-12-31")


ENDS = st.integers(min_value=2005, max_value=2090)


@settings(max_examples=300, deadline=None)
@given(ENDS, st.integers(min_value=-3, max_value=COVERAGE_WARNING_DAYS + 5))
def test_the_warning_starts_30_days_before_the_last_covered_day(last_year, days_left):
    cov = Coverage(package="p 1", package_years=(2004, last_year))
    end = date(last_year, 12, 31)
    day = end - timedelta(days=days_left)
    msg = coverage_warning(day, cov)
    if days_left > COVERAGE_WARNING_DAYS:
        assert msg is None
    elif days_left >= 0:
        assert msg.startswith(f"the working-day calendar ends on {end.isoformat()} (")
        assert f"add {last_year + 1} to the calendar override file (RECTIFY_CALENDAR_OVERRIDES)" in msg
        assert ("today" if days_left == 0 else "tomorrow" if days_left == 1 else f"in {days_left} days") in msg
    else:  # past the end: the year itself is not covered
        assert msg.startswith(f"the working-day calendar does not cover {last_year + 1}: ")
    assert msg is None or "\n" not in msg


@settings(max_examples=200, deadline=None)
@given(ENDS, st.integers(min_value=0, max_value=COVERAGE_WARNING_DAYS + 3),
       st.times(), st.sampled_from([timezone.utc, TZ, timezone(timedelta(hours=-8))]))
def test_an_instant_is_judged_by_its_day_in_beijing(last_year, days_left, t, tz):
    cov = Coverage(package="p 1", package_years=(2004, last_year))
    at = datetime.combine(date(last_year, 12, 31) - timedelta(days=days_left), t, tz)
    assert coverage_warning(at, cov) == coverage_warning(local_date(at), cov)


def test_the_warning_names_the_day_exactly_30_days_before():
    cov = WorkingCalendar().coverage()
    last = cov.package_years[1]
    assert coverage_warning(date(last, 11, 30), cov) is None
    assert f"ends on {last}-12-31 (in 30 days)" in coverage_warning(date(last, 12, 1), cov)


# --- Beijing time ----------------------------------------------------------------------

def test_end_of_day_is_last_microsecond_in_beijing():
    eod = end_of_day(D("2023-03-25"))
    assert eod.isoformat() == "2023-03-25T23:59:59.999999+08:00"
    assert eod + timedelta(microseconds=1) == datetime(2023, 3, 26, tzinfo=TZ)
    assert str(eod.tzinfo) == "Asia/Shanghai"


@pytest.mark.parametrize("instant, expected", [
    (datetime(2023, 3, 24, 16, 30, tzinfo=timezone.utc), "2023-03-25"),
    (datetime(2023, 3, 24, 15, 59, 59, tzinfo=timezone.utc), "2023-03-24"),
    (datetime(2023, 3, 24, 16, 30), "2023-03-25"),                      # naive = UTC
    (datetime(2023, 3, 25, 0, 30, tzinfo=TZ), "2023-03-25"),
    (datetime(2023, 3, 24, 12, 0, tzinfo=timezone(timedelta(hours=-5))), "2023-03-25"),
])
def test_local_date(instant, expected):
    assert local_date(instant) == D(expected)


@pytest.mark.parametrize("received, n, due", [
    # received Thursday evening Beijing time, 5 working days across National Day
    (datetime(2023, 9, 28, 12, tzinfo=timezone.utc), 5, "2023-10-11"),
    # 17:00 UTC on 9-28 is already 9-29 (a holiday) in Beijing
    (datetime(2023, 9, 28, 17, tzinfo=timezone.utc), 1, "2023-10-07"),
    (datetime(2023, 3, 13, 9, tzinfo=TZ), 0, "2023-03-13"),
])
def test_due_end_of_day_after_working_days(received, n, due):
    assert due_end_of_day_after_working_days(CAL, received, n) == end_of_day(D(due))


def test_an_override_file_that_is_not_a_small_regular_file_is_refused_at_once(tmp_path):
    import os

    from statemachine.time.calendar import MAX_CALENDAR_BYTES

    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * MAX_CALENDAR_BYTES + "\nyears: {}\n", encoding="utf-8")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)  # nobody writes to it: reading it would wait forever
    for path, problem in ((big, "larger than 1024 KiB"), (fifo, "not a regular file"),
                          (tmp_path, "not a regular file")):
        with pytest.raises(CalendarFileError) as exc:
            WorkingCalendar.from_file(path)
        assert str(exc.value).startswith(f"calendar override file {path}: ") and problem in str(exc.value)
        assert "\n" not in str(exc.value)


def test_aliases_are_refused_so_a_small_file_never_stands_for_a_huge_one(tmp_path):
    laughs = "a: &a [2027-01-01, 2027-01-01]\n"
    laughs += "".join(f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    laughs += "years: {2027: {holidays: *i}}\n"
    path = write(tmp_path, laughs, name="laughs.yaml")
    with pytest.raises(CalendarFileError, match=r"line 2: invalid YAML: aliases \(\*name\) are not used"):
        WorkingCalendar.from_file(path)
