"""Benchmark: a province's nightly run through Prefect workers versus in-process.

    .venv/bin/python bench/scaleout.py [--db URL] [--units N] [--items M]

Without --db a throwaway PostgreSQL cluster is started (bench/pg.py); the
Prefect server runs on a second database of the same server (`prefect server
start` on a free loopback port). A province of N units (default 3,000: 12
prefectures, the rest counties) gets M items (default 1,000,000) from
bench/sweep.py's generator, 10 % of them overdue. Each measure starts from a copy
of that database (PostgreSQL `CREATE DATABASE … TEMPLATE`), so every night does
the same work:

- in-process: `daily_enforcement` called in this process (as `rectify enforce`);
- one worker: the nightly deployment triggered once, run by one `prefect worker`
  process (a process pool: a fresh Python process per flow run);
- two workers: the same night triggered twice at once, two workers (`--limit 1`
  each) racing it, as two schedulers firing would: wall time until both end.

Each wall time runs from the trigger to the run's final state. Task runs are
counted per flow run: the same in-process and on a worker, and independent of
the number of items (the delivery's batches follow the number of messages).
The last line reads `worker_vs_inprocess=<r> two_vs_one=<r> task_runs=<n> …`.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.flowruns import task_runs  # noqa: E402
from bench.pg import database_url  # noqa: E402
from bench.report import START, plan  # noqa: E402
from bench.sweep import generate_clues  # noqa: E402
from bench.processes import start_group, stop_group

BIN = Path(sys.executable).parent
NIGHT = "2023-06-15T00:05:00+08:00"
POOL = "rectify-bench"
CAMPAIGN = "bench-2023"
WAIT = 3600.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(home: Path, api: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RECTIFY_"))}
    env.update(PREFECT_API_URL=api, PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_LOGGING_LEVEL="WARNING", **extra)
    return env


def _copy(admin_dsn: str, url, base: str, name: str) -> str:
    """A fresh database holding what `base` holds (the loaded province)."""
    import psycopg

    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{base}"')
    return url.set(database=name).render_as_string(hide_password=False)


def _wait_final(ids: list[UUID], timeout: float = WAIT) -> list:
    from prefect import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            runs = [client.read_flow_run(i) for i in ids]
            if all(r.state is not None and r.state.is_final() for r in runs):
                return runs
            if time.monotonic() > deadline:
                sys.exit(f"bench: runs not done after {timeout:.0f}s: {[(r.name, r.state.type) for r in runs]}")
            time.sleep(0.2)


def _trigger() -> UUID:
    from prefect.deployments import run_deployment

    return run_deployment(f"daily-enforcement/enforce-{CAMPAIGN}", parameters={"campaign": CAMPAIGN, "as_of": NIGHT},
                          timeout=0).id


def _workers(n: int, tmp: Path, api: str, db: str) -> list[subprocess.Popen]:
    tmp.mkdir(parents=True, exist_ok=True)
    return [start_group([str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--type", "process",
                    "--name", f"bench-{tmp.name}-{i}", "--limit", "1"],
                   _env(tmp / f"w{i}", api, RECTIFY_DB=db, RECTIFY_HOME=str(tmp / f"home{i}"),
                        RECTIFY_FILE_DROP=str(tmp / "drop"), PREFECT_WORKER_QUERY_SECONDS="1",
                        PREFECT_WORKER_PREFETCH_SECONDS="5"),
                   tmp / f"worker{i}.log") for i in range(n)]


def _wait_workers(tag: str, n: int) -> None:
    """Until the n workers of this measure have polled the pool, so no measure counts a worker's start."""
    from prefect import get_client

    names = {f"bench-{tag}-{i}" for i in range(n)}
    deadline = time.monotonic() + 300
    with get_client(sync_client=True) as client:
        while not names <= {w.name for w in client.read_workers_for_work_pool(POOL)}:
            if time.monotonic() > deadline:
                sys.exit("bench: the workers never polled")
            time.sleep(0.5)


