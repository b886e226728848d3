"""RECTIFY_SCHEDULER=prefect: `rectify serve` registers one cron deployment per
campaign on a real Prefect server and executes the runs it is given."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from models.db import make_engine
from models.tables import SweepRun
from services.campaigns.load import load_plan
from services.campaigns.plans import read_plan

from ..conftest import SMALL_PLAN, at

RECTIFY = str(Path(sys.executable).with_name("rectify"))
DEPLOYMENT = "daily-enforcement/enforce-smoke-2023"


def _env(db_url: str, tmp_path: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_URL")}
    env.update(RECTIFY_DB=db_url, RECTIFY_HOME=str(tmp_path / "home"),
               PREFECT_HOME=str(tmp_path / "prefect"),
               # notices no channel carries fail the night (issue 15)
               RECTIFY_FILE_DROP=str(tmp_path / "drop"))
    env.update(extra)
    return env


def serve_in_prefect_mode(db_url: str, tmp_path: Path, prefect_api: str, deployment: str, **extra):
    """`rectify serve` with RECTIFY_SCHEDULER=prefect in a process of its own, once its
    deployment is registered: (the process, the deployment). The caller terminates it."""
    from prefect import get_client

    proc = subprocess.Popen([RECTIFY, "serve"], env=_env(db_url, tmp_path, RECTIFY_SCHEDULER="prefect",
                                                         PREFECT_API_URL=prefect_api, **extra),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline, found = time.monotonic() + 90, None
    with get_client(sync_client=True) as client:
        while found is None and time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(proc.stdout.read())
            try:
                found = client.read_deployment_by_name(deployment)
            except Exception:  # noqa: BLE001 - not registered yet
                found = None
            if found is not None and "scheduler:serve" not in found.tags:
                found = None  # another method's, which serve replaces
            if found is None:
                time.sleep(0.5)
    if found is None:
        proc.terminate()
        raise AssertionError("the deployment never appeared")
    return proc, found


@pytest.fixture
def loaded_sqlite(sqlite_url):
    engine = make_engine(sqlite_url)
    load_plan(engine, read_plan(SMALL_PLAN), source=str(SMALL_PLAN), now=at("2023-03-15"))
    yield sqlite_url, engine
    engine.dispose()


def _left_by_rectify_deploy(tmp_path) -> None:
    """The worker deployment of the same name that `rectify deploy` registered from another
    database on this server (or from this one, before serve took the campaign over)."""
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    from app.deploying import deploy_campaigns

    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        from models.db import upgrade

        upgrade(other)
        load_plan(other, read_plan(SMALL_PLAN), source=str(SMALL_PLAN), now=at("2023-03-15"))
        with get_client(sync_client=True) as client:
            client.create_work_pool(WorkPoolCreate(name="left-by-deploy", type="process"), overwrite=True)
        deploy_campaigns(engine=other, pool="left-by-deploy", campaigns=["smoke-2023"])
    finally:
        other.dispose()
    with get_client(sync_client=True) as client:
        left = client.read_deployment_by_name(DEPLOYMENT)
    assert left.work_pool_name == "left-by-deploy" and left.path is None


@pytest.mark.slow
def test_serve_in_prefect_mode_deploys_the_sweep_on_the_plans_cron_and_runs_it(
        prefect_api, loaded_sqlite, tmp_path):
    """Over a worker deployment of the same name: Prefect's upsert would have kept its pool
    and no path, and every served run crashed loading the flow ('/…/None')."""
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url, engine = loaded_sqlite
    with temporary_settings(updates={PREFECT_API_URL: prefect_api}):
        _left_by_rectify_deploy(tmp_path)
    proc, deployment = serve_in_prefect_mode(url, tmp_path, prefect_api, DEPLOYMENT)
    try:
        [schedule] = deployment.schedules
        assert schedule.schedule.cron == "5 0 * * *"
        assert schedule.schedule.timezone == "Asia/Shanghai"

        run = run_deployment(DEPLOYMENT, parameters={"campaign": "smoke-2023",
                                                     "as_of": "2023-05-01T00:05:00+08:00"},
                             timeout=120)
        if not run.state.is_completed():  # what serve and the run's process said, to see why
            proc.terminate()
            said = proc.communicate(timeout=30)[0]
            raise AssertionError(f"{run.state}\n--- rectify serve said:\n{said[-8000:]}")
        assert run.name == "enforce-smoke-2023-20230501-0005"
        with engine.connect() as conn:
            as_of = conn.execute(select(SweepRun.__table__.c.as_of)).scalar_one()
        assert as_of == at("2023-05-01 00:05")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_prefect_mode_without_a_prefect_server_is_refused_in_one_line(loaded_sqlite, tmp_path):
    url, _ = loaded_sqlite
    r = subprocess.run([RECTIFY, "serve"], env=_env(url, tmp_path, RECTIFY_SCHEDULER="prefect"),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert r.stderr.strip().startswith("rectify: error: RECTIFY_SCHEDULER=prefect needs a Prefect server")
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
