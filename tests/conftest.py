"""Shared fixtures: real SQLite and PostgreSQL databases, a loaded campaign,
and one Prefect test harness per session.

PostgreSQL: a throwaway cluster (tests/pg_cluster.py) or RECTIFY_TEST_PG_URL;
each test gets its own database cloned from a migrated template, so tests
stay independent and fast. Without server binaries the PostgreSQL cases are
skipped with that reason, except under CI=true where that is a failure.
"""
from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import settings as hypothesis_settings

# A property's examples are judged by what they assert, not by how long one took:
# on CI's two shared cores a 200 ms deadline fails examples that merely waited.
hypothesis_settings.register_profile("rectify", deadline=None)
hypothesis_settings.load_profile("rectify")

# Prefect reads its settings at import: give the session its own home first.
_SESSION_HOME = Path(tempfile.mkdtemp(prefix="rectify-tests-"))
os.environ["PREFECT_HOME"] = str(_SESSION_HOME / "prefect")
from app.prefect_env import configure_prefect  # noqa: E402

configure_prefect(_SESSION_HOME)

from models.db import make_engine, upgrade  # noqa: E402
from services.core.runtime import Runtime, Settings, use  # noqa: E402
from statemachine.time.calendar import TZ, WorkingCalendar  # noqa: E402

from .pg_cluster import PostgresUnavailable, external_url, throwaway_postgres  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
SMALL_PLAN = FIXTURES / "small-plan.yaml"


def at(text: str) -> datetime:
    """An instant in Asia/Shanghai from '2023-04-01' or '2023-04-01 10:00'."""
    if len(text) == 10:
        text += " 09:00"
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


# -- the runtime flows use ---------------------------------------------------------
@contextmanager
def installed(**settings) -> Iterator[Runtime]:
    """Flows run in this process use a runtime of exactly these settings (never
    the caller's RECTIFY_* variables) until the block ends."""
    runtime = Runtime(Settings(**settings))
    with use(runtime):
        yield runtime
    runtime.close()


# -- what makes the suite fast on two cores ----------------------------------------
# Longest first, handed out a few at a time: xdist (--dist load) otherwise gives each
# worker a quarter of the items up front and later chunks of up to half of what is
# left, so a 60 s scenario collected last runs alone at the end, or one worker gets
# every slow item while the other idles. Longest-first, each worker taking the next
# few when it is free, ends both workers within a short test of each other.
_FIRST = ("tests/e2e/", "tests/flows/", "tests/fuzz/", "tests/web/", "tests/browser/", "tests/integration/")
_CHUNK = 8  # items a worker is sent at once; --maxschedchunk on the command line wins


def pytest_configure(config):
    if getattr(config.option, "maxschedchunk", _CHUNK) is None:
        config.option.maxschedchunk = _CHUNK


def _rank(item) -> tuple[int, int]:
    path = item.nodeid
    where = next((i for i, d in enumerate(_FIRST) if path.startswith(d)), len(_FIRST))
    return (0 if item.get_closest_marker("slow") else 1, where)


# The command line's own work (parsing, output, exit codes) is the same on either database,
# and every use case below it is tested on both in tests/integration and tests/web. So a
# scenario in tests/e2e runs the real CLI on SQLite, the embedded default a user meets first;
# those marked `both_backends` (the longest scenarios, and those where PostgreSQL's
# concurrency or constraints are the point) run the whole stack on PostgreSQL too.
_SQLITE_ONLY = "tests/e2e/"


def _postgres_twin(item) -> bool:
    spec = getattr(item, "callspec", None)
    return (item.nodeid.startswith(_SQLITE_ONLY) and spec is not None and spec.params.get("db_url") == "postgres"
            and item.get_closest_marker("both_backends") is None)


def pytest_collection_modifyitems(config, items):
    twins = [i for i in items if _postgres_twin(i)]
    if twins:
        config.hook.pytest_deselected(items=twins)
        items[:] = [i for i in items if not _postgres_twin(i)]
    items.sort(key=_rank)  # stable: the same order on every worker, file order within a rank


@pytest.fixture(scope="session", autouse=True)
def _session_runtime():
    """What a flow run in-process finds when a test installed nothing: an empty
    home of the session's, so no test reads the caller's environment or ~/.rectify."""
    with installed(home=_SESSION_HOME / "home") as runtime:
        yield runtime


