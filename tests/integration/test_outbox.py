"""Delivering notices through the outbox to real peers on loopback: an SMTP
server (aiosmtpd), an HTTP server for webhooks, a folder. Each message once,
even when a drain dies mid-batch; retries with backoff; dead letters; retry.
SQLite and PostgreSQL."""
from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import func, select

from models.db import transaction
from models.tables import OutboxMessage
from notifications.delivery.channels import DeliveryError, FileDropChannel, OutboundMessage, SmtpChannel, \
    WebhookChannel, message_id
from services.campaigns.load import campaign_id
from services.notices import outbox
from statemachine.errors import InvalidInput, NotFound

from ..conftest import at

O = OutboxMessage.__table__
T0 = at("2023-04-08 10:00")


# -- real peers on 127.0.0.1 (the SMTP server is tests/conftest.py's smtp_server) ----
@pytest.fixture
def http_server():
    """Answers each POST with the (status, JSON body) at the head of `answers`
    (then 200 and no body); records (headers, JSON) of every request."""
    seen, answers = [], []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((dict(self.headers), json.loads(body)))
            status, payload = answers.pop(0) if answers else (200, None)
            data = json.dumps(payload).encode() if payload is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/robot/send", seen, answers
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _key(i: int, channel: str = "email") -> str:
    return f"case:{i}:issue:{channel}:liaison.a@example.org"


def _enqueue(engine, campaign, n, channel="email", recipient="liaison.a@example.org", now=T0) -> list[bool]:
    cid = campaign_id(engine, campaign)
    with transaction(engine) as conn:
        return [outbox.enqueue(conn, campaign_id=cid, key=_key(i, channel), channel=channel,
                               recipient=recipient, subject=f"关于对甲县的通报批评（整治督〔2023〕{i + 1}号）",
                               body_text=f"甲县：\n    正文 {i}\n", body_html=f"<p>正文 {i}</p>", now=now)
                for i in range(n)]


def _states(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(O.c.state, func.count()).group_by(O.c.state)).all())


# -- queueing -----------------------------------------------------------------------
def test_a_rolled_back_change_sends_nothing(engine, campaign):
    cid = campaign_id(engine, campaign)
    with pytest.raises(RuntimeError):
        with transaction(engine) as conn:
            assert outbox.enqueue(conn, campaign_id=cid, key="k1", channel="file", recipient="county-a",
                                  subject="s", body_text="t", now=T0)
            raise RuntimeError("the state change failed")
    assert _states(engine) == {}
    assert outbox.drain(engine, {"file": FileDropChannel("/nonexistent")}, now=T0, holder="t").lines == []


def test_enqueueing_a_key_twice_keeps_one_message(engine, campaign):
    assert _enqueue(engine, campaign, 2) == [True, True]
    assert _enqueue(engine, campaign, 2) == [False, False]
    assert _states(engine) == {"pending": 2}


def test_a_key_too_long_for_its_column_is_refused_on_both_databases(engine, campaign):
    with pytest.raises(InvalidInput, match="outbox key must be 1 to 200 characters"):
        with transaction(engine) as conn:
            outbox.enqueue(conn, campaign_id=None, key="k" * 201, channel="file", recipient="x",
                           subject="s", body_text="t", now=T0)
    assert _states(engine) == {}


# -- e-mail -------------------------------------------------------------------------
def test_each_email_arrives_once_with_its_message_id_and_utf8_subject(engine, campaign, smtp_server):
    port, received = smtp_server
    _enqueue(engine, campaign, 3)
    channels = {"email": SmtpChannel("127.0.0.1", port, sender="督办科 <duban@example.org>")}
    r = outbox.drain(engine, channels, now=T0, holder="t")
    assert (r.sent, r.failed, r.dead) == (3, 0, 0)
    assert outbox.drain(engine, channels, now=T0 + timedelta(days=1), holder="t").lines == []
    assert sorted(m["Message-ID"] for m in received) == sorted(message_id(_key(i)) for i in range(3))
    first = next(m for m in received if m["Message-ID"] == message_id(_key(0)))
    assert str(first["Subject"]) == "关于对甲县的通报批评（整治督〔2023〕1号）"
    assert first["To"] == "liaison.a@example.org" and first.get_content_type() == "multipart/alternative"
    # SMTP carries lines ending in CRLF
    assert first.get_body(("plain",)).get_content().replace("\r\n", "\n") == "甲县：\n    正文 0\n"
    assert first.get_body(("html",)).get_content().strip() == "<p>正文 0</p>"
    assert _states(engine) == {"sent": 3}
    [m] = [m for m in outbox.list_messages(engine, state="sent") if m.key == _key(0)]
    assert m.attempts == 1 and m.sent_at == T0 and m.claimed_by is None


