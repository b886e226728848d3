"""A command that runs a flow in its own process hands the flow its settings by
installing its runtime, never through `os.environ`: the flow uses the
command's --db, and the process's environment is as it was."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from models.tables import SweepRun
from services.core.runtime import current

from ..conftest import at

pytestmark = pytest.mark.prefect


def test_a_flow_run_by_the_cli_uses_its_db_flag_and_leaves_the_environment_alone(
        engine, db_url, campaign, prefect_api, monkeypatch, capsys):
    from app.cli import main

    monkeypatch.delenv("RECTIFY_DB", raising=False)  # so nothing but --db can name the database
    environ, runtime = dict(os.environ), current()

    assert main(["--db", db_url, "--now", "2023-05-01 00:05", "sweep"]) == 0, capsys.readouterr().err
    assert f"sweep {campaign} as of 2023-05-01 00:05" in capsys.readouterr().out
    with engine.connect() as conn:
        assert conn.execute(select(SweepRun.__table__.c.as_of)).scalar_one() == at("2023-05-01 00:05")

    assert dict(os.environ) == environ
    assert current() is runtime  # the command's runtime was installed for the command only
