"""The real web app on 127.0.0.1: uvicorn in a thread on a free port, stopped when the
test ends, over the test's own database (SQLite and PostgreSQL) with the small plan
loaded; httpx talks to it as a browser or a client would.

Sessions, links and tokens expire by the app's wall clock; here that clock is
the test's (`web.clock.advance(minutes=31)`), so expiry is tested without sleeping.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterator

import httpx
import pytest

from app.web.app import create_app
from app.web.server import listen
from services.accounts.accounts import Limits
from services.accounts.links import invite, set_password
from services.core.runtime import Runtime, Settings

from ..conftest import SMALL_PLAN, _free_port, at

SECRET = "test-secret-key-of-this-web-test-0123456789"
PASSWORD = "Lotus-Pond-2023"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebClock:
    """The app's wall clock, moved by the test."""

    def __init__(self, start: datetime):
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta) -> datetime:
        self.at += timedelta(**delta)
        return self.at


@dataclass
class Web:
    url: str
    runtime: Runtime
    clock: WebClock
    campaign: str

    @property
    def engine(self):
        return self.runtime.engine

    @property
    def limits(self) -> Limits:
        return Limits.of(self.runtime.settings)

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=30, **kw)

    def invite(self, username: str) -> str:
        """The one-time token of a fresh invitation (as `rectify user invite` makes it)."""
        return invite(self.engine, self.campaign, username, by="operator", now=self.clock(),
                      valid_for=self.limits.link_valid).token

    def account(self, username: str, password: str = PASSWORD) -> None:
        set_password(self.engine, self.invite(username), password, now=self.clock())

    def sign_in(self, username: str, password: str = PASSWORD, client: httpx.Client | None = None,
                **form) -> httpx.Response:
        """Sign in through the sign-in page, as a browser does (its form, its token)."""
        client = client or self.client()
        page = client.get("/sign-in")
        assert page.status_code == 200, page.text
        return client.post("/sign-in", data={"csrf_token": csrf_of(page), "username": username,
                                             "password": password, **form})

    def browser(self, username: str, password: str = PASSWORD) -> httpx.Client:
        """A client signed in as `username` (whose account is made first)."""
        self.account(username, password)
        client = self.client()
        r = self.sign_in(username, password, client)
        assert r.status_code == 303, r.text
        return client


def csrf_of(page: httpx.Response) -> str:
    m = CSRF.search(page.text)
    assert m, f"no CSRF token in the page:\n{page.text[:2000]}"
    return m.group(1)


@contextmanager
def serving(runtime: Runtime, clock: WebClock, *, routers=()) -> Iterator[str]:
    """The app of `runtime` served on its port until the block ends; yields its URL."""
    app = create_app(runtime, clock=clock, routers=routers)
    server = listen(runtime, app=app).start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def web_settings(db_url: str, tmp_path, **more) -> Settings:
    port = _free_port()
    return Settings(**{"db": db_url, "home": tmp_path / "home", "secret_key": SECRET, "web_port": port,
                       **more})


@contextmanager
def running_web(db_url: str, tmp_path, *, routers=(), **settings) -> Iterator[Web]:
    from services.campaigns.load import load_plan
    from services.campaigns.plans import read_plan

    from services.campaigns.load import campaign_codes

    runtime = Runtime(web_settings(db_url, tmp_path, **settings))
    plan = read_plan(SMALL_PLAN)
    with runtime.engine.connect() as conn:
        loaded = plan.campaign.code in campaign_codes(conn)
    if not loaded:  # a test may serve the same database twice, set up differently
        load_plan(runtime.engine, plan, source=str(SMALL_PLAN), now=at("2023-03-15"))
    clock = WebClock(datetime.now(timezone.utc).replace(microsecond=0))
    try:
        with serving(runtime, clock, routers=routers) as url:
            yield Web(url, runtime, clock, plan.campaign.code)
    finally:
        runtime.close()


@pytest.fixture
def web(db_url, campaign, tmp_path) -> Iterator[Web]:
    # `campaign`: db_url is then a clone of the template the small plan was loaded into
    with running_web(db_url, tmp_path) as w:
        yield w
