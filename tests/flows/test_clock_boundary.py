"""The flows' `as_of` boundary under a real Prefect API: every spelling of an
instant becomes the one clock type, a bad one fails the run in one line, a
sweep the calendar cannot compute writes nothing, and the nightly run warns
before the calendar runs out."""
from __future__ import annotations

import time
from datetime import datetime
from uuid import UUID

import pendulum
import pytest
from sqlalchemy import func, select

from models.tables import Lapse, SweepRun
from statemachine.errors import InvalidInput
from statemachine.time.calendar import TZ, CalendarNotCovered

from ..conftest import at
from .test_deadline_sweep import _flow_run, flow_env  # noqa: F401  (the fixture)
from .test_lookback_flows import _artifact

pytestmark = pytest.mark.prefect


def _written(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(SweepRun)).scalar_one(),
                conn.execute(select(func.count()).select_from(Lapse)).scalar_one())


def _logs(flow_run_id: str, *, level: int, containing: str) -> list[str]:
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId, LogFilterLevel
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    deadline, found = time.monotonic() + 20, []
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:  # the server records logs asynchronously
            logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[UUID(flow_run_id)]),
                                                         level=LogFilterLevel(ge_=level)))
            found = [lg.message for lg in logs if containing in lg.message]
            if found:
                break
            time.sleep(0.5)
    return found


def _latest_run(flow_name: str):
    from prefect import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
                                     sort=FlowRunSort.START_TIME_DESC, limit=1)[0]


def test_a_date_without_offset_is_asia_shanghai_and_a_pendulum_instant_is_converted(flow_env):
    from flows.deadline_sweep import deadline_sweep

    by_date = deadline_sweep(campaign=flow_env, as_of="2023-04-08")
    assert by_date.as_of == at("2023-04-08 09:00") and type(by_date.as_of) is datetime
    assert _flow_run(by_date.run_key).name == "sweep-smoke-2023-20230408-0900"

    by_pendulum = deadline_sweep(campaign=flow_env, as_of=pendulum.datetime(2023, 4, 8, 16, 5, tz="UTC"))
    assert by_pendulum.as_of == datetime(2023, 4, 9, 0, 5, tzinfo=TZ)
    assert type(by_pendulum.as_of) is datetime and by_pendulum.as_of.tzinfo is TZ
    assert _flow_run(by_pendulum.run_key).name == "sweep-smoke-2023-20230409-0005"


def test_a_garbage_as_of_fails_the_run_in_one_line_and_writes_nothing(flow_env, engine):
    from flows.deadline_sweep import deadline_sweep

    with pytest.raises(InvalidInput) as exc:
        deadline_sweep(campaign=flow_env, as_of="garbage")
    assert str(exc.value) == ("as_of: 'garbage' is not a date or time (use 2023-04-08, 2023-04-08T09:30 "
                              "(Asia/Shanghai) or an ISO instant with offset)")
    run = _latest_run("deadline-sweep")
    assert run.name == "sweep-smoke-2023-bad-as_of"
    assert run.state.is_failed()  # not left Pending by a run-name function that raised
    assert _written(engine) == (0, 0)


def test_a_sweep_in_a_year_no_calendar_covers_writes_nothing_and_the_ui_keeps_the_cause(flow_env, engine):
    from flows.deadline_sweep import deadline_sweep

    with pytest.raises(CalendarNotCovered, match="no working-day calendar for 2031"):
        deadline_sweep(campaign=flow_env, as_of=at("2031-03-01 00:05"))
    assert _written(engine) == (0, 0)
    run = _latest_run("deadline-sweep")
    assert run.name == "sweep-smoke-2023-20310301-0005" and run.state.is_failed()
    # kept off the terminal (app/prefect_env.py), still in the run's logs for operators
    assert _logs(str(run.id), level=40, containing="no working-day calendar for 2031")


def test_the_nightly_run_warns_in_its_log_and_an_artifact_30_days_before_the_calendar_ends(flow_env):
    from flows.enforce import daily_enforcement

    quiet = daily_enforcement(campaign=flow_env, as_of=at("2026-11-30 00:05"), deliver=False)
    assert quiet.calendar_warning is None  # 31 days left

    r = daily_enforcement(campaign=flow_env, as_of=at("2026-12-01 00:05"), deliver=False)
    expected = ("the working-day calendar ends on 2026-12-31 (in 30 days): add 2027 to the calendar "
                "override file (RECTIFY_CALENDAR_OVERRIDES) from the State Council's holiday notice "
                "(see 'rectify calendar')")
    assert r.calendar_warning == expected
    assert r.reports is not None  # the run went on: a warning, not a failure
    assert _logs(r.sweep.run_key, level=30, containing=expected) == [expected]
    art = _artifact("calendar-smoke-2023", r.sweep.run_key)
    assert art.type == "markdown" and art.description == expected and expected in art.data