def test_message_ids_of_different_keys_differ_even_when_their_characters_do_not_fit():
    ids = {message_id(k) for k in ("a:b", "a_b", "a.b", "a/b", "甲:b")}
    assert len(ids) == 5 and all(i.startswith("<") and i.endswith("@rectify>") for i in ids)
    assert message_id("plain-key.1") == "<plain-key.1@rectify>"


class Crash(BaseException):
    """A drain process dying mid-batch (not an Exception: nothing may catch it)."""


def test_a_drain_dying_mid_batch_then_rerun_delivers_each_exactly_once(engine, campaign, smtp_server):
    port, received = smtp_server
    _enqueue(engine, campaign, 10)
    real = SmtpChannel("127.0.0.1", port)

    class DiesBeforeTheFifth:
        """Sends four for real; the process dies as the fifth send begins
        (after the fourth was recorded, before the fifth left)."""
        calls = 0

        def send(self, msg):
            self.calls += 1
            if self.calls == 5:
                raise Crash()
            real.send(msg)

    with pytest.raises(Crash):
        outbox.drain(engine, {"email": DiesBeforeTheFifth()}, now=T0, holder="dies", lease_seconds=300)
    assert len(received) == 4 and _states(engine) == {"sent": 4, "pending": 6}
    # another drain before the lease ends leaves the dead drain's claims alone
    assert outbox.drain(engine, {"email": real}, now=T0 + timedelta(minutes=1), holder="b").lines == []
    assert len(received) == 4
    after = outbox.drain(engine, {"email": real}, now=T0 + timedelta(minutes=6), holder="b")
    assert (after.sent, after.failed) == (6, 0)
    assert sorted(m["Message-ID"] for m in received) == sorted(message_id(_key(i)) for i in range(10))
    assert _states(engine) == {"sent": 10}


def test_a_late_failure_report_never_revives_a_message_another_drain_sent(engine, campaign, smtp_server):
    """Drain A's lease runs out while its peer hangs; drain B sends the message;
    then A's send fails. The message stays sent, once."""
    port, received = smtp_server
    _enqueue(engine, campaign, 1)
    real = {"email": SmtpChannel("127.0.0.1", port)}

    class HangsThenFails:
        def send(self, msg):
            assert outbox.drain(engine, real, now=T0 + timedelta(minutes=10), holder="B").sent == 1
            raise DeliveryError("smtp: timed out")

    r = outbox.drain(engine, {"email": HangsThenFails()}, now=T0, holder="A")
    assert r.lines[0].outcome == "retry"  # A saw its failure …
    [m] = outbox.list_messages(engine)
    assert (m.state, m.attempts, m.last_error) == ("sent", 1, None)  # … but the record is B's
    assert len(received) == 1
    assert outbox.drain(engine, real, now=T0 + timedelta(days=1), holder="C").lines == []


def test_a_drain_whose_lease_runs_out_gives_the_rest_back(engine, campaign, tmp_path):
    _enqueue(engine, campaign, 4, channel="file")
    drop = FileDropChannel(tmp_path / "drop")

    class Slow:
        def send(self, msg):
            time.sleep(0.3)
            drop.send(msg)

    r = outbox.drain(engine, {"file": Slow()}, now=T0, holder="slow", lease_seconds=0.5)
    assert (r.sent, r.released) == (1, 3) and [ln.outcome for ln in r.lines] == ["sent"] + ["released"] * 3
    # given back, not left claimed: the next drain takes them at once, same instant
    r = outbox.drain(engine, {"file": drop}, now=T0, holder="next")
    assert r.sent == 3 and _states(engine) == {"sent": 4}
    assert len(list((tmp_path / "drop").glob("*.json"))) == 4


def test_a_faulty_channel_fails_its_message_not_the_batch(engine, campaign, tmp_path):
    _enqueue(engine, campaign, 2, channel="file")
    drop = FileDropChannel(tmp_path)

    class Buggy:
        def send(self, msg):
            if msg.key == _key(0, "file"):
                raise KeyError("template")
            drop.send(msg)

    r = outbox.drain(engine, {"file": Buggy()}, now=T0, holder="t")
    assert (r.sent, r.failed) == (1, 1) and r.lines[0].error == "KeyError: 'template'"


def test_an_unconfigured_channel_fails_the_message_with_a_reason(engine, campaign):
    _enqueue(engine, campaign, 1)
    r = outbox.drain(engine, {}, now=T0, holder="t")
    assert (r.lines[0].outcome, r.lines[0].error) == ("retry", "channel email not configured")
    [m] = outbox.list_messages(engine)
    assert m.last_error == "channel email not configured" and m.next_attempt_at == T0 + timedelta(seconds=60)


