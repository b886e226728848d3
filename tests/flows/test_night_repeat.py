"""A night run twice (a retry, or a worker that lost a race): the second run does no
work twice, says "already done by run …" in its name and artifacts, and never
takes the first run's artifact keys; sweep_runs keeps both the night and when each ran
(issue 17)."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from uuid import UUID

import pytest
from sqlalchemy import select

from models.tables import SweepRun

from ..conftest import at, installed

pytestmark = pytest.mark.prefect


@pytest.fixture
def flow_env(db_url, campaign, prefect_api, tmp_path):
    from app.flow_runner import quiet_flows

    quiet_flows()
    with installed(db=db_url, home=tmp_path / "home", file_drop=tmp_path / "drop"):
        yield campaign


def _artifacts_of(flow_run_id: str, *, want: int) -> list:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    deadline, arts = time.monotonic() + 20, []
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:  # artifacts travel as events: recorded asynchronously
            arts = client.read_artifacts(artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(flow_run_id)])))
            if len(arts) >= want:
                break
            time.sleep(0.3)
    return arts


def _latest(key: str):
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactCollectionFilter, ArtifactCollectionFilterKey

    with get_client(sync_client=True) as client:
        return client.read_latest_artifacts(
            artifact_filter=ArtifactCollectionFilter(key=ArtifactCollectionFilterKey(any_=[key])))


def _run(flow_run_id: str):
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(UUID(flow_run_id))


def test_a_second_run_of_a_night_says_already_done_and_keeps_off_the_first_runs_keys(flow_env, engine):
    from flows.deadline_sweep import deadline_sweep

    campaign, night = flow_env, at("2023-04-08 00:05")
    before = datetime.now(timezone.utc)
    first = deadline_sweep(campaign=campaign, as_of=night)
    again = deadline_sweep(campaign=campaign, as_of=night)
    assert first.total == 3 and again.total == 0

    assert _run(first.run_key).name == "sweep-smoke-2023-20230408-0005"
    second_name = _run(again.run_key).name
    assert second_name == f"sweep-smoke-2023-20230408-0005-already-done-by-{first.run_key[:8]}"

    [mine] = _artifacts_of(first.run_key, want=1)
    assert mine.key == "sweep-smoke-2023" and "3 new lapses" in mine.description
    assert "already done" not in mine.description
    [repeat] = _artifacts_of(again.run_key, want=1)
    assert repeat.key is None  # attached to the repeat's run only
    assert f"already done by run {first.run_key}" in repeat.description
    assert "3 new lapses" in repeat.description and "this run: Deadline sweep" in repeat.description
    rows = repeat.data if isinstance(repeat.data, list) else json.loads(repeat.data)
    assert rows[0]["new_lapses"] == 0
    # the latest under the key is still the first run's, not the repeat's "0 new lapses"
    [latest] = _latest("sweep-smoke-2023")
    assert str(latest.flow_run_id) == first.run_key

    with engine.connect() as conn:
        rows = conn.execute(select(SweepRun.__table__.c.run_key, SweepRun.__table__.c.as_of,
                                   SweepRun.__table__.c.ran_at).order_by(SweepRun.__table__.c.id)).all()
    assert [r.run_key for r in rows] == [first.run_key, again.run_key]
    assert all(r.as_of == night for r in rows)
    # when they ran (today), not the night they are about (2023)
    assert all(before - timedelta(seconds=5) <= r.ran_at <= datetime.now(timezone.utc) for r in rows)
    assert rows[0].ran_at <= rows[1].ran_at


def test_a_different_night_is_nobodys_repeat(flow_env):
    from flows.deadline_sweep import deadline_sweep

    campaign = flow_env
    deadline_sweep(campaign=campaign, as_of=at("2023-04-08 00:05"))
    other = deadline_sweep(campaign=campaign, as_of=at("2023-04-09 00:05"))
    assert _run(other.run_key).name == "sweep-smoke-2023-20230409-0005"
    [art] = _artifacts_of(other.run_key, want=1)
    assert art.key == "sweep-smoke-2023" and "already done" not in art.description


def test_the_nightly_runs_repeat_keeps_off_every_key_of_the_first(flow_env):
    from flows.enforce import daily_enforcement

    campaign, night = flow_env, at("2023-04-08 00:05")
    first = daily_enforcement(campaign=campaign, as_of=night)
    again = daily_enforcement(campaign=campaign, as_of=night)
    firsts = _artifacts_of(first.sweep.run_key, want=4)
    repeats = _artifacts_of(again.sweep.run_key, want=len(firsts))
    assert {a.key for a in firsts} >= {"sweep-smoke-2023", "escalation-smoke-2023", "waiting-smoke-2023"}
    assert len(repeats) == len(firsts) and {a.key for a in repeats} == {None}
    assert all(a.description.startswith(f"**already done by run {first.sweep.run_key}") for a in repeats)
    assert "already-done-by" in _run(again.sweep.run_key).name
