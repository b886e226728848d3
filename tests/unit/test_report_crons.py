"""The report deployments' crons (app/deploying.py `report_crons`): five minutes after a
weekly or monthly duty falls due during the day; a duty due at midnight, a once or
stage-end duty, is left to the nightly run."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from hypothesis import given, strategies as st

from app.deploying import report_crons
from statemachine.plan import ReportingDuty, Schedule

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _duty(**schedule) -> ReportingDuty:
    return ReportingDuty(key="r", name="报告", schedule=Schedule(**schedule))


def test_the_shipped_kinds():
    assert report_crons([_duty(kind="weekly", weekday="thu", at=time(12, 0))]) == ["5 12 * * 4"]
    assert report_crons([_duty(kind="monthly", day=10, at=time(17, 30))]) == ["35 17 10 * *"]
    # the default hour, 23:59:59, is midnight's: the nightly run makes it
    assert report_crons([_duty(kind="monthly", day=25)]) == []
    assert report_crons([_duty(kind="monthly", day="last", at=time(12, 0))]) == []
    assert report_crons([_duty(kind="once", due=date(2023, 4, 17)), _duty(kind="stage_end")]) == []
    # two duties at the same hour: one schedule
    assert report_crons([_duty(kind="weekly", weekday="sun", at=time(9, 0))] * 2) == ["5 9 * * 0"]


@given(st.sampled_from(WEEKDAYS), st.times())
def test_a_weekly_duty_fires_five_minutes_after_it_is_due_on_its_day_or_is_left_to_the_night(weekday, at):
    crons = report_crons([_duty(kind="weekly", weekday=weekday, at=at)])
    due = datetime.combine(date(2000, 1, 1), at)
    owed = due + timedelta(minutes=5)  # owed from here; a cron fires on a whole minute
    first_minute = owed if owed == owed.replace(second=0, microsecond=0) else \
        owed.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if first_minute.date() != due.date():  # the night's: the nightly run makes it
        assert crons == []
        return
    [cron] = crons
    minute, hour, dom, month, dow = cron.split()
    fire = datetime.combine(date(2000, 1, 1), time(int(hour), int(minute)))
    # never before the duty fell due, at most a minute after the five: the next whole minute
    assert timedelta(minutes=5) <= fire - due < timedelta(minutes=6)
    assert (dom, month, dow) == ("*", "*", str((WEEKDAYS.index(weekday) + 1) % 7))
