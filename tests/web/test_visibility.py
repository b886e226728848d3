"""What a person may read beyond a unit's items, over HTTP against the real app (SQLite and
PostgreSQL): an account's records (its tokens, its sign-ins and token events in the
audit log) are that person's alone, never a colleague's of the same unit nor a
supervisor's; verifying the whole audit chain is for a supervisor of the root unit
(services/core/visibility.py `seen_records`, `sees_campaign`). The authorization matrix
(tests/web/api/test_authorization_matrix.py) tries the same over every relation."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models.tables import AccessToken, User
from services.accounts.tokens import list_tokens

from .conftest import csrf_of
from .site import mid_campaign
from .test_list_pages import error_line
from .test_pages import text_of

SCRIPT = "孙立平的同步脚本"


@pytest.fixture
def site(db_url, tmp_path):
    with mid_campaign(db_url, tmp_path) as s:
        yield s


def user_id(web, username: str) -> int:
    with web.engine.connect() as conn:
        return conn.execute(select(User.id).where(User.username == username)).scalar_one()


def test_an_accounts_records_are_its_owners_alone(site):
    web, _ = site
    owner = web.browser("sup.a")  # county A's supervisor
    page = owner.get("/tokens")
    assert owner.post("/tokens", data={"csrf_token": csrf_of(page), "name": SCRIPT, "days": "30"}).status_code == 201
    [token] = list_tokens(web.engine, user_id(web, "sup.a"))
    colleague, above = web.browser("off.a"), web.browser("sup.city")  # same unit; the unit above
    mine, theirs = user_id(web, "off.a"), user_id(web, "sup.a")
    for client, own in ((colleague, mine), (above, user_id(web, "sup.city"))):
        assert SCRIPT not in client.get("/tokens").text
        assert client.get("/api/v1/tokens").json() == []
        trail = text_of(client.get("/audit").text)
        assert SCRIPT not in trail and f"account {theirs} " not in trail and f"account {own} " in trail
        records = client.get("/api/v1/audit", params={"entity": "account", "limit": 200}).json()["records"]
        assert records and {r["entity_id"] for r in records} == {own}
        assert client.get("/api/v1/audit", params={"entity": "account", "entity_id": theirs}).json()["records"] == []
        # another's token cannot be revoked: it is not found, and stays live
        page = client.get("/tokens")
        assert client.post(f"/tokens/{token.id}/revoke", data={"csrf_token": csrf_of(page)}).status_code == 404
        r = client.delete(f"/api/v1/tokens/{token.id}", headers={"X-CSRF-Token": csrf_of(page)})
        assert r.status_code == 404
    with web.engine.connect() as conn:
        assert conn.execute(select(AccessToken.revoked_at).where(AccessToken.id == token.id)).scalar() is None
    # the owner reads their own
    assert SCRIPT in owner.get("/audit").text
    records = owner.get("/api/v1/audit", params={"entity": "account", "limit": 200}).json()["records"]
    assert "token_created" in {r["trigger"] for r in records} and {r["entity_id"] for r in records} == {theirs}
    # the clue records of county A are still everyone's who sees county A
    assert colleague.get("/api/v1/audit", params={"entity": "clue"}).json()["records"]


def test_only_a_supervisor_of_the_root_unit_verifies_the_whole_chain(site):
    web, _ = site
    root = web.browser("sup.city")  # 示例市交通运输局 is the small plan's root
    assert 'href="/audit/verify"' in root.get("/audit").text
    page = root.get("/audit/verify")
    assert page.status_code == 200 and 'data-intact="true"' in page.text
    assert re.search(r"审计链完整：共 \d+ 条记录", text_of(page.text))
    api = root.get("/api/v1/audit/verify")
    assert api.status_code == 200 and api.json()["intact"] is True and api.json()["records"] > 0
    # a county's supervisor, its liaison, an inspector of the root unit (not a supervisor)
    for username in ("sup.a", "off.a", "insp.city"):
        client = web.browser(username)
        assert 'href="/audit/verify"' not in client.get("/audit").text
        r = client.get("/audit/verify")
        assert r.status_code == 403
        assert "may not verify the audit chain" in error_line(r) and "示例市交通运输局" in error_line(r)
        r = client.get("/api/v1/audit/verify")
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
        assert "only a supervisor of 示例市交通运输局" in r.json()["detail"]
    assert web.client().get("/audit/verify").status_code == 303
    assert web.client().get("/api/v1/audit/verify").status_code == 401
