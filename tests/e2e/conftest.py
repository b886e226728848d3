"""End-to-end helpers: the real `rectify` console script in subprocesses.

Every command runs in its own process with a clean environment: RECTIFY_DB
at the test's database, RECTIFY_HOME and PREFECT_HOME in the test's tmp dir,
no RECTIFY_* leaking in from the caller, and PREFECT_API_URL only when a
test hands over the session's Prefect harness (commands that run flows).
"""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RECTIFY = str(Path(sys.executable).with_name("rectify"))
if not Path(RECTIFY).exists():  # pragma: no cover - run outside the venv
    RECTIFY = str(ROOT / ".venv" / "bin" / "rectify")
FIXTURES = ROOT / "tests" / "fixtures"
SMALL_PLAN = FIXTURES / "small-plan.yaml"


@dataclass
class Result:
    args: tuple
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def __str__(self) -> str:  # what an assertion failure shows
        return (f"$ rectify {' '.join(map(str, self.args))}\n-> exit {self.returncode}\n"
                f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}")


class Cli:
    """`cli.ok(...)` expects success; `cli.fail(...)` expects the one-line refusal."""

    def __init__(self, env: dict[str, str], cwd: Path):
        self.env, self.cwd = env, cwd

    def run(self, *args, env: dict[str, str] | None = None, timeout: float = 90) -> Result:
        full_env = dict(self.env)
        for k, v in (env or {}).items():
            if v is None:
                full_env.pop(k, None)
            else:
                full_env[k] = v
        p = subprocess.run([RECTIFY, *map(str, args)], env=full_env, cwd=self.cwd,
                           capture_output=True, text=True, timeout=timeout)
        return Result(args, p.returncode, p.stdout, p.stderr)

    def ok(self, *args, **kw) -> Result:
        r = self.run(*args, **kw)
        assert r.returncode == 0, str(r)
        assert "Traceback" not in r.stderr, str(r)
        return r

    def fail(self, *args, code: int | None = None, **kw) -> str:
        """Run an expected failure; returns the one error line (without the prefix)."""
        r = self.run(*args, **kw)
        assert_one_line_error(r, code=code)
        return r.stderr.strip().removeprefix("rectify: error: ")

    def json(self, *args, **kw) -> Any:
        return self.ok(*args, "--json", **kw).json()

    def parallel(self, *calls: tuple) -> list[Result]:
        """Independent commands at once (each a tuple of args); results in order."""
        with ThreadPoolExecutor(max_workers=min(4, len(calls))) as pool:
            return list(pool.map(lambda a: self.run(*a), calls))


def assert_one_line_error(r: Result, *, code: int | None = None) -> None:
    assert r.returncode != 0, str(r)
    if code is not None:
        assert r.returncode == code, str(r)
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, str(r)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected ONE error line\n{r}"
    assert lines[0].startswith("rectify: error: "), str(r)


def clean_env(db_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RECTIFY_") and not k.startswith("PREFECT_API_")}
    env.update(RECTIFY_DB=db_url, RECTIFY_HOME=str(tmp_path / "home"),
               PREFECT_HOME=str(tmp_path / "prefect"), COLUMNS="200", NO_COLOR="1")
    env.update(extra)
    return env


@pytest.fixture
def cli(db_url, tmp_path) -> Cli:
    """The CLI on the test's (already migrated) database: SQLite, and PostgreSQL too for the
    scenarios marked `both_backends` (tests/conftest.py says why)."""
    return Cli(clean_env(db_url, tmp_path), tmp_path)


@pytest.fixture
def sqlite_cli(sqlite_url, tmp_path) -> Cli:
    return Cli(clean_env(sqlite_url, tmp_path), tmp_path)


_blank = itertools.count()


@pytest.fixture
def blank_db_url(db_url, request, tmp_path) -> str:
    """An empty database (no schema) of the same kind as `db_url`."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'blank.db'}"
    import psycopg

    admin, dsn = request.getfixturevalue("pg_template")
    name = f"blank_{os.getpid()}_{next(_blank)}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return admin.set(database=name).render_as_string(hide_password=False)
