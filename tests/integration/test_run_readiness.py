"""A flow run checks, at its start, that its settings name a database it can serve
(services/core/readiness.py): one line naming the setting, never an empty SQLite file."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from models.db import head_revision, make_engine
from services.core.readiness import check_ready
from services.core.runtime import Runtime, Settings
from statemachine.errors import Misconfigured, NotInitialised


def _check(*, from_environment: bool = False, **settings) -> None:
    runtime = Runtime(Settings(**settings))
    try:
        check_ready(runtime, from_environment=from_environment)
    finally:
        runtime.close()


def test_a_worker_without_rectify_db_is_refused_naming_it_and_no_sqlite_file_is_created(tmp_path):
    with pytest.raises(Misconfigured) as e:
        _check(from_environment=True, home=tmp_path / "home")
    assert str(e.value).startswith("RECTIFY_DB is not set on this worker: set it in the worker's environment")
    assert not (tmp_path / "home" / "rectify.db").exists()


def test_an_installed_runtime_on_the_default_home_is_checked_like_any(tmp_path):
    # the CLI's embedded default chose its home's database: not "unset on a worker"
    with pytest.raises(NotInitialised, match=r"\(RECTIFY_DB\) does not exist"):
        _check(home=tmp_path / "home")
    assert not (tmp_path / "home" / "rectify.db").exists()


def test_a_worker_on_the_embedded_default_home_database_runs(tmp_path, sqlite_template):
    import shutil

    (tmp_path / "home").mkdir()
    shutil.copy(sqlite_template, tmp_path / "home" / "rectify.db")
    _check(from_environment=True, home=tmp_path / "home")


def test_a_sqlite_file_that_does_not_exist_is_refused_without_creating_it(tmp_path):
    with pytest.raises(NotInitialised) as e:
        _check(home=tmp_path, db=f"sqlite:///{tmp_path / 'nope.db'}")
    assert "(RECTIFY_DB) does not exist" in str(e.value)
    assert not (tmp_path / "nope.db").exists()


def test_a_database_without_tables_names_the_setting_and_the_command(blank_url, tmp_path):
    with pytest.raises(NotInitialised) as e:
        _check(from_environment=True, home=tmp_path, db=blank_url)
    assert "(RECTIFY_DB) has no Rectify tables: run 'rectify init'" in str(e.value)


def test_a_database_behind_the_code_says_migrate_one_ahead_says_install(db_url, tmp_path):
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0011'"))
        with pytest.raises(NotInitialised, match=r"is at schema 0011, this version needs \w+: run 'rectify migrate'"):
            _check(home=tmp_path, db=db_url)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(NotInitialised, match=r"newer than this installation of Rectify knows"):
            _check(home=tmp_path, db=db_url)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()})
        _check(home=tmp_path, db=db_url)  # at this code's schema: ready
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_database_that_cannot_be_opened_names_the_setting(tmp_path, pg_admin_url):
    from sqlalchemy.engine import make_url

    wrong = make_url(pg_admin_url).set(database="no_such_database_here").render_as_string(hide_password=False)
    with pytest.raises(NotInitialised, match=r"^cannot open database .* \(RECTIFY_DB\): "):
        _check(from_environment=True, home=tmp_path, db=wrong)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank_url(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "blank.db"
        make_engine(f"sqlite:///{path}").dispose()
        import sqlite3

        sqlite3.connect(path).close()  # a file, empty
        return f"sqlite:///{path}"
    import os

    import psycopg

    admin, dsn = request.getfixturevalue("pg_template")
    name = f"blank_ready_{os.getpid()}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return admin.set(database=name).render_as_string(hide_password=False)
