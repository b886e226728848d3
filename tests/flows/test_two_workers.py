"""A province's deployment, run for real (issue 17 item 6): a Prefect server on
PostgreSQL, a process work pool, the nightly deployment, two `prefect worker`
processes on loopback and the application database on PostgreSQL.

The same night is triggered twice and two other nights at once; every run
completes, every row the nights write is there exactly once (the same rows as
the same nights run one after another in this process, on a database of their
own), and the artifacts an operator opens are readable: the repeat's say
"already done by run …" and never take the first run's keys.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from uuid import UUID

import pytest
import yaml
from sqlalchemy import func, select

from app.deploying import deploy_campaigns
from models.db import make_engine
from models.tables import Document, EscalationCase, GeneratedReport, Lapse, Notice, OutboxMessage, SweepRun
from services.campaigns.load import load_plan
from services.campaigns.plans import read_plan

from bench.processes import start_group, stop_group

from ..conftest import SMALL_PLAN, at, fresh_pg_url, installed

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

BIN = Path(sys.executable).parent
POOL = "rectify-two-workers"
DEPLOYMENT = "daily-enforcement/enforce-smoke-2023"
NIGHT, LATER, LAST = "2023-04-08T00:05:00+08:00", "2023-04-20T00:05:00+08:00", "2023-05-01T00:05:00+08:00"
WAIT = 150  # seconds any one wait may take on a loaded two-core machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _base_env(tmp_path: Path, name: str, api: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RECTIFY_"))}
    env.update(PREFECT_API_URL=api, PREFECT_HOME=str(tmp_path / f"prefect-{name}"),
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_LOGGING_LEVEL="WARNING")
    return env


def _wait_healthy(api: str, server: subprocess.Popen, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the Prefect server stopped: {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise AssertionError(f"the Prefect server did not answer within {WAIT}s")


def _create_pool() -> None:
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name=POOL, type="process",
                                               base_job_template=ProcessWorker.get_default_base_job_template()))


def _wait_final(ids: list[UUID]) -> list:
    from prefect import get_client

    deadline = time.monotonic() + WAIT
    with get_client(sync_client=True) as client:
        while True:
            runs = [client.read_flow_run(i) for i in ids]
            if all(r.state is not None and r.state.is_final() for r in runs) or time.monotonic() > deadline:
                return runs
            time.sleep(1)


def _artifacts(run_id: UUID, want: int) -> list:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    deadline, arts = time.monotonic() + 30, []
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:  # artifacts travel as events
            arts = client.read_artifacts(artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[run_id])))
            if len(arts) >= want:
                break
            time.sleep(0.5)
    return arts


def _rows(url: str) -> dict:
    """What the nights wrote, by natural key (ids aside: the two databases number alike
    only what was loaded alike)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                "lapses": sorted(conn.execute(select(Lapse.key)).scalars()),
                "cases": sorted(conn.execute(select(EscalationCase.key)).scalars()),
                "notices": sorted(conn.execute(select(Notice.key, Notice.doc_number)).all()),
                "messages": sorted(conn.execute(select(OutboxMessage.key, OutboxMessage.state)).all()),
                "reports": sorted(conn.execute(select(GeneratedReport.kind, GeneratedReport.period,
                                                      GeneratedReport.files_json)).all()),
                "documents": sorted(conn.execute(select(Document.name)).scalars()),
            }
    finally:
        engine.dispose()


def _loaded(pg_template, tmp_path: Path) -> str:
    """The small plan with the lead's weekly roll-up (due Thursdays): a night on a worker makes reports."""
    data = yaml.safe_load(SMALL_PLAN.read_text(encoding="utf-8"))
    data["reporting"] = [{"key": "weekly", "name": "周报", "start": "2023-04-01", "until": "2023-05-31",
                          "owed_by": "lead", "schedule": {"kind": "weekly", "weekday": "thu", "at": "12:00"}}]
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    url = fresh_pg_url(pg_template)
    engine = make_engine(url)
    load_plan(engine, read_plan(path), source=str(path), now=at("2023-03-15"))
    engine.dispose()
    return url


