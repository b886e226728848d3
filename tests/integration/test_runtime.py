"""The composition root: the runtime installed for a block is the one flows use,
in every thread of the process; a process with none installed (a Prefect
worker) builds its own from its environment, once."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from sqlalchemy import text

from services.core.runtime import Runtime, Settings, current, use

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_runtime_is_current_for_the_block_then_the_one_before(tmp_path):
    outer, inner = Runtime(Settings(home=tmp_path / "a")), Runtime(Settings(home=tmp_path / "b"))
    before = current()
    with use(outer):
        assert current() is outer
        with use(inner):
            assert current() is inner
        assert current() is outer
    assert current() is before


def test_another_thread_sees_the_runtime_installed_by_the_command(tmp_path):
    # the embedded scheduler fires flows in its own threads
    rt, seen = Runtime(Settings(home=tmp_path)), []
    with use(rt):
        t = threading.Thread(target=lambda: seen.append(current()))
        t.start()
        t.join()
    assert seen == [rt]


def test_the_runtime_opens_the_database_of_its_settings(sqlite_url):
    rt = Runtime(Settings(db=sqlite_url))
    try:
        with rt.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert rt.engine is rt.engine  # built once
    finally:
        rt.close()


def _worker(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("RECTIFY_")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", code], env=full, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_a_worker_builds_its_runtime_from_its_environment(tmp_path):
    r = _worker({"RECTIFY_DB": "postgres://w@db.example.org/rectify", "RECTIFY_HOME": str(tmp_path),
                 "RECTIFY_FILE_DROP": str(tmp_path / "drop")},
                "from flows import deps\n"
                "from services.core.runtime import current\n"
                "print(deps.engine().url.render_as_string(), sorted(deps.channels()), deps.reports_dir())\n"
                "print(current() is current())")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == [
        f"postgresql+psycopg://w@db.example.org/rectify ['file'] {tmp_path / 'reports'}", "True"]


def test_a_worker_with_a_bad_setting_is_refused_naming_it():
    r = _worker({"RECTIFY_SMTP_PORT": "smtp"},
                "from services.core.runtime import current\n"
                "from statemachine.errors import InvalidInput\n"
                "try:\n    current()\nexcept InvalidInput as e:\n    print(e)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "RECTIFY_SMTP_PORT: 'smtp' is not a port number"
