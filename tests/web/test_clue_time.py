"""延期 and 挂账 on a clue's page and over the API (SQLite and PostgreSQL): offered to the
unit (ask), to the level above (decide, suspend, resume), each post CSRF-checked, each
step the CLI's use case with its audit record; a refusal changes nothing."""
from __future__ import annotations

import pytest

from services.clues.lifecycle import get_clue

from .conftest import csrf_of
from .site import mid_campaign


@pytest.fixture
def site(db_url, tmp_path):
    with mid_campaign(db_url, tmp_path) as s:
        yield s


def _offered(page) -> set[str]:
    import re

    return set(re.findall(r'data-action="([^"]+)"', page.text))


def _steps(web, n):
    return [(h["entity"], h["trigger"]) for h in get_clue(web.engine, web.campaign, n).history]


def test_the_unit_asks_the_level_above_decides_and_stops_the_clock(site):
    web, numbers = site
    n = numbers["rectify"]  # due 2023-04-29, the domain's clock at 04-28 12:00
    off = web.browser("off.a")
    page = off.get(f"/clues/{n}")
    assert {"request_extension"} <= _offered(page)
    assert not {"approve_extension", "refuse_extension", "suspend", "resume"} & _offered(page)
    before = _steps(web, n)
    form = {"until": "2023-05-10", "reason": "汛期施工受阻"}
    assert off.post(f"/clues/{n}/actions/request_extension", data=form).status_code == 403  # no CSRF token
    assert _steps(web, n) == before
    r = off.post(f"/clues/{n}/actions/request_extension", data={**form, "csrf_token": csrf_of(page)})
    assert r.status_code == 303, r.text
    assert _steps(web, n)[-1] == ("extension", "request_extension")

    sup = web.browser("sup.city")
    page = sup.get(f"/clues/{n}")
    assert {"approve_extension", "refuse_extension", "suspend"} <= _offered(page)
    assert "request_extension" not in _offered(page)  # one request waits at a time
    api = sup.get(f"/api/v1/clues/{n}").json()
    assert {"approve_extension", "refuse_extension", "suspend"} <= {a["trigger"] for a in api["actions"]}

    # the unit may not decide its own request: refused in one line, nothing changed
    own = off.post(f"/api/v1/clues/{n}/extension/approve", json={},
                   headers={"X-CSRF-Token": csrf_of(off.get(f"/clues/{n}"))})
    assert own.status_code == 403 and "off.a" in own.text and _steps(web, n)[-1][1] == "request_extension"
    token = {"X-CSRF-Token": csrf_of(page)}
    r = sup.post(f"/api/v1/clues/{n}/extension/approve", json={"until": "2023-05-08", "reason": "同意"}, headers=token)
    assert r.status_code == 200, r.text
    assert r.json()["deadline_at"].startswith("2023-05-08")
    assert _steps(web, n)[-2:] == [("extension", "approve"), ("clue", "extend")]
    assert {h["entity"] for h in r.json()["history"]} >= {"clue", "extension"}

    # 挂账 over the API (a reason is required), 恢复计时 through the page's form
    r = sup.post(f"/api/v1/clues/{n}/clock/suspend", json={}, headers=token)
    assert r.status_code == 422 and "reason" in r.text
    r = sup.post(f"/api/v1/clues/{n}/clock/suspend", json={"reason": "等待司法裁判"}, headers=token)
    assert r.status_code == 200, r.text
    page = sup.get(f"/clues/{n}")
    assert "resume" in _offered(page) and "suspend" not in _offered(page)
    r = sup.post(f"/clues/{n}/actions/resume", data={"csrf_token": csrf_of(page), "reason": "已判决"})
    assert r.status_code == 303, r.text
    assert _steps(web, n)[-2:] == [("clue_clock", "suspend"), ("clue_clock", "resume")]


def test_a_refusal_over_the_api_is_one_line_and_changes_nothing(site):
    web, numbers = site
    n = numbers["verify"]  # received: no deadline to extend
    sup = web.browser("sup.city")
    token = {"X-CSRF-Token": csrf_of(sup.get(f"/clues/{n}"))}
    before = _steps(web, n)
    r = sup.post(f"/api/v1/clues/{n}/extension", json={"until": "2023-05-10", "reason": "汛期"}, headers=token)
    assert r.status_code == 422, r.text  # GuardRefused
    assert "rectifying" in r.text and _steps(web, n) == before
    r = sup.post(f"/api/v1/clues/{n}/extension/refuse", json={"reason": "x"}, headers=token)
    assert r.status_code == 404 and _steps(web, n) == before