def test_two_workers_run_the_nights_once_each_and_say_which_run_did_a_night(pg_template, tmp_path):
    import psycopg
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    started = time.monotonic()
    admin, dsn = pg_template
    prefect_db = f"prefect_{os.getpid()}_{_free_port()}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {prefect_db}")
    app_url = _loaded(pg_template, tmp_path)

    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    server_env = _base_env(tmp_path, "server", api)
    server_env.update(PREFECT_API_DATABASE_CONNECTION_URL=admin.set(
        drivername="postgresql+asyncpg", database=prefect_db).render_as_string(hide_password=False),
        PREFECT_UI_ENABLED="false")
    procs: list[subprocess.Popen] = []
    try:
        server_log = tmp_path / "server.log"
        procs.append(start_group([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port),
                             "--no-ui"], server_env, server_log))
        _wait_healthy(api, procs[0], server_log)
        with temporary_settings(updates={PREFECT_API_URL: api}):
            _create_pool()
            # what an operator runs: `rectify deploy --pool …` (app/deploying.py), the code reached
            # as the installed package (module-path entrypoints, no pull step)
            deployed = deploy_campaigns(engine=make_engine(app_url), pool=POOL, campaigns=["smoke-2023"])
            assert DEPLOYMENT in {d.name for d in deployed.rows}
            for n in (1, 2):
                env = _base_env(tmp_path, f"worker{n}", api)
                # what a worker needs (docs/deploy.md (6a)): the application database, a channel
                env.update(RECTIFY_DB=app_url, RECTIFY_HOME=str(tmp_path / f"home{n}"),
                           RECTIFY_FILE_DROP=str(tmp_path / "drop"), PREFECT_WORKER_QUERY_SECONDS="1",
                           PREFECT_WORKER_PREFETCH_SECONDS="5")
                procs.append(start_group([str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--type", "process",
                                     "--name", f"worker-{n}", "--limit", "1"], env, tmp_path / f"worker{n}.log"))

            def trigger(as_of: str):
                return run_deployment(DEPLOYMENT, parameters={"campaign": "smoke-2023", "as_of": as_of},
                                      timeout=0).id

            # the same night twice, at once: one worker each
            same = [trigger(NIGHT), trigger(NIGHT)]
            first_pair = _wait_final(same)
            # two other nights, at once
            others = _wait_final([trigger(LATER), trigger(LAST)])
            runs = first_pair + others
            logs = "\n".join(p.read_text(errors="replace")[-1500:] for p in tmp_path.glob("worker*.log"))
            assert all(r.state.is_completed() for r in runs), \
                [(r.name, r.state.type, r.state.message) for r in runs] + [logs]

            # the repeat of the night names the run that did it, in its run name and its artifacts
            first, repeat = sorted(first_pair, key=lambda r: "already-done" in r.name)
            assert first.name == "enforce-smoke-2023-20230408-0005"
            assert repeat.name == f"enforce-smoke-2023-20230408-0005-already-done-by-{str(first.id)[:8]}"
            firsts, repeats = _artifacts(first.id, 3), _artifacts(repeat.id, 3)
            assert {"sweep-smoke-2023", "escalation-smoke-2023"} <= {a.key for a in firsts}
            assert repeats and {a.key for a in repeats} == {None}, [(a.key, a.description[:100]) for a in repeats]
            assert all(a.description.startswith(f"**already done by run {first.id}") for a in repeats)
            sweep_art = next(a for a in firsts if a.key == "sweep-smoke-2023")
            assert "new lapses" in sweep_art.description and "already done" not in sweep_art.description
            assert not any("already-done" in r.name for r in others)
            report_artifacts = [a for a in firsts if (a.key or "").startswith("report-")]
            for r in others:  # a different night is nobody's repeat: its artifacts take the keys
                arts = _artifacts(r.id, 3)
                assert "sweep-smoke-2023" in {a.key for a in arts}
                report_artifacts += [a for a in arts if (a.key or "").startswith("report-")]

        # exactly once: each lapse counted by one run, and the same rows as the nights one by one
        engine = make_engine(app_url)
        with engine.connect() as conn:
            sweeps = conn.execute(select(SweepRun.as_of, SweepRun.ran_at, SweepRun.new_lapses)).all()
            lapses = conn.execute(select(func.count()).select_from(Lapse)).scalar_one()
        engine.dispose()
        assert len(sweeps) == 4 and sum(s.new_lapses for s in sweeps) == lapses > 0
        assert sorted({s.as_of for s in sweeps}) == [at("2023-04-08 00:05"), at("2023-04-20 00:05"),
                                                    at("2023-05-01 00:05")]
        assert all(s.ran_at.year >= 2026 for s in sweeps)  # when they ran, not the nights they are about
        got = _rows(app_url)
        assert got["notices"] and got["messages"] and got["cases"]
        assert len({n[1] for n in got["notices"]}) == len(got["notices"])  # no 文号 twice
        assert all(state == "sent" for _, state in got["messages"])
        # the reports the workers made are in the database, named by the store; no worker
        # wrote a file of its own (RECTIFY_REPORTS_DIR unset), and the artifact names the store
        assert got["reports"] and got["documents"] == sorted(
            f"reports/smoke-2023/city/weekly-{period}.{f}" for _, period, _ in got["reports"]
            for f in ("docx", "html", "md", "xlsx"))
        assert all(json.loads(files)["md"] == f"document:reports/smoke-2023/city/weekly-{period}.md"
                   for _, period, files in got["reports"])
        assert not list(tmp_path.glob("home*/reports"))
        assert any("in the database as docx document:reports/smoke-2023/city/weekly-" in a.description
                   and str(tmp_path) not in a.description for a in report_artifacts)

        reference = _loaded(pg_template, tmp_path)
        from flows.enforce import daily_enforcement

        with temporary_settings(updates={PREFECT_API_URL: api}), \
                installed(db=reference, home=tmp_path / "ref", file_drop=tmp_path / "ref-drop"):
            for night in (NIGHT, LATER, LAST):
                daily_enforcement(campaign="smoke-2023", as_of=night)
        assert got == _rows(reference)
        assert len(list((tmp_path / "drop").iterdir())) == len(got["messages"])  # each message once
    finally:
        for p in reversed(procs):
            stop_group(p, grace=15)
    print(f"two workers: {time.monotonic() - started:.0f}s wall")