# -- PostgreSQL ---------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_admin_url():
    url = external_url()
    if url:
        yield url
        return
    try:
        cm = throwaway_postgres()
        url = cm.__enter__()
    except PostgresUnavailable as e:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {e}")
        pytest.skip(f"PostgreSQL server binaries not available: {e}")
    try:
        yield url
    finally:
        cm.__exit__(None, None, None)


@pytest.fixture(scope="session")
def pg_template(pg_admin_url):
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(pg_admin_url)
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS rectify_tpl")
        conn.execute("CREATE DATABASE rectify_tpl")
    tpl_url = admin.set(database="rectify_tpl").render_as_string(hide_password=False)
    engine = make_engine(tpl_url)
    upgrade(engine)
    engine.dispose()
    return admin, dsn


_counter = itertools.count()


def fresh_pg_url(pg_template, *, template: str = "rectify_tpl") -> str:
    import psycopg

    admin, dsn = pg_template
    name = f"t_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    return admin.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_campaign_template(pg_template) -> str:
    """A migrated template with the small plan loaded (as the `campaign` fixture loads
    it); returns its name. Cloning it costs what cloning the empty one costs."""
    import psycopg

    admin, dsn = pg_template
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS rectify_tpl_campaign")
        conn.execute("CREATE DATABASE rectify_tpl_campaign TEMPLATE rectify_tpl")
    engine = make_engine(admin.set(database="rectify_tpl_campaign").render_as_string(hide_password=False))
    load_small_plan(engine)
    engine.dispose()
    return "rectify_tpl_campaign"


# -- SQLite -------------------------------------------------------------------
@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def fresh_sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "rectify.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def sqlite_campaign_template(sqlite_template, tmp_path_factory) -> Path:
    """`sqlite_template` with the small plan loaded (as the `campaign` fixture loads it)."""
    path = tmp_path_factory.mktemp("tpl-campaign") / "template.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    load_small_plan(engine)
    engine.dispose()
    return path


# -- per test -----------------------------------------------------------------
@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    # A test that asks for `campaign` gets a clone of a template the small plan was
    # loaded into once per session: the same rows, ids and audit chain as loading it
    # here, without ~0.1 s (SQLite) / ~0.3 s (PostgreSQL) of inserts per test.
    loaded = "campaign" in request.fixturenames
    if request.param == "sqlite":
        template = "sqlite_campaign_template" if loaded else "sqlite_template"
        return fresh_sqlite_url(request.getfixturevalue(template), tmp_path)
    pg = request.getfixturevalue("pg_template")
    if loaded:
        return fresh_pg_url(pg, template=request.getfixturevalue("pg_campaign_template"))
    return fresh_pg_url(pg)


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template) -> str:
    return fresh_sqlite_url(sqlite_template, tmp_path)


@pytest.fixture
def engine(db_url):
    e = make_engine(db_url)
    yield e
    e.dispose()


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


def load_small_plan(engine) -> str:
    """Load the small fictional plan on 2023-03-15; returns its code."""
    from services.campaigns.load import load_plan
    from services.campaigns.plans import read_plan

    plan = read_plan(SMALL_PLAN)
    load_plan(engine, plan, source=str(SMALL_PLAN), now=at("2023-03-15"))
    return plan.campaign.code


@pytest.fixture
def campaign(engine) -> str:
    """The small fictional plan loaded on 2023-03-15; returns its code.

    `db_url` already cloned it from a loaded template when the test asked for this
    fixture by name; loaded here only when requested late (getfixturevalue)."""
    from services.campaigns.load import campaign_codes
    from services.campaigns.plans import read_plan

    code = read_plan(SMALL_PLAN).campaign.code
    with engine.connect() as conn:
        if code in campaign_codes(conn):
            return code
    return load_small_plan(engine)


# -- Prefect ------------------------------------------------------------------
@pytest.fixture(scope="session")
def prefect_api():
    """One real Prefect API server for the whole session; yields its URL."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield PREFECT_API_URL.value()


# -- a real SMTP server on loopback ----------------------------------------------------
def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    """aiosmtpd on 127.0.0.1; yields (port, the messages received so far)."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    class Collect:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    handler = Collect()
    port = _free_port()  # aiosmtpd checks its port by connecting, so it cannot be 0
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler.messages
    finally:
        controller.stop()
