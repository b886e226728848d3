"""A plan's sweep cron (statemachine/cron.py): accepted only when the embedded
scheduler (APScheduler 3) and Prefect (cronsim) would fire it at the same instants."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from cronsim import CronSim
from hypothesis import given, settings
from hypothesis import strategies as st

from statemachine.time.calendar import TZ
from statemachine.cron import check_cron


def apscheduler_fires(expr: str, start: datetime, n: int) -> list[datetime]:
    trigger, out, prev, now = CronTrigger.from_crontab(expr, timezone=TZ), [], None, start
    while len(out) < n:
        t = trigger.get_next_fire_time(prev, now)
        if t is None:
            break
        out.append(t)
        prev, now = t, t + timedelta(seconds=1)
    return out


def prefect_fires(expr: str, start: datetime, n: int) -> list[datetime]:
    it = CronSim(expr, start)
    return [next(it) for _ in range(n)]


@pytest.mark.parametrize("expr", ["5 0 * * *", "*/15 8-18 * * mon-fri", "0 2 1,15 * *",
                                  "30 23 * jan-mar/2 *", "0 0 * * sat,sun", "0 7 * * MON-SAT,SUN",
                                  "0 0 29 2 *"])
def test_a_cron_both_schedulers_read_alike_is_accepted(expr):
    assert check_cron(expr) == expr


@pytest.mark.parametrize("expr,why", [
    ("99 99 * * *", "minute 99 is outside 0-59"),
    ("0 24 * * *", "hour 24 is outside 0-23"),
    ("0 0 0 * *", "day of month 0 is outside 1-31"),
    ("0 0 * 13 *", "month 13 is outside 1-12"),
    ("0 0 * * 1", "day of week '1': write the day's name"),
    ("0 0 * * */2", "day of week '*/2': list the days by name"),
    ("0 0 * * sat-sun", "a range ends by sat"),
    ("0 0 1 * mon", "give a day of month or a day of week, not both"),
    ("0 0 31 2 *", "day 31 of month 2 never comes"),
    ("0 0 30,31 feb *", "never comes"),
    ("0 0 L * *", "day of month 'L' is not a number"),
    ("*/0 * * * *", "the step must be"),
    ("5-1 * * * *", "runs backwards"),
    ("5 0 * *", "5-field"),
    ("5 0 * * * *", "5-field"),
    ("@daily", "5-field"),
])
def test_a_cron_that_only_looks_valid_is_refused_naming_the_field(expr, why):
    with pytest.raises(ValueError, match=None) as e:
        check_cron(expr)
    assert why in str(e.value)


_NOISE = st.one_of(
    st.just("*"), st.integers(0, 70).map(str),
    st.tuples(st.integers(0, 40), st.integers(0, 40)).map(lambda t: f"{t[0]}-{t[1]}"),
    st.integers(0, 30).map(lambda n: f"*/{n}"),
    st.tuples(st.integers(0, 30), st.integers(1, 20)).map(lambda t: f"{t[0]}/{t[1]}"),
    st.sampled_from(["mon", "fri", "sun", "sat", "mon-fri", "mon-sun", "sat-sun", "tue-sat", "0-6/2",
                     "jan", "dec", "feb-apr", "L", "?", "1,15", "mon,wed", ""]),
)


def _plausible(lo: int, hi: int, names: tuple[str, ...] = ()):
    """Items within the field's range, so that most expressions get past the check."""
    value = st.integers(lo, hi).map(str) | (st.sampled_from(names) if names else st.nothing())
    item = st.one_of(
        st.just("*"), value,
        st.tuples(st.integers(lo, hi), st.integers(lo, hi)).map(lambda t: f"{min(t)}-{max(t)}"),
        st.integers(1, hi).map(lambda n: f"*/{n}"),
        st.tuples(st.integers(lo, hi), st.integers(lo, hi), st.integers(1, hi))
        .map(lambda t: f"{min(t[:2])}-{max(t[:2])}/{t[2]}"))
    return st.lists(item, min_size=1, max_size=3).map(",".join) | _NOISE


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY = st.one_of(st.just("*"), st.just("*"), st.lists(st.sampled_from(_DAYS + ("mon-fri", "tue-sat")),
                                                          min_size=1, max_size=3).map(",".join), _NOISE)


@settings(max_examples=600, deadline=None)
@given(fields=st.tuples(_plausible(0, 59), _plausible(0, 23), st.just("*") | _plausible(1, 31),
                       _plausible(1, 12, ("jan", "feb", "jun", "dec")), _WEEKDAY),
       start=st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2030, 12, 31)))
def test_whatever_is_accepted_fires_at_the_same_instants_in_both_schedulers(fields, start):
    expr = " ".join(fields)
    try:
        check_cron(expr)
    except ValueError:
        return
    # a start between whole minutes: neither scheduler counts it as a fire time
    at = start.replace(second=30, microsecond=0, tzinfo=TZ)
    assert apscheduler_fires(expr, at, 6) == prefect_fires(expr, at, 6), expr
