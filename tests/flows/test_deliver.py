"""The delivery flow under a real Prefect API: run name, a task per batch (not
per message), the artifact an operator reads, nothing sent twice."""
from __future__ import annotations

import json
import re
import time

import pytest

from models.db import transaction
from services.campaigns.load import campaign_id
from services.notices import outbox
from statemachine.errors import RunFailed

from ..conftest import at, installed

pytestmark = pytest.mark.prefect


@pytest.fixture
def flow_env(db_url, campaign, prefect_api, tmp_path, smtp_server):
    """Flows take the database and the channels from the runtime installed in
    their process (flows/deps.py)."""
    port, received = smtp_server
    from app.flow_runner import quiet_flows

    quiet_flows()
    with installed(db=db_url, home=tmp_path / "home", smtp_host="127.0.0.1", smtp_port=port,
                   file_drop=tmp_path / "drop"):
        yield campaign, received, tmp_path / "drop"


def _enqueue(engine, campaign, channel, n, recipient):
    cid = campaign_id(engine, campaign)
    with transaction(engine) as conn:
        for i in range(n):
            outbox.enqueue(conn, campaign_id=cid, key=f"case:{i}:issue:{channel}:{recipient}", channel=channel,
                           recipient=recipient, subject=f"催办通知书（整治督〔2023〕{i + 1}号）",
                           body_text=f"正文 {i}", now=at("2023-04-08 00:05"))


def test_the_delivery_flow_sends_in_batches_and_reports(flow_env, engine):
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowFilter, \
        FlowFilterName, FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    from flows.deliver import ARTIFACT_KEY, deliver_outbox

    campaign, received, drop = flow_env
    _enqueue(engine, campaign, "email", 5, "liaison.b@example.org")
    _enqueue(engine, campaign, "file", 4, "county-b")
    _enqueue(engine, campaign, "webhook", 1, "county-b")  # no webhook here: fails, retried later

    # a message that failed (to be retried) fails the run: green only when everything went out
    with pytest.raises(RunFailed) as failed:
        deliver_outbox(as_of=at("2023-04-08 00:10"), batch=4)
    assert re.fullmatch(r"delivery as of 2023-04-08T00:10:00\+08:00: sent 9, 1 failed and wait to be retried "
                        r"\(first: message \d+ \(webhook → county-b\): retry: channel webhook not configured\)",
                        str(failed.value)), str(failed.value)
    r = failed.value.result
    assert (r.sent, r.failed, r.dead, r.batches) == (9, 1, 0, 3)
    [problem] = r.problems
    assert re.fullmatch(r"message \d+ \(webhook → county-b\): retry: channel webhook not configured", problem)
    assert len(received) == 5 and len(list(drop.glob("*.json"))) == 4

    again = deliver_outbox(as_of=at("2023-04-08 00:10"), batch=4)
    assert (again.sent, again.failed, again.batches) == (0, 0, 1)  # the webhook one waits its backoff
    assert len(received) == 5

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["deliver-outbox"])),
                                     sort=FlowRunSort.EXPECTED_START_TIME_ASC)
        run = runs[-2]  # the first of the two above
        assert run.name == "deliver-20230408-0010" and run.state.is_failed()  # was Completed: issue 15
        assert runs[-1].state.is_completed()  # nothing due, nothing failed: green
        # task runs are recorded from events the server takes in its own time: under load, late
        deadline, tasks = time.monotonic() + 90, []
        while time.monotonic() < deadline and len(tasks) < 3:  # task runs are recorded asynchronously
            tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
            time.sleep(0.3)
        assert sorted(t.name for t in tasks) == ["deliver-batch-1", "deliver-batch-2", "deliver-batch-3"]
        arts = [a for a in client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=[ARTIFACT_KEY]))) if a.flow_run_id == run.id]
    assert len(arts) == 1 and arts[0].type == "table"
    rows = arts[0].data if isinstance(arts[0].data, list) else json.loads(arts[0].data)
    assert rows[0]["outcome"] == "retry" and rows[0]["channel"] == "webhook"  # problems first
    assert sorted(row["outcome"] for row in rows) == ["retry"] + ["sent"] * 9
    assert "sent 9, to retry 1, dead 0" in arts[0].description
