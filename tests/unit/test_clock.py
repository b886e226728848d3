"""The one clock type (statemachine/time/clock.py): whatever instant crosses a
boundary comes out an aware stdlib datetime in Asia/Shanghai."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statemachine.errors import InvalidInput
from statemachine.time.clock import TZ, instant, parse_instant

instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                        timezones=st.sampled_from([timezone.utc, TZ, timezone(timedelta(hours=-5)),
                                                   timezone(timedelta(hours=5, minutes=45))]))


def _is_the_one_type(dt: datetime) -> bool:
    return type(dt) is datetime and dt.tzinfo is TZ


@settings(max_examples=200, deadline=None)
@given(instants)
def test_an_aware_datetime_keeps_its_instant(dt):
    got = instant(dt)
    assert got == dt and _is_the_one_type(got)


@settings(max_examples=200, deadline=None)
@given(instants, st.integers(min_value=-400, max_value=400))
def test_a_pendulum_datetime_becomes_stdlib_and_stays_aware_under_arithmetic(dt, days):
    p = pendulum.instance(dt)
    got = instant(p)
    assert got == dt and _is_the_one_type(got)
    later = got + timedelta(days=days)
    # the defect: pendulum's own `+ timedelta` after astimezone(ZoneInfo) went naive
    assert later.tzinfo is TZ and later - got == timedelta(days=days)


def test_prefects_datetime_type_as_a_scheduled_start_is_converted():
    from prefect.types._datetime import DateTime

    start = DateTime(2023, 5, 23, 16, 5, tzinfo=pendulum.UTC)  # 00:05 the next day in Beijing
    got = instant(start)
    assert got == datetime(2023, 5, 24, 0, 5, tzinfo=TZ) and _is_the_one_type(got)
    assert (got + timedelta(days=3)).isoformat() == "2023-05-27T00:05:00+08:00"


@settings(max_examples=100, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_a_naive_datetime_is_asia_shanghai_wall_time(dt):
    got = instant(dt)
    assert got.replace(tzinfo=None) == dt and _is_the_one_type(got)


@pytest.mark.parametrize("value, expected", [
    ("2023-05-23", "2023-05-23T09:00:00+08:00"),              # a bare date: office hours, as --now
    (" 2023-05-23 ", "2023-05-23T09:00:00+08:00"),
    ("2023-05-23T00:05", "2023-05-23T00:05:00+08:00"),
    ("2023-05-23 00:05", "2023-05-23T00:05:00+08:00"),
    ("2023-05-23T00:05:30.25", "2023-05-23T00:05:30.250000+08:00"),
    ("2023-05-22T16:05:00+00:00", "2023-05-23T00:05:00+08:00"),
    ("2023-05-22T16:05:00Z", "2023-05-23T00:05:00+08:00"),
    ("2023-05-23T00:05:00+08:00", "2023-05-23T00:05:00+08:00"),
    (date(2023, 5, 23), "2023-05-23T09:00:00+08:00"),
    (pendulum.date(2023, 5, 23), "2023-05-23T09:00:00+08:00"),
])
def test_strings_and_dates(value, expected):
    got = instant(value)
    assert got.isoformat() == expected and _is_the_one_type(got)


@pytest.mark.parametrize("value", ["garbage", "", "2023-02-30", "2023-05-23T25:00", "20230523",
                                   "23-05-2023", "2023-5-23", "tomorrow 9:00", None, 20230523, True,
                                   1.5, ["2023-05-23"]])
def test_anything_else_is_refused_in_one_line_naming_the_parameter(value):
    with pytest.raises(InvalidInput) as exc:
        instant(value, name="as_of")
    msg = str(exc.value)
    assert msg.startswith("as_of: ") and "is not a date or time" in msg and "\n" not in msg


def test_the_cli_spelling_names_now():
    with pytest.raises(InvalidInput, match=r"^--now: 'soon' is not a date or time \(use 2023-04-08"):
        parse_instant("soon")
    assert parse_instant("2023-04-08") == datetime(2023, 4, 8, 9, tzinfo=TZ)


def test_settings_still_exports_parse_instant():
    from app.cli.settings import parse_instant as reexported

    assert reexported is parse_instant
