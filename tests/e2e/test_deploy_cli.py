"""`rectify deploy` against a real Prefect API: the loaded campaigns' deployments,
registered into a process pool with module-path entrypoints (the workers import
the installed package), and its one-line refusals."""
from __future__ import annotations

import itertools
import socket
from importlib.metadata import version

import pytest
import yaml
from sqlalchemy import select

from models.db import make_engine
from models.tables import CampaignScheduler
from services.campaigns.scheduling import claim_scheduling

from ..conftest import at
from .conftest import SMALL_PLAN, Cli, clean_env

_pools = itertools.count()


def _plan_with_duties(tmp_path):
    """The small plan with a weekly report due Thursday 12:00 and a monthly one due
    by the 25th (midnight: the nightly run's)."""
    data = yaml.safe_load(SMALL_PLAN.read_text(encoding="utf-8"))
    data["reporting"] = [
        {"key": "weekly", "name": "周报", "schedule": {"kind": "weekly", "weekday": "thu", "at": "12:00"}},
        {"key": "monthly", "name": "简报", "schedule": {"kind": "monthly", "day": 25}}]
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _pool(prefect_api: str) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    name = f"rectify-{next(_pools)}"
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name=name, type="process"))
    return name


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def loaded(sqlite_url, tmp_path, prefect_api) -> Cli:
    cli = Cli(clean_env(sqlite_url, tmp_path, PREFECT_API_URL=prefect_api), tmp_path)
    cli.ok("load", _plan_with_duties(tmp_path), "--now", "2023-03-15")
    return cli


@pytest.mark.prefect
def test_deploy_registers_the_loaded_campaigns_deployments_as_module_paths_into_the_pool(
        loaded, prefect_api, sqlite_url):
    from prefect.client.orchestration import get_client

    pool = _pool(prefect_api)
    r = loaded.ok("deploy", "--pool", pool)
    assert f"registered into work pool '{pool}'" in r.stdout
    with get_client(sync_client=True) as client:
        nightly = client.read_deployment_by_name("daily-enforcement/enforce-smoke-2023")
        reports = client.read_deployment_by_name("scheduled-reports/reports-smoke-2023")
        on_demand = [client.read_deployment_by_name(n) for n in
                     ("open-round/open-round", "close-round/close-round", "generate-report/generate-report")]
    assert nightly.entrypoint == "flows.enforce.daily_enforcement"
    assert reports.entrypoint == "flows.reports.scheduled_reports"
    assert [d.entrypoint for d in on_demand] == ["flows.lookback.open_round", "flows.lookback.close_round",
                                                 "flows.reports.generate_report"]
    for d in (nightly, reports, *on_demand):
        # nothing on the deploying host: no pull step, no path, the worker's installed package
        assert not d.pull_steps and d.path is None, (d.name, d.pull_steps, d.path)
        assert d.work_pool_name == pool and d.version == version("rectify")
        assert "scheduler:workers" in d.tags
    [s] = nightly.schedules
    assert (s.schedule.cron, s.schedule.timezone) == ("5 0 * * *", "Asia/Shanghai")
    assert nightly.parameters == {"campaign": "smoke-2023"} and "campaign:smoke-2023" in nightly.tags
    # Thursday 12:00 → 12:05; the monthly duty due at midnight is the nightly run's
    assert [(s.schedule.cron, s.schedule.timezone) for s in reports.schedules] == [("5 12 * * 4", "Asia/Shanghai")]
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            [(method, detail)] = conn.execute(select(CampaignScheduler.method, CampaignScheduler.detail)).all()
    finally:
        engine.dispose()
    assert method == "workers" and pool in detail

    # again, after the plan's cron changed: updated in place, the same deployments
    again = loaded.ok("deploy", "--pool", pool)
    assert "registered" in again.stdout
    with get_client(sync_client=True) as client:
        assert client.read_deployment_by_name("daily-enforcement/enforce-smoke-2023").id == nightly.id


@pytest.mark.prefect
def test_deploy_over_a_served_deployment_of_the_same_name_leaves_no_path_of_the_serving_host(
        loaded, prefect_api):
    """`rectify serve` registered the nightly run with the serving host's path ('.'); a
    later `rectify deploy` must not leave that path for the workers to run in."""
    from prefect.client.orchestration import get_client

    from flows.enforce import daily_enforcement

    from prefect.client.schemas.actions import DeploymentUpdate

    served = daily_enforcement.to_deployment(name="enforce-smoke-2023", parameters={"campaign": "smoke-2023"})
    with get_client(sync_client=True) as client:
        # as a first serve leaves it (an upsert over an earlier test's deployment keeps that one's path)
        client.update_deployment(served.apply(), DeploymentUpdate(path="."))
        assert client.read_deployment_by_name("daily-enforcement/enforce-smoke-2023").path == "."
    pool = _pool(prefect_api)
    loaded.ok("deploy", "--pool", pool)
    with get_client(sync_client=True) as client:
        d = client.read_deployment_by_name("daily-enforcement/enforce-smoke-2023")
    assert d.path is None and not d.pull_steps and d.work_pool_name == pool
    assert d.entrypoint == "flows.enforce.daily_enforcement"