def _counts(url: str) -> tuple:
    from sqlalchemy import func, select

    from models.db import make_engine
    from models.tables import EscalationCase, Lapse, Notice, OutboxMessage

    engine = make_engine(url)
    with engine.connect() as conn:
        out = tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in (Lapse, EscalationCase, Notice, OutboxMessage))
    engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", help="PostgreSQL URL of a server whose user may create databases "
                                 "(default: a throwaway cluster)")
    ap.add_argument("--units", type=int, default=3_000)
    ap.add_argument("--items", type=int, default=1_000_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rectify-scaleout-"))
    procs: list[subprocess.Popen] = []
    with database_url(args.db) as given:
        import psycopg
        from sqlalchemy import text
        from sqlalchemy.engine import make_url

        from models.db import make_engine, normalize_url, upgrade

        url = make_url(normalize_url(given))
        admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
        base = f"scaleout_base_{os.getpid()}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{base}"')
            conn.execute(f'CREATE DATABASE "prefect_{base}"')
        base_url = url.set(database=base).render_as_string(hide_password=False)
        engine = make_engine(base_url)
        upgrade(engine)
        from services.campaigns.load import campaign_id, load_plan

        load_plan(engine, plan(args.units), source="bench", now=START)
        cid = campaign_id(engine, CAMPAIGN)
        with engine.connect() as conn:
            unit_ids = [r[0] for r in conn.execute(
                text("SELECT id FROM units WHERE campaign_id = :c AND participates ORDER BY id"), dict(c=cid))]
        t0 = time.perf_counter()
        generate_clues(engine, cid, unit_ids, "profit", args.items)
        engine.dispose()  # a template database must have no connection
        print(f"{args.units:,} units, {args.items:,} items on PostgreSQL in {time.perf_counter() - t0:.1f}s",
              flush=True)

        port = _free_port()
        api = f"http://127.0.0.1:{port}/api"
        prefect_db = url.set(drivername="postgresql+asyncpg", database=f"prefect_{base}")
        try:
            procs.append(start_group([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port",
                                 str(port), "--no-ui"],
                                _env(tmp / "server", api, PREFECT_API_DATABASE_CONNECTION_URL=prefect_db
                                     .render_as_string(hide_password=False)), tmp / "server.log"))
            _measure(args, admin, url, base, api, tmp, procs)
        finally:
            for p in reversed(procs):
                stop_group(p)


def _measure(args, admin: str, url, base: str, api: str, tmp: Path, procs: list) -> None:
    import httpx
    from prefect.settings import PREFECT_API_URL, temporary_settings

    deadline = time.monotonic() + 300
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                break
        if time.monotonic() > deadline or procs[0].poll() is not None:
            sys.exit(f"bench: the Prefect server did not start (see {tmp / 'server.log'})")
        time.sleep(0.5)
    with temporary_settings(updates={PREFECT_API_URL: api}):
        from prefect import get_client
        from prefect.client.schemas.actions import WorkPoolCreate
        from prefect.deployments.runner import EntrypointType, deploy
        from prefect.workers.process import ProcessWorker

        from app.flow_runner import quiet_flows
        from flows.enforce import daily_enforcement
        from services.core.runtime import Runtime, Settings, use

        quiet_flows()
        with get_client(sync_client=True) as client:
            client.create_work_pool(WorkPoolCreate(name=POOL, type="process",
                                                   base_job_template=ProcessWorker.get_default_base_job_template()))
        deploy(daily_enforcement.to_deployment(name=f"enforce-{CAMPAIGN}", parameters={"campaign": CAMPAIGN},
                                               entrypoint_type=EntrypointType.MODULE_PATH),
               work_pool_name=POOL, build=False, push=False, print_next_steps_message=False, ignore_warnings=True)

        # in-process, as `rectify enforce` runs it
        db = _copy(admin, url, base, f"{base}_in")
        with use(Runtime(Settings(db=db, home=tmp / "home-in", file_drop=tmp / "drop-in"))):
            t0 = time.perf_counter()
            r = daily_enforcement(campaign=CAMPAIGN, as_of=datetime.fromisoformat(NIGHT))
            inprocess = time.perf_counter() - t0
        tasks_in = task_runs(r.sweep.run_key, at_least=10)
        rows = _counts(db)
        print(f"in-process: {inprocess:.2f}s, {tasks_in} task runs; lapses, cases, notices, messages {rows}",
              flush=True)

        # one worker, the night once
        db = _copy(admin, url, base, f"{base}_one")
        workers = _workers(1, tmp / "one", api, db)
        procs += workers
        _wait_workers("one", 1)
        t0 = time.perf_counter()
        [one] = _wait_final([_trigger()])
        one_s = time.perf_counter() - t0
        tasks_one = task_runs(one.id, at_least=10)
        if not one.state.is_completed() or _counts(db) != rows:
            sys.exit(f"bench: one worker's night: {one.state.type} {one.state.message}; rows {_counts(db)}")
        print(f"one worker: {one_s:.2f}s, {tasks_one} task runs", flush=True)
        for w in workers:
            stop_group(w)
            procs.remove(w)

        # two workers, the same night twice at once
        db = _copy(admin, url, base, f"{base}_two")
        workers = _workers(2, tmp / "two", api, db)
        procs += workers
        _wait_workers("two", 2)
        t0 = time.perf_counter()
        both = _wait_final([_trigger(), _trigger()])
        two_s = time.perf_counter() - t0
        if not all(b.state.is_completed() for b in both) or _counts(db) != rows:
            sys.exit(f"bench: two workers' night: {[(b.name, b.state.type) for b in both]}; rows {_counts(db)}")
        repeats = sum("already-done" in b.name for b in both)
        print(f"two workers, the night twice: {two_s:.2f}s; {repeats} run says already done", flush=True)
        print(f"inprocess_s={inprocess:.2f} one_worker_s={one_s:.2f} two_workers_s={two_s:.2f} "
              f"worker_vs_inprocess={one_s / inprocess:.2f} two_vs_one={two_s / one_s:.2f} "
              f"task_runs={tasks_in} task_runs_worker={tasks_one} repeats={repeats}")


if __name__ == "__main__":
    main()
