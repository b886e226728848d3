"""The deadline-sweep flow under a real Prefect API: run name, artifact,
task-run count independent of the data, idempotence at the same instant."""
from __future__ import annotations

import time
from uuid import UUID

import pytest

from services.campaigns import units
from services.clues.lifecycle import NewClue, add_clues

from ..conftest import at, installed

pytestmark = pytest.mark.prefect


@pytest.fixture
def flow_env(db_url, campaign, prefect_api, tmp_path):
    """Flows take the database from the runtime installed in their process (flows/deps.py).
    A file drop: a nightly run whose notices no channel carries ends Failed (issue 15)."""
    from app.flow_runner import quiet_flows

    quiet_flows()
    with installed(db=db_url, home=tmp_path / "home", file_drop=tmp_path / "drop"):
        yield campaign


def _task_runs(flow_run_id: str) -> list:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline, runs = time.monotonic() + 20, []
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:  # task runs are recorded asynchronously
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)])))
            if len(runs) >= 5:
                break
            time.sleep(0.5)
    return runs


def _flow_run(flow_run_id: str):
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(UUID(flow_run_id))


def test_the_sweep_flow_records_lapses_once_and_reports_them(flow_env, engine, calendar):
    from flows.deadline_sweep import deadline_sweep

    campaign = flow_env
    add_clues(engine, campaign, [NewClue(channel="12345", aspect="profit", summary="乱罚款",
                                         unit="county-a")] * 2,
              actor="sup.city", now=at("2023-03-20"), calendar=calendar)
    units.record_deliverable(engine, campaign, "county-b", "impl_plan", attachment="乙县/方案.pdf",
                             actor="off.b", now=at("2023-04-01"))
    units.advance(engine, campaign, "county-b", actor="off.b", now=at("2023-04-02"))

    first = deadline_sweep(campaign=campaign, as_of=at("2023-04-08 00:05"))
    # county-a and town-c1 missed 动员部署 (due 04-07); both clues passed 10 working days
    assert first.new_lapses == {"stage_deadline": 2, "verify_overdue": 2, "rectify_overdue": 0,
                                "repeated_reject": 0, "no_progress": 0, "check_overdue": 0, "missed_report": 0,
                                "sign_for_overdue": 0,  # the small plan asks for no 签收
                                "callback_overdue": 0}
    run = _flow_run(first.run_key)
    assert run.name == "sweep-smoke-2023-20230408-0005"
    assert run.state.is_completed()
    assert sorted(t.name for t in _task_runs(first.run_key)) == \
        ["find-callback_overdue", "find-check_overdue", "find-missed_report", "find-no_progress",
         "find-rectify_overdue", "find-repeated_reject", "find-sign_for_overdue", "find-stage_deadline",
         "find-verify_overdue"]

    again = deadline_sweep(campaign=campaign, as_of=at("2023-04-08 00:05"))
    assert again.total == 0 and again.run_key != first.run_key
    assert len(_task_runs(again.run_key)) == 9  # the same nine tasks, whatever the data


def test_the_sweep_publishes_a_table_artifact_an_operator_can_read(flow_env, engine):
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.deadline_sweep import deadline_sweep

    campaign = flow_env
    result = deadline_sweep(campaign=campaign, as_of=at("2023-04-08 00:05"))
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["sweep-smoke-2023"])))
    mine = [a for a in arts if str(a.flow_run_id) == result.run_key]
    assert len(mine) == 1 and mine[0].type == "table"
    rows = mine[0].data if isinstance(mine[0].data, list) else __import__("json").loads(mine[0].data)
    assert {(r["unit"], r["kind"], r["new_lapses"]) for r in rows} == \
        {("county-a", "stage_deadline", 1), ("county-b", "stage_deadline", 1),
         ("town-c1", "stage_deadline", 1)}
    assert "3 new lapses" in mine[0].description