@pytest.mark.prefect
def test_a_deployment_no_longer_planned_is_removed_and_another_campaigns_is_not(loaded, prefect_api, tmp_path):
    """The weekly duty taken out of the plan: the next deploy removes its roll-up deployment,
    whose schedule would go on firing; a deployment of a campaign not in this database stays."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from flows.reports import scheduled_reports

    pool = _pool(prefect_api)
    loaded.ok("deploy", "--pool", pool)
    # another database's campaign on the same server, deployed the same way
    scheduled_reports.to_deployment(name="reports-other-2023", tags=["rectify", "campaign:other-2023",
                                                                     "scheduler:workers"]).apply()
    data = yaml.safe_load(_plan_with_duties(tmp_path).read_text(encoding="utf-8"))
    data["reporting"] = [d for d in data["reporting"] if d["key"] != "weekly"]
    revised = tmp_path / "revised.yaml"
    revised.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    loaded.ok("load", revised, "--doc-no", "示交发〔2023〕9号", "--now", "2023-04-01")

    out = loaded.ok("deploy", "--pool", pool).stdout
    assert "removed, no longer planned: reports-smoke-2023" in out
    with get_client(sync_client=True) as client:
        with pytest.raises(ObjectNotFound):
            client.read_deployment_by_name("scheduled-reports/reports-smoke-2023")
        assert client.read_deployment_by_name("daily-enforcement/enforce-smoke-2023").work_pool_name == pool
        assert client.read_deployment_by_name("scheduled-reports/reports-other-2023")
    assert "removed" not in loaded.ok("deploy", "--pool", pool).stdout  # nothing left to remove


def test_deploy_check_says_what_it_would_register_without_a_prefect_server(sqlite_url, tmp_path):
    cli = Cli(clean_env(sqlite_url, tmp_path), tmp_path)
    cli.ok("load", _plan_with_duties(tmp_path), "--now", "2023-03-15")
    out = cli.ok("deploy", "--check").stdout
    assert "would register into work pool 'rectify'" in out
    for name in ("daily-enforcement/enforce-smoke-2023", "scheduled-reports/reports-smoke-2023",
                 "open-round/open-round", "close-round/close-round", "generate-report/generate-report"):
        assert name in out
    assert "flows.enforce.daily_enforcement" in out and "5 0 * * * Asia/Shanghai" in out
    assert "RECTIFY_DB=" in out
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:  # a check claims nothing
            assert conn.execute(select(CampaignScheduler.campaign_id)).all() == []
    finally:
        engine.dispose()


def test_deploy_without_prefect_api_url_is_refused_in_one_line_naming_it(sqlite_url, tmp_path):
    cli = Cli(clean_env(sqlite_url, tmp_path), tmp_path)
    cli.ok("load", SMALL_PLAN, "--now", "2023-03-15")
    assert "set PREFECT_API_URL" in cli.fail("deploy")


def test_deploy_to_an_api_that_does_not_answer_is_refused_in_one_line(sqlite_url, tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/api"
    cli = Cli(clean_env(sqlite_url, tmp_path, PREFECT_API_URL=url), tmp_path)
    cli.ok("load", SMALL_PLAN, "--now", "2023-03-15")
    line = cli.fail("deploy", timeout=120)
    assert line.startswith(f"cannot reach the Prefect API at PREFECT_API_URL={url}")


@pytest.mark.prefect
def test_deploy_into_a_pool_that_does_not_exist_is_refused_and_claims_nothing(loaded, sqlite_url):
    line = loaded.fail("deploy", "--pool", "no-such-pool")
    assert line.startswith("work pool 'no-such-pool' does not exist on the Prefect server")
    assert "prefect work-pool create no-such-pool --type process" in line
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(CampaignScheduler.campaign_id)).all() == []
    finally:
        engine.dispose()


def test_deploy_with_no_campaign_loaded_is_refused(sqlite_url, tmp_path):
    assert "no campaign loaded" in Cli(clean_env(sqlite_url, tmp_path), tmp_path).fail("deploy", "--check")


# -- one scheduler at a time, through the commands ------------------------------------
def _owned_by(sqlite_url, method: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        claim_scheduling(engine, ["smoke-2023"], method=method, detail="host-a:4121", take_over=False,
                         now=at("2023-03-16"))
    finally:
        engine.dispose()


@pytest.mark.prefect
def test_deploy_refuses_a_campaign_the_embedded_scheduler_owns_unless_told_to_take_over(
        loaded, prefect_api, sqlite_url):
    _owned_by(sqlite_url, "embedded")
    pool = _pool(prefect_api)
    line = loaded.fail("deploy", "--pool", pool)
    assert line.startswith("campaign smoke-2023's schedule belongs to the embedded scheduler of "
                           "'rectify serve' (host-a:4121) since 2023-03-16")
    assert "--take-over" in line
    r = loaded.ok("deploy", "--pool", pool, "--take-over")
    assert "took its schedule over from the embedded scheduler" in r.stderr
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(CampaignScheduler.method)).scalar_one() == "workers"
    finally:
        engine.dispose()


@pytest.mark.parametrize("scheduler", ["embedded", "prefect"])
def test_serve_refuses_a_campaign_the_workers_own_before_starting_anything(sqlite_url, tmp_path, scheduler):
    cli = Cli(clean_env(sqlite_url, tmp_path, RECTIFY_SCHEDULER=scheduler), tmp_path)
    cli.ok("load", SMALL_PLAN, "--now", "2023-03-15")
    _owned_by(sqlite_url, "workers")
    line = cli.fail("serve")
    assert line.startswith("campaign smoke-2023's schedule belongs to the workers of 'rectify deploy'")
    assert line.endswith(("the embedded scheduler of 'rectify serve' its scheduler",
                          "'RECTIFY_SCHEDULER=prefect rectify serve' its scheduler"))
    assert not (tmp_path / "prefect" / "rectify-server.json").exists()  # no local server was started


@pytest.mark.slow
def test_an_embedded_scheduler_left_running_after_a_take_over_skips_its_fire_times(
        sqlite_url, tmp_path, prefect_api):
    import signal
    import subprocess
    import time

    from models.tables import SweepRun

    from .conftest import RECTIFY
    from .test_serve import _calendar_for_the_real_clock

    env = clean_env(sqlite_url, tmp_path, PREFECT_API_URL=prefect_api, **_calendar_for_the_real_clock(tmp_path))
    Cli(env, tmp_path).ok("load", SMALL_PLAN, "--now", "2023-03-15")
    proc = subprocess.Popen([RECTIFY, "serve", "--cron", "*/2 * * * * *", "--name", "alpha"], env=env,
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    engine = make_engine(sqlite_url)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # it claimed the campaign and fired once
            with engine.connect() as conn:
                if conn.execute(select(SweepRun.__table__.c.id)).first() is not None:
                    break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.5)
        with engine.connect() as conn:
            assert conn.execute(select(CampaignScheduler.method)).scalar_one() == "embedded"
        claim_scheduling(engine, ["smoke-2023"], method="workers", detail="pool 'rectify'", take_over=True,
                         now=at("2023-03-16"))
        time.sleep(1)  # a run already under way finishes
        with engine.connect() as conn:
            before = len(conn.execute(select(SweepRun.__table__.c.id)).all())
        time.sleep(8)
        with engine.connect() as conn:
            after = len(conn.execute(select(SweepRun.__table__.c.id)).all())
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        engine.dispose()
    assert "skipped: the campaign's schedule was taken over by the workers of 'rectify deploy'" in out, (out, err)
    assert after <= before + 1, (before, after, out)  # at most the one that had claimed its instant


@pytest.mark.prefect
def test_deploy_replaces_a_deployment_of_the_old_hand_kept_file_pull_step_and_all(loaded, prefect_api):
    from prefect.client.orchestration import get_client

    pool = _pool(prefect_api)
    with get_client(sync_client=True) as client:  # as `prefect deploy --all` made it from deploy/prefect.yaml
        flow_id = client.create_flow_from_name("daily-enforcement")
        old = client.create_deployment(
            flow_id=flow_id, name="enforce-smoke-2023", entrypoint="flows/enforce.py:daily_enforcement",
            work_pool_name=pool, path="/nowhere", parameters={"campaign": "smoke-2023"},
            pull_steps=[{"prefect.deployments.steps.set_working_directory": {"directory": "/nowhere"}}])
    loaded.ok("deploy", "--pool", pool)
    with get_client(sync_client=True) as client:
        d = client.read_deployment_by_name("daily-enforcement/enforce-smoke-2023")
    assert d.id == old and d.entrypoint == "flows.enforce.daily_enforcement"
    assert not d.pull_steps, d.pull_steps
