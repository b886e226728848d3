"""A URL's secrets never leak (issue 13, item 7).

`user:pass@` in RECTIFY_WEBHOOK_URL used to reach the outbox's last_error,
`outbox list/show/deliver`, the delivery flow's artifact and the
configuration error. A real webhook on 127.0.0.1 that refuses (HTTP 500, or
nobody listening) and a real Prefect API: the password and the robot's
token are in no database row, no command output and no artifact. One
function masks (statemachine/masking.py).
"""
from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import select, update

from models.db import transaction
from models.tables import OutboxMessage
from services.campaigns.load import campaign_id
from services.core.settings import Settings
from services.notices import outbox
from statemachine.errors import InvalidInput
from statemachine.masking import mask_secrets, masked_url

from ..conftest import at
from ..e2e.conftest import Cli, assert_one_line_error, clean_env

PASSWORD, TOKEN = "S3cret-Pw0rd", "T0ken-Xyz"
O = OutboxMessage.__table__

# what a password or a token may hold when nobody percent-encoded it (a password with a
# raw '?' or '#' ends before it for an HTTP client too: tested apart, below)
_TOKEN = st.text(alphabet=st.sampled_from(list("abcXYZ019:/?#@%&=+!$'()*,;[]~._-")), min_size=1, max_size=16)
_PASSWORD = st.text(alphabet=st.sampled_from(list("abcXYZ019:/@%&=+!$'()*,;[]~._-")), min_size=1, max_size=16)


@settings(max_examples=300, deadline=None)
@given(user=st.from_regex(r"\A[a-z][a-z0-9._-]{0,8}\Z"), secret=_PASSWORD, token=_TOKEN,
       host=st.sampled_from(["127.0.0.1", "hooks.example.org", "[::1]", "robot.example.org:8443"]),
       scheme=st.sampled_from(["http", "https", "postgresql+psycopg", "ftp", ""]))
def test_no_password_or_token_survives_masking(user, secret, token, host, scheme):
    pw, tk = f"PW{secret}PW", f"TK{token}TK"  # marked, so "in" cannot hit the host by chance
    url = f"{scheme + '://' if scheme else ''}{user}:{pw}@{host}/robot/send?access_token={tk}#frag"
    shown = masked_url(url)
    assert pw not in shown and tk not in shown and "PW" not in shown and "TK" not in shown, (url, shown)
    text = mask_secrets(f"webhook {url}: ConnectError: cannot reach {url}")
    assert "PW" not in text and "TK" not in text, text


@pytest.mark.parametrize("url, shown", [
    (f"https://robot:{PASSWORD}@hooks.example.org/send?access_token={TOKEN}", "https://robot@hooks.example.org/send"),
    (f"http://robot:{PASSWORD}@127.0.0.1:8080/x", "http://robot@127.0.0.1:8080/x"),
    (f"postgresql+psycopg://rectify:{PASSWORD}@db.example.org:5432/rectify",
     "postgresql+psycopg://rectify@db.example.org:5432/rectify"),
    ("sqlite:////var/lib/rectify/rectify.db", "sqlite:////var/lib/rectify/rectify.db"),
    ("https://oapi.example.org/robot/send", "https://oapi.example.org/robot/send"),
    (f"http://robot:{PASSWORD}?#@127.0.0.1/x", "http://robot@127.0.0.1/x"),
    (f"http://robot:{PASSWORD}@x.example/y@127.0.0.1/x?t={TOKEN}@z", "http://robot@127.0.0.1/x"),
])
def test_what_stays_is_what_an_operator_needs(url, shown):
    assert masked_url(url) == shown


@pytest.mark.parametrize("field, value", [
    ("webhook_url", f"ftp://robot:{PASSWORD}@hooks.example.org/send?access_token={TOKEN}"),
    ("webhook_url", f"http://robot:{PASSWORD}@127.0.0.1:port/send"),
    ("webhook_url", f"http://robot:{PASSWORD}/x@127.0.0.1/send"),
    ("webhook_url", f"robot:{PASSWORD}@127.0.0.1/send"),
    ("webhook_url", f"http://robot:{PASSWORD}@[::1/send"),
    ("db", f"mysql://rectify:{PASSWORD}@db.example.org/rectify"),
    ("db", f"postgresql://rectify:{PASSWORD}@db.example.org:port/rectify"),
])
def test_a_configuration_error_never_shows_the_secret(field, value):
    with pytest.raises(InvalidInput) as e:
        Settings(**{field: value})
    assert PASSWORD not in str(e.value) and TOKEN not in str(e.value) and len(str(e.value).splitlines()) == 1


