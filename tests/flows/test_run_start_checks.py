"""Every flow checks at its start what a worker must have (flows/deps.py `ready`):
a worker without RECTIFY_DB fails in one line naming it and creates no SQLite
file; a deployment's run of a scheduler that was taken over does nothing."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from services.campaigns.scheduling import claim_scheduling
from statemachine.errors import ConflictError

from ..conftest import at, installed

pytestmark = pytest.mark.prefect


def test_a_flow_on_a_worker_without_rectify_db_fails_in_one_line_naming_it(prefect_api, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECTIFY_")}
    env.update(PREFECT_API_URL=prefect_api, RECTIFY_HOME=str(tmp_path / "home"),
               PREFECT_HOME=str(tmp_path / "prefect"))
    code = ("from flows.deadline_sweep import deadline_sweep\n"
            "try:\n    deadline_sweep('smoke-2023')\n"
            "except Exception as e:\n    print('FAILED', type(e).__name__, e)\n")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=180)
    assert "FAILED Misconfigured RECTIFY_DB is not set on this worker" in r.stdout, r.stdout + r.stderr
    assert len([line for line in r.stdout.splitlines() if line.startswith("FAILED")]) == 1
    assert not (tmp_path / "home" / "rectify.db").exists()


@pytest.mark.parametrize(("deployed_by", "owner"), [("serve", "workers"), ("workers", "embedded"),
                                                   ("serve", "embedded"), ("workers", "serve")])
def test_a_deployment_run_of_a_scheduler_that_was_taken_over_does_nothing(
        prefect_api, db_url, campaign, engine, deployed_by, owner):
    from prefect import tags

    from flows.deadline_sweep import deadline_sweep
    from models.tables import SweepRun
    from sqlalchemy import func, select

    claim_scheduling(engine, [campaign], method=owner, detail="host-b:7", take_over=False, now=at("2023-04-01"))
    with installed(db=db_url), tags(f"scheduler:{deployed_by}"):
        with pytest.raises(ConflictError, match=rf"^campaign {campaign}'s schedule was taken over by .*host-b:7"):
            deadline_sweep(campaign, as_of=at("2023-05-01 00:05"))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(SweepRun)).scalar_one() == 0


def test_a_run_of_the_owning_method_and_an_untagged_run_go_ahead(prefect_api, db_url, campaign, engine):
    from prefect import tags

    from flows.deadline_sweep import deadline_sweep

    claim_scheduling(engine, [campaign], method="serve", detail="", take_over=False, now=at("2023-04-01"))
    with installed(db=db_url):
        with tags("scheduler:serve"):
            assert deadline_sweep(campaign, as_of=at("2023-05-01 00:05")).campaign == campaign
        # a command's own run (rectify sweep) is no scheduler's
        assert deadline_sweep(campaign, as_of=at("2023-05-02 00:05")).campaign == campaign
