"""Delivering notices through the outbox to real peers on loopback: an SMTP
server (aiosmtpd), an HTTP server for webhooks, a folder. Exactly once, even
when a drain dies mid-batch; retries with backoff; dead letters; retry."""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import func, select

from models.db import transaction
from models.tables import OutboxMessage
from notifications.channels import DeliveryError, FileDropChannel, SmtpChannel, WebhookChannel, \
    channels_from_env, message_id
from services import outbox
from services.campaigns import campaign_id
from statemachine.errors import InvalidInput

from ..conftest import at

O = OutboxMessage.__table__


# -- real peers on 127.0.0.1 (the SMTP server is tests/conftest.py's smtp_server) ----
@pytest.fixture
def http_server():
    """Answers with the status at the head of `statuses` (then 200); records requests."""
    seen, statuses = [], []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((dict(self.headers), json.loads(body)))
            self.send_response(statuses.pop(0) if statuses else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/robot", seen, statuses
    finally:
        server.shutdown()
        server.server_close()


def _enqueue(engine, campaign, n, channel="email", recipient="liaison.a@example.org", now=None):
    cid = campaign_id(engine, campaign)
    with transaction(engine) as conn:
        for i in range(n):
            outbox.enqueue(conn, campaign_id=cid, key=f"notice:{i}:{channel}", channel=channel,
                           recipient=recipient, subject=f"关于对甲县的通报批评（整治督〔2023〕{i + 1}号）",
                           body_text=f"正文 {i}", body_html=f"<p>正文 {i}</p>", now=now or at("2023-04-08"))


def _states(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(O.c.state, func.count()).group_by(O.c.state)).all())


def test_each_email_arrives_once_with_its_message_id(engine, campaign, smtp_server):
    port, received = smtp_server
    _enqueue(engine, campaign, 3)
    channels = {"email": SmtpChannel("127.0.0.1", port, sender="督办@example.org")}
    r = outbox.drain(engine, channels, now=at("2023-04-08 10:00"), holder="t")
    assert (r.sent, r.failed, r.dead) == (3, 0, 0)
    assert outbox.drain(engine, channels, now=at("2023-04-09 10:00"), holder="t").sent == 0
    assert sorted(m["Message-ID"] for m in received) == sorted(message_id(f"notice:{i}:email") for i in range(3))
    subject = str(received[0]["Subject"])
    assert subject.startswith("关于对甲县的通报批评（整治督〔2023〕")
    assert received[0].is_multipart() and received[0]["To"] == "liaison.a@example.org"
    assert _states(engine) == {"sent": 3}


class Crash(BaseException):
    """A drain process dying mid-batch (not an Exception: nothing may catch it)."""


def test_a_drain_dying_mid_batch_then_rerun_delivers_each_exactly_once(engine, campaign, smtp_server):
    port, received = smtp_server
    _enqueue(engine, campaign, 10)
    real = SmtpChannel("127.0.0.1", port)

    class DiesOnFifth:
        calls = 0

        def send(self, msg):
            self.calls += 1
            if self.calls == 5:
                raise Crash()
            real.send(msg)

    with pytest.raises(Crash):
        outbox.drain(engine, {"email": DiesOnFifth()}, now=at("2023-04-08 10:00"), holder="dies",
                     lease_seconds=300)
    assert len(received) == 4 and _states(engine) == {"sent": 4, "pending": 6}
    # another drain before the lease ends leaves the dead drain's claims alone
    assert outbox.drain(engine, {"email": real}, now=at("2023-04-08 10:01"), holder="b").sent == 0
    after = outbox.drain(engine, {"email": real}, now=at("2023-04-08 10:06"), holder="b")
    assert after.sent == 6
    ids = [m["Message-ID"] for m in received]
    assert len(ids) == 10 and len(set(ids)) == 10


def test_a_rolled_back_change_sends_nothing(engine, campaign):
    cid = campaign_id(engine, campaign)
    with pytest.raises(RuntimeError):
        with transaction(engine) as conn:
            outbox.enqueue(conn, campaign_id=cid, key="k1", channel="file", recipient="county-a",
                           subject="s", body_text="t", now=at("2023-04-08"))
            raise RuntimeError("the state change failed")
    assert _states(engine) == {}


def test_enqueueing_a_key_twice_keeps_one_message(engine, campaign):
    _enqueue(engine, campaign, 2)
    _enqueue(engine, campaign, 2)
    assert _states(engine) == {"pending": 2}


