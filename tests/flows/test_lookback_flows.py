"""The open-round and close-round flows under a real Prefect API: run names, a
fixed handful of tasks, artifacts an operator reads, re-runs that change
nothing, and refusals that fail at once instead of being retried."""
from __future__ import annotations

import json
import time
from uuid import UUID

import pytest

from services.lookback import checks as round_checks, rounds
from statemachine.errors import PermissionDenied

from ..conftest import at, installed
from ..integration.test_lookback import closed_items, record, spec

pytestmark = pytest.mark.prefect


@pytest.fixture
def flow_env(db_url, campaign, prefect_api, tmp_path):
    from app.flow_runner import quiet_flows

    quiet_flows()
    with installed(db=db_url, home=tmp_path / "home"):  # no delivery channel
        yield campaign


def _run(flow_run_id: str, want_tasks: int):
    """(flow run, its task runs), waiting for the task runs to be recorded."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(flow_run_id))
        deadline, tasks = time.monotonic() + 20, []
        while time.monotonic() < deadline:
            tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
            if len(tasks) >= want_tasks:
                break
            time.sleep(0.5)
        return run, tasks


def _failed_run(name: str):
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])),
                                     sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=1)
    return _run(str(runs[0].id), 1)


def _artifact(key: str, flow_run_id: str):
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
    mine = [a for a in arts if str(a.flow_run_id) == flow_run_id]
    assert len(mine) == 1, f"artifact {key} of run {flow_run_id}: {len(mine)}"
    return mine[0]


def test_opening_and_closing_a_round_are_flows_with_artifacts(flow_env, engine, calendar):
    from flows.lookback import close_round, open_round

    campaign = flow_env
    closed_items(engine, campaign, calendar, {"county-a": 3, "county-b": 2})
    rounds.plan_round(engine, campaign, spec(), actor="sup.city", now=at("2023-08-24"))

    opened = open_round(campaign=campaign, code="lb-1", actor="sup.city", as_of=at("2023-08-24 10:00"))
    assert (opened.drawn.selected, opened.notified.state) == (5, "open")
    run, tasks = _run(opened.flow_run_id, 2)
    assert run.name == "round-open-smoke-2023-lb-1-20230824-1000" and run.state.is_completed()
    assert sorted(t.name for t in tasks) == ["draw-lb-1", "notify-lb-1"]
    rows = _artifact("round-open-smoke-2023-lb-1", opened.flow_run_id).data
    rows = rows if isinstance(rows, list) else json.loads(rows)
    assert {(r["unit"], r["selected"]) for r in rows} == {("county-a", 3), ("county-b", 2)}

    again = open_round(campaign=campaign, code="lb-1", actor="sup.city", as_of=at("2023-08-25 10:00"))
    assert again.drawn.already and again.notified.already

    checks = sorted(round_checks.list_checks(engine, campaign, "lb-1"), key=lambda c: c.number)
    record(engine, campaign, calendar, checks[0], "relapsed")
    record(engine, campaign, calendar, checks[1], "confirmed")
    closed = close_round(campaign=campaign, code="lb-1", actor="sup.city", as_of=at("2023-09-16 10:00"))
    assert closed.missed == 3 and [r.note for r in closed.reopened] == ["reopened"]
    run, tasks = _run(closed.flow_run_id, 4)
    assert run.name == "round-close-smoke-2023-lb-1-20230916-1000"
    assert sorted(t.name for t in tasks) == ["begin-close-lb-1", "escalate-lb-1", "finish-lb-1", "reopen-lb-1"]
    art = _artifact("round-close-smoke-2023-lb-1", closed.flow_run_id)
    rows = art.data if isinstance(art.data, list) else json.loads(art.data)
    unit_a = next(r for r in rows if r["unit"] == checks[0].unit)
    assert unit_a["relapsed"] == 1 and unit_a["relapse_rate"] == \
        f"{1 / unit_a['checked']:.1%}"
    assert "1 relapsed" in art.description and "1 items reopened" in art.description

    rerun = close_round(campaign=campaign, code="lb-1", actor="sup.city", as_of=at("2023-09-17 10:00"))
    assert (rerun.missed, rerun.reopened, rerun.cases) == (0, [], [])
    assert rerun.tally == closed.tally


def test_a_refused_open_fails_once_without_retries(flow_env, engine, calendar):
    from flows.lookback import open_round

    campaign = flow_env
    rounds.plan_round(engine, campaign, spec(teams=[]), actor="sup.city", now=at("2023-08-24"))
    with pytest.raises(PermissionDenied):
        open_round(campaign=campaign, code="lb-1", actor="off.a", as_of=at("2023-08-24 11:00"))
    run, tasks = _failed_run("round-open-smoke-2023-lb-1-20230824-1100")
    assert run.state.is_failed()
    assert [t.run_count for t in tasks] == [1]  # a refusal is not retried
    assert rounds.get_round(engine, campaign, "lb-1").state == "planned"
