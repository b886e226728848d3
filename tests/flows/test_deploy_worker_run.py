"""A deployment of `rectify deploy` run by a real process worker: the entrypoint is a
module path, imported from the installed package in a working directory of the
worker's own (no pull step, nothing of the deploying host's checkout); a worker
whose environment lacks RECTIFY_DB fails the run in one line naming it."""
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

pytestmark = [pytest.mark.prefect, pytest.mark.slow]
PREFECT = str(Path(sys.executable).with_name("prefect"))


def _worker_once(prefect_api: str, pool: str, cwd: Path, **env_extra) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECTIFY_", "PREFECT_API_URL"))}
    env.update(PREFECT_API_URL=prefect_api, PREFECT_HOME=str(cwd / "prefect"), RECTIFY_HOME=str(cwd / "home"),
               **env_extra)
    r = subprocess.run([PREFECT, "worker", "start", "--pool", pool, "--run-once", "--limit", "1"],
                       env=env, cwd=cwd, capture_output=True, text=True, timeout=240)
    return r.stdout + r.stderr


def _state(run_id):
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + 60
    with get_client(sync_client=True) as client:
        while True:
            run = client.read_flow_run(run_id)
            if run.state.is_final() or time.monotonic() > deadline:
                return run.state


def test_a_process_worker_runs_the_nightly_deployment_from_the_installed_package(
        prefect_api, sqlite_url, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.deployments import run_deployment

    from app.deploying import deploy_campaigns

    engine = make_engine(sqlite_url)
    load_plan(engine, read_plan(SMALL_PLAN), source=str(SMALL_PLAN), now=at("2023-03-15"))
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="rectify-worker-run", type="process"))
    deploy_campaigns(engine=engine, pool="rectify-worker-run")
    name = "daily-enforcement/enforce-smoke-2023"
    elsewhere = tmp_path / "worker-host"
    elsewhere.mkdir()

    # a worker without RECTIFY_DB: the run fails naming it, and no SQLite file appears
    run = run_deployment(name, parameters={"campaign": "smoke-2023", "as_of": "2023-05-01T00:05:00+08:00"},
                         timeout=0)
    log = _worker_once(prefect_api, "rectify-worker-run", elsewhere)
    state = _state(run.id)
    assert state.is_failed(), (state, log)
    assert "RECTIFY_DB is not set on this worker" in state.message, state.message
    assert not (elsewhere / "home" / "rectify.db").exists()

    # with it: completed, as of the night asked
    run = run_deployment(name, parameters={"campaign": "smoke-2023", "as_of": "2023-05-02T00:05:00+08:00"},
                         timeout=0)
    log = _worker_once(prefect_api, "rectify-worker-run", elsewhere, RECTIFY_DB=sqlite_url,
                       RECTIFY_FILE_DROP=str(tmp_path / "drop"))
    state = _state(run.id)
    assert state.is_completed(), (state, log)
    with engine.connect() as conn:
        assert conn.execute(select(SweepRun.__table__.c.as_of)).scalars().all() == [at("2023-05-02 00:05")]
    engine.dispose()
