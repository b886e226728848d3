"""Real browser tests: Playwright driving Debian's chromium (/usr/bin/chromium, never a
browser Playwright downloads; .ci/run installs it with apt), headless, against the real
app served over HTTP on loopback (tests/web/site.py: a campaign in mid-course).

Screenshots are kept as test artifacts in $ARTIFACTS_DIR, else tests/artifacts/.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from ..web.conftest import PASSWORD
from ..web.site import mid_campaign

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("ARTIFACTS_DIR") or Path(__file__).resolve().parents[1] / "artifacts")


# Module scope, not session: between its sync calls Playwright leaves its event loop
# marked as running in this thread, so any later test on the same xdist worker that
# calls a Prefect sync-or-async API (run_deployment) would get a coroutine back.
@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk (.ci/run does this)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def site(sqlite_url, tmp_path):
    with mid_campaign(sqlite_url, tmp_path) as (web, numbers):
        for person in ("off.a", "sup.city"):
            web.account(person)
        yield web, numbers


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


class Person:
    """One person in their own browser context (their own cookies), watching for
    what a page must never do: a CSP violation or a script error."""

    def __init__(self, chromium, url: str, *, viewport=None):
        self.context = chromium.new_context(base_url=url, locale="zh-CN", viewport=viewport or
                                            {"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        page = self.page
        page.goto("/work")  # signed out: sent to the sign-in page, and back after it
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("form[action=\"/sign-in\"] button[type=submit]")
        page.wait_for_url("**/work")


@pytest.fixture
def people(chromium, site) -> Iterator:
    made: list[Person] = []

    def person(**kw) -> Person:
        made.append(Person(chromium, site[0].url, **kw))
        return made[-1]

    yield person
    for p in made:
        p.context.close()
