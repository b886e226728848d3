"""The nightly deployment run the way a worker runs it on its cron: `rectify
serve` (RECTIFY_SCHEDULER=prefect) serves the deployment, the run is created
for a scheduled time and carries no `as_of`, so the flow takes the run's
scheduled start (a pendulum DateTime from Prefect) as its instant."""
from __future__ import annotations

import subprocess
from datetime import datetime

import pytest
import yaml
from sqlalchemy import func, select

from models.db import make_engine
from models.tables import GeneratedReport, Lapse, SweepRun
from services.campaigns.load import load_plan
from services.campaigns.plans import read_plan
from services.clues.lifecycle import NewClue, add_clues
from statemachine.time.calendar import TZ, WorkingCalendar

from ..conftest import SMALL_PLAN, at
from .test_scale_out_serve import serve_in_prefect_mode

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

CAMPAIGN = "cron-2023"  # its own deployment name: the serve test's smoke-2023 is another process's
DEPLOYMENT = f"daily-enforcement/enforce-{CAMPAIGN}"


@pytest.fixture(scope="module")
def served(prefect_api, sqlite_template, tmp_path_factory):
    """A campaign with a monthly progress report (by the 20th, on the month so far)
    and one clue, served
    by `rectify serve` in Prefect mode; yields (engine, reports folder)."""
    import shutil


    tmp = tmp_path_factory.mktemp("served")
    shutil.copy(sqlite_template, tmp / "rectify.db")
    url = f"sqlite:///{tmp / 'rectify.db'}"
    data = yaml.safe_load(SMALL_PLAN.read_text(encoding="utf-8"))
    data["campaign"]["code"] = CAMPAIGN
    data["reporting"] = [{"key": "progress", "name": "工作推进情况", "start": "2023-04-01", "until": "2023-05-31",
                          "schedule": {"kind": "monthly", "day": 20}}]
    path = tmp / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    engine = make_engine(url)
    load_plan(engine, read_plan(path), source=str(path), now=at("2023-03-15"))
    add_clues(engine, CAMPAIGN, [NewClue(channel="12345", aspect="profit", summary="乱罚款", unit="county-a")],
              actor="sup.city", now=at("2023-04-03"), calendar=WorkingCalendar())
    proc, deployment = serve_in_prefect_mode(url, tmp, prefect_api, DEPLOYMENT,
                                             RECTIFY_REPORTS_DIR=str(tmp / "reports"),
                                             # notices no channel carries fail the night (issue 15)
                                             RECTIFY_FILE_DROP=str(tmp / "drop"))
    try:
        assert deployment.parameters == {"campaign": CAMPAIGN}  # no as_of: the cron's runs carry none
        yield engine, tmp / "reports"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        engine.dispose()


def _sweeps(engine) -> list[datetime]:
    with engine.connect() as conn:
        return list(conn.execute(select(SweepRun.__table__.c.as_of).order_by(SweepRun.__table__.c.id)).scalars())


def test_a_run_fired_by_the_cron_without_as_of_sweeps_escalates_and_reports_as_of_its_scheduled_start(served):
    from prefect.deployments import run_deployment

    engine, reports = served
    scheduled = datetime(2023, 4, 21, 0, 5, tzinfo=TZ)  # the night after April's report fell due
    run = run_deployment(DEPLOYMENT, scheduled_time=scheduled, timeout=240)
    assert "as_of" not in run.parameters
    assert run.state.is_completed(), run.state
    assert run.name == f"enforce-{CAMPAIGN}-20230421-0005"
    assert _sweeps(engine)[-1] == at("2023-04-21 00:05")
    with engine.connect() as conn:
        made = conn.execute(select(GeneratedReport.kind, GeneratedReport.period, GeneratedReport.as_of,
                                   GeneratedReport.flow_run_id)).all()
    # the report step ran (the last step before delivery), on the month so far as of the
    # scheduled start: the instant that once came out naive from pendulum arithmetic
    assert [tuple(r) for r in made] == [("monthly", "2023-04", at("2023-04-21 00:05"), str(run.id))]
    assert (reports / CAMPAIGN / "city" / "monthly-2023-04.md").exists()


def test_a_run_given_a_date_without_offset_takes_it_as_asia_shanghai(served):
    from prefect.deployments import run_deployment

    engine, _ = served
    run = run_deployment(DEPLOYMENT, parameters={"as_of": "2023-05-23"}, timeout=240)
    assert run.state.is_completed(), run.state
    assert run.name == f"enforce-{CAMPAIGN}-20230523-0900"
    assert _sweeps(engine)[-1] == at("2023-05-23 09:00")


def test_a_run_given_garbage_fails_with_the_one_line_reason_and_writes_nothing(served):
    from prefect.deployments import run_deployment

    engine, _ = served
    with engine.connect() as conn:
        before = (len(_sweeps(engine)), conn.execute(select(func.count()).select_from(Lapse)).scalar_one())
    run = run_deployment(DEPLOYMENT, parameters={"as_of": "garbage"}, timeout=240)
    assert run.state.is_failed(), run.state  # failed, not left Pending by its run-name function
    assert run.name == f"enforce-{CAMPAIGN}-bad-as_of"
    assert "as_of: 'garbage' is not a date or time" in run.state.message
    assert "\n" not in run.state.message
    with engine.connect() as conn:
        after = (len(_sweeps(engine)), conn.execute(select(func.count()).select_from(Lapse)).scalar_one())
    assert after == before
