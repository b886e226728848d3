"""Personal access tokens: made by their owner in a browser, shown once, stored as a
digest, used as Bearer, ending at their expiry or when revoked."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from models.tables import AccessToken, AuditRecord

from .conftest import csrf_of

TOKEN = re.compile(r"<code class=\"token\">(rct_[A-Za-z0-9_-]+)</code>")


def _make_on_the_page(c, name: str = "nightly export", days: int = 30) -> str:
    r = c.post("/tokens", data={"csrf_token": csrf_of(c.get("/tokens")), "name": name, "days": str(days)})
    assert r.status_code == 201, r.text
    return TOKEN.search(r.text).group(1)


def test_a_token_is_shown_once_and_kept_only_as_its_digest(web):
    c = web.browser("off.a")
    token = _make_on_the_page(c)
    listing = c.get("/tokens")
    assert "nightly export" in listing.text and token not in listing.text and token[:10] in listing.text
    with web.engine.connect() as conn:
        row = conn.execute(select(AccessToken.__table__)).one()
    assert token not in row.token_hash and len(row.token_hash) == 64
    assert row.expires_at - row.created_at == timedelta(days=30)
    api = c.get("/api/v1/tokens").json()
    assert len(api) == 1 and "token" not in api[0] and api[0]["live"] is True


def test_a_token_signs_its_owner_in_as_bearer(web):
    c = web.browser("sup.city")
    token = _make_on_the_page(c)
    client = web.client(headers={"Authorization": f"Bearer {token}"})
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["username"] == "sup.city" and me.json()["via"] == "token"
    assert me.json()["unit"] == {"code": "city", "name": "示例市交通运输局"}
    assert "set-cookie" not in me.headers


def test_a_token_ends_at_its_expiry(web):
    c = web.browser("off.a")
    token = _make_on_the_page(c, days=30)
    client = web.client(headers={"Authorization": f"Bearer {token}"})
    web.clock.advance(days=30, seconds=-1)
    assert client.get("/api/v1/me").status_code == 200
    web.clock.advance(seconds=1)
    r = client.get("/api/v1/me")
    assert r.status_code == 401 and "过期" in r.json()["detail"]
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


def test_a_revoked_token_signs_nobody_in(web):
    c = web.browser("off.a")
    token = _make_on_the_page(c)
    tid = c.get("/api/v1/tokens").json()[0]["id"]
    r = c.post(f"/tokens/{tid}/revoke", data={"csrf_token": csrf_of(c.get("/tokens"))})
    assert r.status_code == 303
    r = web.client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/me")
    assert r.status_code == 401 and "撤销" in r.json()["detail"]
    A = AuditRecord.__table__
    with web.engine.connect() as conn:
        triggers = conn.execute(select(A.c.trigger, A.c.actor).where(A.c.trigger.like("token_%"))
                                .order_by(A.c.seq)).all()
    assert [tuple(t) for t in triggers] == [("token_created", "off.a"), ("token_revoked", "off.a")]


def test_nobody_revokes_or_sees_another_persons_token(web):
    mine = web.browser("off.a")
    _make_on_the_page(mine)
    tid = mine.get("/api/v1/tokens").json()[0]["id"]
    theirs = web.browser("off.b")
    assert theirs.get("/api/v1/tokens").json() == []
    r = theirs.delete(f"/api/v1/tokens/{tid}", headers={"X-CSRF-Token": csrf_of(theirs.get("/"))})
    assert r.status_code == 404
    assert mine.get("/api/v1/tokens").json()[0]["revoked_at"] is None


def test_a_token_cannot_make_more_tokens(web):
    c = web.browser("off.a")
    token = _make_on_the_page(c)
    client = web.client(headers={"Authorization": f"Bearer {token}"})
    r = client.post("/api/v1/tokens", json={"name": "more", "days": 30})
    assert r.status_code == 403 and "访问令牌" in r.json()["detail"]
    assert len(c.get("/api/v1/tokens").json()) == 1


def test_a_tokens_expiry_is_bounded(web):
    c = web.browser("off.a")
    csrf = {"X-CSRF-Token": csrf_of(c.get("/"))}
    longest = web.runtime.settings.token_days
    r = c.post("/api/v1/tokens", json={"name": "forever", "days": longest + 1}, headers=csrf)
    assert r.status_code == 422 and r.json()["error"] == "InvalidInput"
    r = c.post("/tokens", data={"csrf_token": csrf_of(c.get("/tokens")), "name": "  ", "days": "30"})
    assert r.status_code == 422 and "名字" in r.text
    assert c.get("/api/v1/tokens").json() == []