# -- a real webhook that refuses, a real Prefect API ----------------------------------
@pytest.fixture
def refusing_webhook():
    """A robot on 127.0.0.1 that answers every POST with HTTP 500; records the
    Authorization header each request carried."""
    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(self.headers.get("Authorization"))
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_port, seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _enqueue(engine, campaign, key: str) -> None:
    cid = campaign_id(engine, campaign)  # before: SQLite takes its write lock at BEGIN
    with transaction(engine) as conn:
        outbox.enqueue(conn, campaign_id=cid, key=key, channel="webhook",
                       recipient="county-b", subject="关于对乙县的通报批评（整治督〔2023〕1号）",
                       body_text="乙县：\n    正文\n", now=at("2023-04-08 00:05"))


def _rows(engine) -> str:
    with engine.connect() as conn:
        return json.dumps([dict(r._mapping) for r in conn.execute(select(O))], default=str, ensure_ascii=False)


def _artifacts(run_after) -> str:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.deliver import ARTIFACT_KEY

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[ARTIFACT_KEY])))
    return json.dumps([(a.data, a.description) for a in arts if a.created >= run_after], default=str,
                      ensure_ascii=False)


@pytest.mark.slow
def test_a_failing_webhook_leaks_its_password_nowhere(db_url, engine, campaign, tmp_path, prefect_api,
                                                      refusing_webhook):
    from datetime import datetime, timezone

    port, seen = refusing_webhook
    started = datetime.now(timezone.utc)
    url = f"http://robot:{PASSWORD}@127.0.0.1:{port}/robot/send?access_token={TOKEN}"
    closed = f"http://robot:{PASSWORD}@127.0.0.1:9/robot/send?access_token={TOKEN}"  # nobody listens
    _enqueue(engine, campaign, "case:1:issue:webhook:county-b")
    cli = Cli(clean_env(db_url, tmp_path, PREFECT_API_URL=prefect_api, RECTIFY_WEBHOOK_URL=url), tmp_path)
    # a failed delivery fails the command in one line (issue 15; it used to exit 0)
    outputs = [cli.run("outbox", "deliver", "--now", "2023-04-08 00:10", timeout=180)]
    assert_one_line_error(outputs[0], code=1)
    assert "sent 0, 1 failed and wait to be retried" in outputs[0].stderr, str(outputs[0])
    assert "HTTP 500" in outputs[0].stderr, str(outputs[0])
    # the credentials were in use: the robot got them, as Basic authorisation
    assert seen == ["Basic " + base64.b64encode(f"robot:{PASSWORD}".encode()).decode()]

    _enqueue(engine, campaign, "case:2:issue:webhook:county-b")
    outputs.append(cli.run("outbox", "deliver", "--now", "2023-04-08 00:20", timeout=180,
                           env={"RECTIFY_WEBHOOK_URL": closed}))
    assert_one_line_error(outputs[-1], code=1)
    assert "ConnectError" in outputs[-1].stderr, str(outputs[-1])

    # a message whose error was stored before errors were masked is shown masked
    _enqueue(engine, campaign, "case:3:issue:webhook:county-b")
    with transaction(engine) as conn:
        conn.execute(update(O).where(O.c.key == "case:3:issue:webhook:county-b")
                     .values(last_error=f"webhook {url}: HTTP 500", attempts=1))
    ids = [str(m.id) for m in outbox.list_messages(engine)]
    outputs += cli.parallel(("outbox", "list"), ("outbox", "list", "--json"),
                            *[("outbox", "show", i) for i in ids])
    for r in outputs[2:]:
        assert r.returncode == 0 and "Traceback" not in r.stderr, str(r)
    for r in outputs:
        assert PASSWORD not in r.stdout + r.stderr and TOKEN not in r.stdout + r.stderr, str(r)
    listed = outputs[-len(ids) - 1].json()
    assert {m["last_error"] for m in listed} == {f"webhook http://robot@127.0.0.1:{port}/robot/send: HTTP 500",
                                                 "webhook http://robot@127.0.0.1:9/robot/send: ConnectError: "
                                                 "[Errno 111] Connection refused"}
    stored = _rows(engine)  # the first message was tried again by the second delivery
    assert stored.count("webhook http://robot@127.0.0.1:9/robot/send: ConnectError") == 2
    assert stored.count(PASSWORD) == 1  # only the row written as an older version wrote it
    with transaction(engine) as conn:
        conn.execute(update(O).where(O.c.key == "case:3:issue:webhook:county-b").values(last_error=None))
    assert PASSWORD not in _rows(engine) and TOKEN not in _rows(engine)
    artifacts = _artifacts(started)
    assert "HTTP 500" in artifacts and "ConnectError" in artifacts
    assert PASSWORD not in artifacts and TOKEN not in artifacts

    # and the configuration error, in one line
    r = cli.run("outbox", "deliver", env={"RECTIFY_WEBHOOK_URL": f"ftp://robot:{PASSWORD}@127.0.0.1/x"})
    assert_one_line_error(r, code=2)
    assert PASSWORD not in r.stderr and "ftp://robot@127.0.0.1/x" in r.stderr
