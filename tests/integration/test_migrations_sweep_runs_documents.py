"""Migrations 0015 (sweep_runs.started_at → ran_at) and 0016 (documents), down and up
again on a database with a sweep recorded: the time recorded stays, under the name
that says what it is (issue 17)."""
from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, select, text

from models.db import _alembic_config, current_revision, head_revision, upgrade
from models.tables import SweepRun
from services.campaigns.load import campaign_id
from services.ladder.sweep import begin_run

from ..conftest import at


def test_the_sweep_runs_time_survives_the_rename_both_ways(engine, campaign):
    begin_run(engine, campaign_id=campaign_id(engine, campaign), as_of=at("2023-04-08 00:05"), run_key="r1",
              ran_at=at("2023-04-08 00:06"))
    command.downgrade(_alembic_config(engine), "0014")
    engine.dispose()
    columns = {c["name"] for c in inspect(engine).get_columns("sweep_runs")}
    assert "started_at" in columns and "ran_at" not in columns
    assert not inspect(engine).has_table("documents")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sweep_runs WHERE run_key = 'r1'")).scalar_one() == 1

    upgrade(engine)
    engine.dispose()
    assert current_revision(engine) == head_revision() and inspect(engine).has_table("documents")
    with engine.connect() as conn:
        row = conn.execute(select(SweepRun.as_of, SweepRun.ran_at)).one()
    assert row == (at("2023-04-08 00:05"), at("2023-04-08 00:06"))
