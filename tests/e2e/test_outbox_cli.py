"""The outbox from the command line: list, show, retry, deliver; refusals are
one line. The real `rectify` script."""
from __future__ import annotations

import pytest

from models.db import transaction
from notifications.delivery.channels import FileDropChannel, message_id
from services.campaigns.load import campaign_id
from services.notices import outbox

from ..conftest import at
from .conftest import assert_one_line_error


def _queue(engine, campaign, tmp_path) -> dict[str, str]:
    """Two e-mails gone dead, one file delivered; returns their keys."""
    cid = campaign_id(engine, campaign)
    keys = {"a": "case:1:issue:email:liaison.a@example.org", "b": "case:2:issue:email:leader.b@example.org",
            "f": "case:1:issue:file:county-a"}
    with transaction(engine) as conn:
        for name, key in keys.items():
            outbox.enqueue(conn, campaign_id=cid, key=key, channel="file" if name == "f" else "email",
                           recipient=key.rsplit(":", 1)[1], subject=f"关于对甲县的通报批评（整治督〔2023〕{name}号）",
                           body_text=f"甲县交通运输局：\n    正文 {name}\n", body_html="<p>正文</p>",
                           now=at("2023-04-08 00:05"))
    outbox.drain(engine, {"file": FileDropChannel(tmp_path / "drop")}, now=at("2023-04-08 00:10"),
                 holder="t", max_attempts=1)
    return keys


def test_operators_list_show_and_retry_messages(cli, engine, campaign, tmp_path):
    keys = _queue(engine, campaign, tmp_path)
    ids = {m.key: m.id for m in outbox.list_messages(engine)}
    # read-only commands at once (a command costs ~1 s of start-up)
    listed, dead, table, shown, html = cli.parallel(
        ("outbox", "list", "--json"), ("outbox", "list", "--state", "dead", "--json"),
        ("outbox", "list", "--state", "dead"), ("outbox", "show", keys["a"]),
        ("outbox", "show", str(ids[keys["f"]]), "--html"))
    assert [(m["key"], m["state"]) for m in listed.json()] == [(keys["f"], "sent"), (keys["b"], "dead"),
                                                               (keys["a"], "dead")]  # newest first
    assert "body_text" not in listed.json()[0] and listed.json()[1]["last_error"] == "channel email not configured"
    assert [m["key"] for m in dead.json()] == [keys["b"], keys["a"]]
    assert "leader.b@example.org" in table.stdout and "channel email not configured" in table.stdout
    shown = shown.stdout
    assert f"message {ids[keys['a']]} · dead · email → liaison.a@example.org · attempts 1" in shown
    assert f"Message-ID: {message_id(keys['a'])}" in shown
    assert "subject: 关于对甲县的通报批评（整治督〔2023〕a号）" in shown
    assert shown.endswith("甲县交通运输局：\n    正文 a\n\n")  # the text body, as sent
    assert "<p>正文</p>" in html.stdout

    assert f"message {ids[keys['a']]} queued again (email → liaison.a@example.org)" in \
        cli.ok("outbox", "retry", str(ids[keys["a"]]), "--now", "2023-04-09 10:00").stdout
    assert "1 dead messages queued again" in cli.ok("outbox", "retry", "--dead").stdout
    pending, refused, sent = cli.parallel(("outbox", "list", "--state", "pending", "--json"),
                                          ("outbox", "retry", keys["f"]),
                                          ("outbox", "list", "--state", "sent", "--json"))
    assert {m["key"] for m in pending.json()} == {keys["a"], keys["b"]}
    assert {m["attempts"] for m in pending.json()} == {0}
    assert_one_line_error(refused)
    assert "not sent twice" in refused.stderr
    assert [m["key"] for m in sent.json()] == [keys["f"]]


REFUSALS = [
    (("outbox", "show", "999"), "unknown message '999' (see 'rectify outbox list')"),
    (("outbox", "retry", "no:such:key"), "unknown message 'no:such:key' (see 'rectify outbox list')"),
    (("outbox", "retry"), "say which: a message id or key, or --dead"),
    (("outbox", "retry", "1", "--dead"), "say which: a message id or key, or --dead"),
    (("outbox", "list", "--state", "done"), "--state: 'done' is not one of pending, sent, dead"),
    (("outbox", "deliver"), "no delivery channel configured (RECTIFY_SMTP_HOST, RECTIFY_WEBHOOK_URL "
                            "or RECTIFY_FILE_DROP): nothing sent"),
]


def test_refusals_are_one_line(cli, campaign):
    results = cli.parallel(*(args for args, _ in REFUSALS))
    for r, (_, message) in zip(results, REFUSALS):
        assert_one_line_error(r)
        assert r.stderr.strip() == f"rectify: error: {message}", str(r)
    bad_port = {"RECTIFY_SMTP_HOST": "127.0.0.1", "RECTIFY_SMTP_PORT": "smtp"}
    assert cli.fail("outbox", "deliver", env=bad_port) == "RECTIFY_SMTP_PORT: 'smtp' is not a port number"


@pytest.mark.slow
def test_deliver_sends_what_is_due_through_the_flow(cli, engine, campaign, tmp_path, prefect_api, smtp_server):
    port, received = smtp_server
    keys = _queue(engine, campaign, tmp_path)
    env = {"PREFECT_API_URL": prefect_api, "RECTIFY_SMTP_HOST": "127.0.0.1", "RECTIFY_SMTP_PORT": str(port)}
    cli.ok("outbox", "retry", "--dead", "--now", "2023-04-09 09:00")
    r = cli.ok("outbox", "deliver", "--now", "2023-04-09 09:01", env=env, timeout=120)
    assert "delivered 2, to retry 0, dead 0" in r.stdout, str(r)
    assert sorted(m["Message-ID"] for m in received) == sorted(message_id(keys[k]) for k in "ab")
    assert [m["state"] for m in cli.json("outbox", "list")] == ["sent"] * 3
