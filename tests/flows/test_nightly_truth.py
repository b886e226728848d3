"""The nightly run tells the truth (issue 15), under a real Prefect API and a real HTTP
webhook that refuses every message: a delivery failure, a message gone dead and
notices issued with no channel end the run Failed after every other step did its
work; the artifacts an operator reads have one row per case, in Chinese, with the
文号 and the due date, and a table of what waits for a person; runs started here
carry the campaign's tag."""
from __future__ import annotations

import json
import re
import time

import pytest
from sqlalchemy import func, select, update

from models.tables import EscalationCase, Notice, OutboxMessage
from services.campaigns.load import campaign_id
from services.notices.undelivered import undelivered
from statemachine.errors import RunFailed

from ..conftest import at, installed
from .test_clock_boundary import _latest_run, _logs

pytestmark = pytest.mark.prefect

NIGHT = at("2023-04-08 00:05")  # the deploy stage ended 04-07: every county lapses, 通报批评 goes out


@pytest.fixture
def refusing_webhook():
    """A real HTTP receiver on 127.0.0.1 that answers every POST 503; yields (url, requests seen)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    seen: list[str] = []

    class Refuse(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append(self.headers.get("Idempotency-Key", ""))
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/robot", seen
    finally:
        server.shutdown()
        server.server_close()


def _artifact(key: str, flow_run_id):
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    deadline = time.monotonic() + 20
    with get_client(sync_client=True) as client:
        while True:  # artifacts travel as events: recorded asynchronously
            arts = [a for a in client.read_artifacts(artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[key]))) if a.flow_run_id == flow_run_id]
            if arts or time.monotonic() > deadline:
                break
            time.sleep(0.3)
    assert len(arts) == 1, f"no artifact {key} for run {flow_run_id}"
    data = arts[0].data
    return arts[0], (data if isinstance(data, list) else json.loads(data))


def test_failed_and_dead_messages_fail_the_night_after_every_step(campaign, engine, db_url, prefect_api,
                                                                   tmp_path, refusing_webhook):
    from app.flow_runner import quiet_flows, run_enforcement
    from flows.deliver import deliver_outbox

    url, seen = refusing_webhook
    quiet_flows()
    with installed(db=db_url, home=tmp_path / "home", webhook_url=url):
        with pytest.raises(RunFailed) as e:
            run_enforcement(campaign, NIGHT)
    msg = str(e.value)
    assert "\n" not in msg and e.value.failed == ("delivery",), msg
    assert re.match(r"\d+ messages failed and wait to be retried \(message \d+ \(webhook → county-\w\): retry: webhook http://127\.0\.0\.1:\d+/robot: HTTP 503\)", msg), msg
    assert msg.endswith(" — nightly run of smoke-2023 as of 2023-04-08 00:05: delivery failed; "
                        f"sweep, calendar check, escalation, reports, witness ran (messages sent 0, "
                        f"failed {len(seen)})"), msg
    # every other step did its work: lapses, cases and their notices are there
    result = e.value.result
    with engine.connect() as conn:
        notices = conn.execute(select(func.count()).select_from(Notice)).scalar_one()
        pending = conn.execute(select(func.count()).select_from(OutboxMessage)
                               .where(OutboxMessage.state == "pending")).scalar_one()
    assert result.sweep.total > 0 and notices > 0
    assert result.failed == pending == len(seen) > 0 and result.delivered == 0

    run = _latest_run("daily-enforcement")
    assert run.state.is_failed(), run.state  # the UI's "failed" count, not a green Completed
    assert run.name == "enforce-smoke-2023-20230408-0005"  # named like the deployment's runs
    assert {"rectify", "campaign:smoke-2023"} <= set(run.tags), run.tags
    # the logs state the night's facts
    assert _logs(str(run.id), level=20, containing="sweep of smoke-2023 as of 2023-04-08T00:05:00+08:00: "
                                                   f"{result.sweep.total} new lapses")
    assert _logs(str(run.id), level=40, containing="delivery needs attention: ")

    # the escalation artifact: one row per case, the cause in Chinese, 文号, due date, state
    art, rows = _artifact("escalation-smoke-2023", run.id)
    with engine.connect() as conn:
        cases = conn.execute(select(EscalationCase.id, EscalationCase.state)).all()
    assert sorted(r["案件"] for r in rows) == sorted(c.id for c in cases)  # each once
    for row in rows:
        assert row["措施"] == "通报批评" and row["本次"] == "已下发通知", row  # issued by itself, not 拟督办
        assert re.fullmatch(r"整治督〔2023〕\d+号", row["文号"]), row
        assert re.fullmatch(r"2023-0[45]-\d\d", row["回复时限"]), row
        assert row["状态"] == "已下发" and row["问题"] == "未按期完成阶段任务", row
    assert f"{len(cases)} cases, one row each: 已下发通知 {len(cases)}" in art.description
    assert _artifact("outbox-delivery-smoke-2023", run.id)[1][0]["outcome"] == "retry"
    waiting, _ = _artifact("waiting-smoke-2023", run.id)
    assert "nothing waits" in waiting.description

    # four attempts failed before: the fifth makes them dead, and the delivery run says so
    with engine.begin() as conn:
        conn.execute(update(OutboxMessage.__table__).values(attempts=4))
    with installed(db=db_url, home=tmp_path / "home", webhook_url=url):
        with pytest.raises(RunFailed) as dead:
            deliver_outbox(as_of=at("2023-04-08 00:30"))
    assert f"sent 0, {pending} went dead (first: message " in str(dead.value), str(dead.value)
    assert _latest_run("deliver-outbox").state.is_failed()
    left = undelivered(engine, campaign_id(engine, campaign), configured=("webhook",))
    assert (left.dead, left.unroutable, left.unsent_notices) == (pending, 0, 0)
    assert left.first_error.endswith(": HTTP 503")

    # the next night has nothing new to send, and is still not green while they lie dead
    with installed(db=db_url, home=tmp_path / "home", webhook_url=url):
        with pytest.raises(RunFailed) as still:
            run_enforcement(campaign, at("2023-04-09 00:05"))
    assert str(still.value).startswith(f"{pending} messages dead (last error: "), str(still.value)
    assert "see 'rectify outbox list --state dead', then 'rectify outbox retry --dead'" in str(still.value)


def test_notices_issued_with_no_channel_fail_the_night(campaign, engine, db_url, prefect_api, tmp_path):
    from app.flow_runner import quiet_flows, run_enforcement

    quiet_flows()
    with installed(db=db_url, home=tmp_path / "home"):  # no SMTP, no webhook, no file drop
        with pytest.raises(RunFailed) as e:
            run_enforcement(campaign, NIGHT)
    with engine.connect() as conn:
        notices = conn.execute(select(func.count()).select_from(Notice)).scalar_one()
        messages = conn.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
    assert notices > 0 and messages == 0
    assert str(e.value).startswith(f"{notices} notices never queued for delivery: no channel configured "
                                   "reaches their addressee (RECTIFY_SMTP_HOST, RECTIFY_WEBHOOK_URL or "
                                   "RECTIFY_FILE_DROP) — nightly run of smoke-2023"), str(e.value)
    assert _latest_run("daily-enforcement").state.is_failed()
