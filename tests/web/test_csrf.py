"""CSRF: every unsafe request riding on a cookie carries that cookie's token; a missing,
forged or borrowed one is a 403 and nothing changes. Bearer requests are exempt."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models.tables import AccessToken, WebSession

from .conftest import PASSWORD, csrf_of


def _count(web, table) -> int:
    with web.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table.__table__)).scalar_one()


def _live_sessions(web) -> int:
    S = WebSession.__table__
    with web.engine.connect() as conn:
        return conn.execute(select(func.count()).where(S.c.ended_at.is_(None))).scalar_one()


@pytest.mark.parametrize("token", [None, "", "forged-token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"])
def test_a_form_without_its_token_changes_nothing(web, token):
    c = web.browser("off.a")
    data = {"name": "script", "days": "30"} | ({} if token is None else {"csrf_token": token})
    r = c.post("/tokens", data=data)
    assert r.status_code == 403 and "CSRF" in r.text
    assert _count(web, AccessToken) == 0
    r = c.post("/sign-out", data={} if token is None else {"csrf_token": token})
    assert r.status_code == 403
    assert c.get("/api/v1/me").status_code == 200 and _live_sessions(web) == 1
    # the page's own token does it
    r = c.post("/tokens", data={**data, "csrf_token": csrf_of(c.get("/tokens"))})
    assert r.status_code == 201 and _count(web, AccessToken) == 1


def test_another_sessions_token_is_refused(web):
    mine = web.browser("off.a")
    theirs = web.browser("off.b")
    stolen = csrf_of(theirs.get("/tokens"))
    assert stolen != csrf_of(mine.get("/tokens"))
    r = mine.post("/tokens", data={"name": "x", "days": "30", "csrf_token": stolen})
    assert r.status_code == 403 and _count(web, AccessToken) == 0


def test_the_api_takes_the_token_as_a_header(web):
    c = web.browser("off.a")
    assert c.post("/api/v1/tokens", json={"name": "ci", "days": 7}).status_code == 403
    r = c.post("/api/v1/tokens", json={"name": "ci", "days": 7}, headers={"X-CSRF-Token": "nope"})
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["error"] == "PermissionDenied" and "CSRF" in r.json()["detail"]
    assert _count(web, AccessToken) == 0
    r = c.post("/api/v1/tokens", json={"name": "ci", "days": 7}, headers={"X-CSRF-Token": csrf_of(c.get("/"))})
    assert r.status_code == 201 and _count(web, AccessToken) == 1


def test_a_bearer_request_needs_no_csrf_token(web):
    c = web.browser("off.a")
    made = c.post("/api/v1/tokens", json={"name": "ci", "days": 7}, headers={"X-CSRF-Token": csrf_of(c.get("/"))})
    token = made.json()
    client = web.client(headers={"Authorization": f"Bearer {token['token']}"})
    r = client.delete(f"/api/v1/tokens/{token['id']}")
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    # a Bearer header does not lend its exemption to a cookie riding along
    other = c.post("/api/v1/tokens", json={"name": "ci2", "days": 7},
                   headers={"X-CSRF-Token": csrf_of(c.get("/"))}).json()
    c.headers["Authorization"] = "Bearer rct_not-a-token"
    r = c.delete(f"/api/v1/tokens/{other['id']}")
    assert r.status_code == 401
    del c.headers["Authorization"]
    assert [t["revoked_at"] is None for t in c.get("/api/v1/tokens").json()] == [True, False]


def test_sign_in_from_another_site_is_refused(web):
    """Login CSRF: a form posted from elsewhere has no form cookie of ours to match."""
    web.account("off.a")
    r = web.client().post("/sign-in", data={"username": "off.a", "password": PASSWORD, "csrf_token": "x"})
    assert r.status_code == 403 and "rectify_session" not in r.headers.get("set-cookie", "")
    r = web.client().post("/sign-in", data={"username": "off.a", "password": PASSWORD})
    assert r.status_code == 403
    assert _live_sessions(web) == 0


def test_a_password_cannot_be_set_from_another_site(web):
    token = web.invite("off.a")
    r = web.client().post("/set-password", data={"token": token, "password": PASSWORD, "confirm": PASSWORD})
    assert r.status_code == 403
    page = web.client().get("/set-password", params={"token": token})
    assert page.status_code == 200  # the link is still good


def test_credentials_a_browser_adds_by_itself_exempt_nothing(web):
    """A proxy's Basic credentials ride along on a forged form as the cookie does: they
    are not a Bearer token, so the cookie's CSRF token is still required."""
    c = web.browser("off.a")
    c.headers["Authorization"] = "Basic b2ZmLmE6c2VjcmV0"
    assert c.get("/api/v1/me").json()["via"] == "session"
    r = c.post("/tokens", data={"name": "x", "days": "30"})
    assert r.status_code == 403 and _count(web, AccessToken) == 0
    r = c.post("/sign-out", data={})
    assert r.status_code == 403 and _live_sessions(web) == 1
    r = web.client(headers={"Authorization": "Basic b2ZmLmE6c2VjcmV0"}).post(
        "/sign-in", data={"username": "off.a", "password": PASSWORD})
    assert r.status_code == 403 and _live_sessions(web) == 1
