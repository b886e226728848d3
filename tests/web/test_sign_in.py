"""Signing in that holds: invitation → password → session → the API knows who asks."""
from __future__ import annotations

from sqlalchemy import select

from models.tables import AuditRecord, Credential, SignInLink, User

from .conftest import PASSWORD, csrf_of


def _audit(web, trigger: str) -> list:
    A = AuditRecord.__table__
    with web.engine.connect() as conn:
        return conn.execute(select(A).where(A.c.entity == "account", A.c.trigger == trigger)
                            .order_by(A.c.seq)).all()


def test_an_invited_person_sets_a_password_signs_in_and_the_api_knows_them(web):
    token = web.invite("off.a")
    c = web.client()
    page = c.get("/set-password", params={"token": token})
    assert page.status_code == 200 and "赵书涵" in page.text and "甲县" in page.text
    r = c.post("/set-password", data={"csrf_token": csrf_of(page), "token": token,
                                      "password": PASSWORD, "confirm": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/sign-in?done=1"

    r = web.sign_in("off.a", PASSWORD, c)
    assert r.status_code == 303 and r.headers["location"] == "/"
    me = c.get("/api/v1/me")
    assert me.status_code == 200, me.text
    assert me.json() == {"username": "off.a", "name": "赵书涵", "role": "officer", "role_label": "工作人员",
                         "unit": {"code": "county-a", "name": "甲县"},
                         "campaign": {"code": "smoke-2023", "title": "示例专项整治"}, "via": "session"}
    home = c.get("/")
    assert home.status_code == 200
    assert all(s in home.text for s in ("赵书涵", "甲县", "工作人员", "示例专项整治", "/api/v1/docs"))
    # the password is stored as Argon2id, never as given
    with web.engine.connect() as conn:
        stored = conn.execute(select(Credential.__table__.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert [r.actor for r in _audit(web, "invite")] == ["operator"]
    assert [r.actor for r in _audit(web, "set_password")] == ["off.a"]
    assert [r.actor for r in _audit(web, "sign_in")] == ["off.a"]


def test_a_link_is_used_once_and_stored_only_as_its_digest(web):
    token = web.invite("off.b")
    with web.engine.connect() as conn:
        stored = conn.execute(select(SignInLink.__table__.c.token_hash)).scalar_one()
    assert token not in stored and len(stored) == 64
    c = web.client()
    page = c.get("/set-password", params={"token": token})
    form = {"csrf_token": csrf_of(page), "token": token, "password": PASSWORD, "confirm": PASSWORD}
    assert c.post("/set-password", data=form).status_code == 303
    again = c.post("/set-password", data={**form, "password": "Another-Pass-99", "confirm": "Another-Pass-99"})
    assert again.status_code == 404 and "已使用或已过期" in again.text
    assert c.get("/set-password", params={"token": token}).status_code == 404
    # the first password stands
    assert web.sign_in("off.b", PASSWORD).status_code == 303
    assert web.sign_in("off.b", "Another-Pass-99").status_code == 401


def test_a_link_expires(web):
    token = web.invite("off.b")
    web.clock.advance(hours=web.runtime.settings.link_hours, seconds=1)
    r = web.client().get("/set-password", params={"token": token})
    assert r.status_code == 404 and "已使用或已过期" in r.text


def test_a_newer_link_voids_the_older_one(web):
    old = web.invite("off.b")
    new = web.invite("off.b")
    c = web.client()
    assert c.get("/set-password", params={"token": old}).status_code == 404
    assert c.get("/set-password", params={"token": new}).status_code == 200


def test_a_password_the_rule_refuses_leaves_the_link_usable(web):
    token = web.invite("off.a")
    c = web.client()
    page = c.get("/set-password", params={"token": token})
    for bad, why in [("Short-1", "至少 12 个字符"), ("alllowercaseletters", "至少两类字符"),
                     ("xoff.a-Garden-7", "不能包含用户名"), ("abababababab1", "少数几个字符")]:
        r = c.post("/set-password", data={"csrf_token": csrf_of(page), "token": token, "password": bad,
                                          "confirm": bad})
        assert r.status_code == 422 and why in r.text, (bad, r.text)
    r = c.post("/set-password", data={"csrf_token": csrf_of(page), "token": token, "password": PASSWORD,
                                      "confirm": PASSWORD + "x"})
    assert r.status_code == 422 and "不一致" in r.text
    with web.engine.connect() as conn:
        assert conn.execute(select(Credential.__table__.c.password_hash)).scalar_one() is None
    r = c.post("/set-password", data={"csrf_token": csrf_of(page), "token": token, "password": PASSWORD,
                                      "confirm": PASSWORD})
    assert r.status_code == 303


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(web):
    web.account("off.a")
    wrong = web.sign_in("off.a", "Not-The-Password-1")
    unknown = web.sign_in("nobody.here", "Not-The-Password-1")
    hostile = web.sign_in("off.a\x00' OR 1=1 --", "Not-The-Password-1")  # was a 500 on PostgreSQL
    invited_only = web.client()
    web.invite("off.b")
    invited_only = web.sign_in("off.b", "Not-The-Password-1")
    for r in (wrong, unknown, hostile, invited_only):
        assert r.status_code == 401 and "用户名或密码错误" in r.text
        assert "rectify_session" not in r.headers.get("set-cookie", "")
    assert len(_audit(web, "sign_in_failed")) == 1  # an unknown name has no campaign to audit in


def test_signing_in_goes_back_to_the_page_asked_for_but_never_elsewhere(web):
    web.account("off.a")
    c = web.client()
    r = c.get("/tokens")
    assert r.status_code == 303 and r.headers["location"] == "/sign-in?next=%2Ftokens"
    assert web.sign_in("off.a", client=c, next="/tokens").headers["location"] == "/tokens"
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        assert web.sign_in("off.a", next=evil).headers["location"] == "/"


def test_the_people_and_their_units_are_the_plans(web):
    with web.engine.connect() as conn:
        people = conn.execute(select(User.__table__.c.username)).scalars().all()
    for username in people:
        c = web.browser(username)
        me = c.get("/api/v1/me").json()
        assert me["username"] == username


def test_a_person_in_two_campaigns_chooses_which_to_sign_in_to(web, tmp_path):
    from services.accounts.links import invite, set_password
    from services.campaigns.load import load_plan
    from services.campaigns.plans import read_plan

    from ..conftest import SMALL_PLAN, at

    second = tmp_path / "second-plan.yaml"
    second.write_text(SMALL_PLAN.read_text(encoding="utf-8").replace("code: smoke-2023", "code: smoke-2024")
                      .replace("title: 示例专项整治", "title: 示例专项整治（第二轮）"), encoding="utf-8")
    load_plan(web.engine, read_plan(second), source=str(second), now=at("2024-03-15"))
    web.account("off.a")
    link = invite(web.engine, "smoke-2024", "off.a", by="operator", now=web.clock(),
                  valid_for=web.limits.link_valid)
    set_password(web.engine, link.token, "Other-Campaign-2024", now=web.clock())

    page = web.client().get("/sign-in")
    assert 'name="campaign"' in page.text and "示例专项整治（第二轮）" in page.text
    for campaign, password in (("smoke-2023", PASSWORD), ("smoke-2024", "Other-Campaign-2024")):
        c = web.client()
        r = web.sign_in("off.a", password, c, campaign=campaign)
        assert r.status_code == 303, r.text
        assert c.get("/api/v1/me").json()["campaign"]["code"] == campaign
        # the other campaign's password is not this account's
        other = "Other-Campaign-2024" if password == PASSWORD else PASSWORD
        assert web.sign_in("off.a", other, campaign=campaign).status_code == 401
    r = web.sign_in("off.a", PASSWORD)
    assert r.status_code == 422 and "请选择专项行动" in r.text