def test_an_smtp_server_that_is_down_is_a_delivery_error():
    with pytest.raises(DeliveryError, match="^smtp 127.0.0.1:9: "):
        SmtpChannel("127.0.0.1", 9, timeout=2).send(OutboundMessage("k", "email", "a@b", "s", "t"))


def test_a_line_break_in_a_header_is_refused_not_injected():
    with pytest.raises(DeliveryError, match="bad header"):
        SmtpChannel("127.0.0.1", 9).send(OutboundMessage("k", "email", "a@b\r\nBcc: x@y", "s", "t"))


# -- webhooks -----------------------------------------------------------------------
def test_webhook_failures_back_off_then_go_dead_and_retry_brings_them_back(engine, campaign, http_server):
    url, seen, answers = http_server
    _enqueue(engine, campaign, 1, channel="webhook", recipient="county-a")
    hook = {"webhook": WebhookChannel(url + "?access_token=SECRET", style="dingtalk")}
    answers += [(500, None)] * 3
    r = outbox.drain(engine, hook, now=T0, holder="t", max_attempts=3, backoff_seconds=60)
    assert (r.sent, r.failed) == (0, 1) and r.lines[0].error == f"webhook {url}: HTTP 500"  # no token
    assert outbox.drain(engine, hook, now=T0 + timedelta(seconds=59), holder="t").lines == []  # backing off
    assert outbox.drain(engine, hook, now=T0 + timedelta(seconds=60), holder="t", max_attempts=3).failed == 1
    # the second backoff is 120 s
    assert outbox.drain(engine, hook, now=T0 + timedelta(seconds=179), holder="t").lines == []
    r = outbox.drain(engine, hook, now=T0 + timedelta(seconds=180), holder="t", max_attempts=3)
    assert r.dead == 1 and _states(engine) == {"dead": 1} and len(seen) == 3
    assert outbox.drain(engine, hook, now=T0 + timedelta(days=30), holder="t").lines == []  # dead stays dead
    [m] = outbox.list_messages(engine, state="dead")
    assert m.attempts == 3 and "HTTP 500" in m.last_error and "SECRET" not in m.last_error

    back = outbox.retry(engine, str(m.id), now=T0 + timedelta(hours=1))
    assert (back.state, back.attempts, back.last_error) == ("pending", 0, m.last_error)
    answers.append((200, {"errcode": 0, "errmsg": "ok"}))
    r = outbox.drain(engine, hook, now=T0 + timedelta(hours=1), holder="t")
    assert r.sent == 1 and _states(engine) == {"sent": 1}
    headers, body = seen[-1]
    assert headers["Idempotency-Key"] == _key(0, "webhook")
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "关于对甲县的通报批评（整治督〔2023〕1号）"
    # markdown paragraphs, not a four-space indented code block
    assert body["markdown"]["text"] == "### 关于对甲县的通报批评（整治督〔2023〕1号）\n\n甲县：\n\n正文 0"
    with pytest.raises(InvalidInput, match="not sent twice"):
        outbox.retry(engine, m.key, now=T0 + timedelta(hours=2))


def test_a_robot_refusing_with_an_errcode_is_a_failure(engine, campaign, http_server):
    url, seen, answers = http_server
    _enqueue(engine, campaign, 1, channel="webhook", recipient="county-a")
    answers.append((200, {"errcode": 310000, "errmsg": "keywords not in content"}))
    r = outbox.drain(engine, {"webhook": WebhookChannel(url, style="wecom")}, now=T0, holder="t")
    assert r.lines[0].error == f"webhook {url}: errcode 310000: keywords not in content"
    assert set(seen[0][1]) == {"msgtype", "markdown"} and set(seen[0][1]["markdown"]) == {"content"}


def test_the_generic_webhook_posts_the_whole_message(engine, campaign, http_server):
    url, seen, _ = http_server
    _enqueue(engine, campaign, 1, channel="webhook", recipient="county-a")
    assert outbox.drain(engine, {"webhook": WebhookChannel(url)}, now=T0, holder="t").sent == 1
    headers, body = seen[0]
    assert headers["Idempotency-Key"] == _key(0, "webhook")
    assert body == {"key": _key(0, "webhook"), "recipient": "county-a",
                    "subject": "关于对甲县的通报批评（整治督〔2023〕1号）", "text": "甲县：\n    正文 0\n",
                    "html": "<p>正文 0</p>"}