def test_webhook_failures_back_off_then_go_dead_and_retry_brings_them_back(engine, campaign, http_server):
    url, seen, statuses = http_server
    _enqueue(engine, campaign, 1, channel="webhook", recipient="county-a")
    hook = {"webhook": WebhookChannel(url, style="dingtalk")}
    statuses += [500] * 3
    t = at("2023-04-08 10:00")
    r = outbox.drain(engine, hook, now=t, holder="t", max_attempts=3, backoff_seconds=60)
    assert (r.sent, r.failed) == (0, 1) and "HTTP 500" in r.lines[0][4]
    assert outbox.drain(engine, hook, now=t + timedelta(seconds=59), holder="t").lines == []  # backing off
    assert outbox.drain(engine, hook, now=t + timedelta(seconds=60), holder="t", max_attempts=3).failed == 1
    # second backoff is 120 s
    assert outbox.drain(engine, hook, now=t + timedelta(seconds=179), holder="t").lines == []
    r = outbox.drain(engine, hook, now=t + timedelta(seconds=181), holder="t", max_attempts=3)
    assert r.dead == 1 and _states(engine) == {"dead": 1}
    [m] = outbox.list_messages(engine, state="dead")
    assert m.attempts == 3 and "HTTP 500" in m.last_error
    outbox.retry(engine, str(m.id), now=t + timedelta(hours=1))
    r = outbox.drain(engine, hook, now=t + timedelta(hours=1), holder="t")
    assert r.sent == 1 and _states(engine) == {"sent": 1}
    headers, body = seen[-1]
    assert headers["Idempotency-Key"] == "notice:0:webhook"
    assert body["msgtype"] == "markdown" and body["markdown"]["title"].startswith("关于对甲县的通报批评")
    with pytest.raises(InvalidInput, match="not sent twice"):
        outbox.retry(engine, m.key, now=t + timedelta(hours=2))


def test_wecom_and_generic_bodies():
    from notifications.channels import OutboundMessage

    msg = OutboundMessage("k", "webhook", "county-a", "标题", "正文", "<p>正文</p>")
    assert WebhookChannel("http://x", style="wecom").body(msg) == {
        "msgtype": "markdown", "markdown": {"content": "### 标题\n\n正文"}}
    assert WebhookChannel("http://x").body(msg)["html"] == "<p>正文</p>"


def test_an_unconfigured_channel_fails_the_message_with_a_reason(engine, campaign):
    _enqueue(engine, campaign, 1)
    r = outbox.drain(engine, {}, now=at("2023-04-08"), holder="t")
    assert r.lines[0][3:] == ("retry", "channel email not configured")


def test_the_file_drop_writes_each_message_once(tmp_path, engine, campaign):
    _enqueue(engine, campaign, 2, channel="file", recipient="county-a")
    drop = {"file": FileDropChannel(tmp_path / "drop")}
    assert outbox.drain(engine, drop, now=at("2023-04-08"), holder="t").sent == 2
    files = sorted((tmp_path / "drop").iterdir())
    assert [f.name for f in files] == ["notice_0_file.json", "notice_1_file.json"]
    before = files[0].stat().st_mtime_ns
    FileDropChannel(tmp_path / "drop").send(__import__("notifications.channels", fromlist=["x"])
                                            .OutboundMessage("notice:0:file", "file", "x", "s", "other"))
    assert files[0].stat().st_mtime_ns == before  # the same key is never rewritten
    assert json.loads(files[0].read_text(encoding="utf-8"))["text"] == "正文 0"


def test_channels_come_from_the_environment(tmp_path):
    got = channels_from_env({"RECTIFY_SMTP_HOST": "127.0.0.1", "RECTIFY_SMTP_PORT": "2525",
                             "RECTIFY_WEBHOOK_URL": "http://127.0.0.1:9/x", "RECTIFY_WEBHOOK_STYLE": "wecom",
                             "RECTIFY_FILE_DROP": str(tmp_path)})
    assert set(got) == {"email", "webhook", "file"} and got["email"].port == 2525
    assert channels_from_env({}) == {}


def test_an_smtp_server_that_is_down_is_a_delivery_error():
    from notifications.channels import OutboundMessage

    with pytest.raises(DeliveryError, match="smtp 127.0.0.1:9"):
        SmtpChannel("127.0.0.1", 9, timeout=2).send(OutboundMessage("k", "email", "a@b", "s", "t"))