def test_a_webhook_nobody_listens_on_is_a_delivery_error():
    with pytest.raises(DeliveryError, match="^webhook http://127.0.0.1:9/x: ConnectError"):
        WebhookChannel("http://127.0.0.1:9/x?key=SECRET", timeout=2).send(
            OutboundMessage("k", "webhook", "county-a", "s", "t"))


def test_wecom_markdown_is_cut_to_the_robot_limit():
    msg = OutboundMessage("k", "webhook", "county-a", "标题", "    问题。\n" * 2000)
    content = WebhookChannel("http://x", style="wecom").body(msg)["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096 and content.endswith("请以正式文件为准）")


# -- the file drop --------------------------------------------------------------------
def test_the_file_drop_writes_each_message_once(tmp_path, engine, campaign):
    _enqueue(engine, campaign, 2, channel="file", recipient="county-a")
    folder = tmp_path / "drop"
    drop = FileDropChannel(folder)
    assert outbox.drain(engine, {"file": drop}, now=T0, holder="t").sent == 2
    files = sorted(folder.iterdir())
    assert files == sorted(drop.path_of(_key(i, "file")) for i in range(2))  # no temporary files left
    before = files[0].read_bytes(), files[0].stat().st_mtime_ns
    for f in files:
        assert json.loads(f.read_text(encoding="utf-8"))["key"] in (_key(0, "file"), _key(1, "file"))
    # a repeat (a re-send after a crash) leaves the delivered file as it was
    again = json.loads(before[0])
    drop.send(OutboundMessage(again["key"], "file", "x", "s", "another text"))
    assert (files[0].read_bytes(), files[0].stat().st_mtime_ns) == before
    assert len(list(folder.iterdir())) == 2


def test_file_names_of_keys_that_differ_only_in_odd_characters_differ(tmp_path):
    drop = FileDropChannel(tmp_path)
    for key in ("notice:1", "notice_1", "notice/1"):
        drop.send(OutboundMessage(key, "file", "x", "s", key))
    assert sorted(json.loads(p.read_text(encoding="utf-8"))["text"] for p in tmp_path.iterdir()) == \
        ["notice/1", "notice:1", "notice_1"]
    assert all(p.parent == tmp_path for p in tmp_path.iterdir())  # '/' never leaves the folder


def test_an_unwritable_drop_is_a_delivery_error(tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(DeliveryError, match="^file drop "):
        FileDropChannel(tmp_path / "taken").send(OutboundMessage("k", "file", "x", "s", "t"))


# -- what operators do ----------------------------------------------------------------
def test_retry_by_key_and_every_dead_message(engine, campaign):
    _enqueue(engine, campaign, 3)
    assert outbox.drain(engine, {}, now=T0, holder="t", max_attempts=1).dead == 3
    assert outbox.counts(engine) == {"pending": 0, "sent": 0, "dead": 3}
    assert outbox.retry(engine, _key(1), now=T0 + timedelta(hours=1)).state == "pending"
    assert outbox.retry_dead(engine, now=T0 + timedelta(hours=1)) == 2
    assert outbox.retry_dead(engine, now=T0 + timedelta(hours=1)) == 0
    assert {(m.state, m.attempts, m.next_attempt_at) for m in outbox.list_messages(engine)} == \
        {("pending", 0, T0 + timedelta(hours=1))}


def test_retry_refuses_unknown_and_in_flight_messages(engine, campaign):
    _enqueue(engine, campaign, 1)

    class Peeks:
        def send(self, msg):
            with pytest.raises(InvalidInput, match="is being delivered by peek"):
                outbox.retry(engine, msg.key, now=T0)
            raise DeliveryError("no")

    outbox.drain(engine, {"email": Peeks()}, now=T0, holder="peek")
    with pytest.raises(NotFound, match="^unknown message '999' \\(see 'rectify outbox list'\\)$"):
        outbox.get_message(engine, "999")
    with pytest.raises(InvalidInput, match="--state: 'done' is not one of pending, sent, dead"):
        outbox.list_messages(engine, state="done")


def test_two_drains_at_once_send_each_message_once(engine, campaign, tmp_path):
    _enqueue(engine, campaign, 24, channel="file")
    sent: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(2)

    class Records:
        def send(self, msg):
            time.sleep(0.005)
            with lock:
                sent.append(msg.key)

    def run(holder):
        start.wait()
        while outbox.drain(engine, {"file": Records()}, now=T0, holder=holder, batch=4).lines:
            pass

    threads = [threading.Thread(target=run, args=(h,)) for h in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(sent) == sorted(_key(i, "file") for i in range(24))
    assert _states(engine) == {"sent": 24}
