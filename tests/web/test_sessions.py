"""Sessions: they end when idle, at their lifetime, at sign-out (on the server), when
the account is disabled; repeated failures lock the account and slow the address."""
from __future__ import annotations

from sqlalchemy import select

from models.tables import AuditRecord, WebSession
from services.accounts.links import disable, enable

from .conftest import PASSWORD, csrf_of, running_web


def _triggers(web) -> list[str]:
    A = AuditRecord.__table__
    with web.engine.connect() as conn:
        return conn.execute(select(A.c.trigger).where(A.c.entity == "account").order_by(A.c.seq)).scalars().all()


def test_a_session_ends_when_idle_and_activity_keeps_it(web):
    c = web.browser("off.a")
    idle = web.runtime.settings.session_idle_minutes
    for _ in range(3):  # used within the idle time, again and again: it lives past it
        web.clock.advance(minutes=idle - 1)
        assert c.get("/api/v1/me").status_code == 200
    web.clock.advance(minutes=idle, seconds=1)
    key = c.cookies["rectify_session"]
    page = c.get("/")
    assert page.status_code == 303 and page.headers["location"] == "/sign-in?next=%2F&expired=1"
    assert "rectify_session" not in c.cookies  # the dead cookie is cleared
    r = web.client(cookies={"rectify_session": key}).get("/api/v1/me")
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert "未操作" in r.json()["detail"]
    assert r.headers["www-authenticate"].startswith("Bearer")
    # and using it now does not bring it back
    web.clock.advance(seconds=1)
    assert web.client(cookies={"rectify_session": key}).get("/api/v1/me").status_code == 401


def test_a_session_ends_at_its_lifetime_however_busy(web):
    c = web.browser("off.a")
    s = web.runtime.settings
    step = s.session_idle_minutes - 1
    spent = 0
    while spent + step < s.session_hours * 60:
        web.clock.advance(minutes=step)
        spent += step
        assert c.get("/api/v1/me").status_code == 200
    web.clock.advance(minutes=s.session_hours * 60 - spent)
    r = c.get("/api/v1/me")
    assert r.status_code == 401 and "到期" in r.json()["detail"]


def test_sign_out_ends_the_session_on_the_server(web):
    c = web.browser("off.a")
    key = c.cookies["rectify_session"]
    page = c.get("/")
    r = c.post("/sign-out", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 303 and r.headers["location"] == "/sign-in?signed_out=1"
    assert c.get("/api/v1/me").status_code == 401
    # the old cookie, replayed by whoever copied it, is worth nothing
    thief = web.client(cookies={"rectify_session": key})
    assert thief.get("/api/v1/me").status_code == 401
    with web.engine.connect() as conn:
        ended = conn.execute(select(WebSession.__table__.c.ended_at)).scalars().all()
    assert len(ended) == 1 and ended[0] is not None
    assert _triggers(web)[-2:] == ["sign_in", "sign_out"]


def test_repeated_failures_lock_the_account_for_a_while(web):
    web.account("off.a")
    s = web.runtime.settings
    for i in range(s.lock_after - 1):
        r = web.sign_in("off.a", f"Wrong-Password-{i}")
        assert r.status_code == 401
    r = web.sign_in("off.a", "Wrong-Password-x")
    assert r.status_code == 429 and "锁定" in r.text and int(r.headers["retry-after"]) > 0
    # locked: even the right password is refused, and it is not even checked
    r = web.sign_in("off.a", PASSWORD)
    assert r.status_code == 429 and "锁定" in r.text
    assert "rectify_session" not in r.headers.get("set-cookie", "")
    web.clock.advance(minutes=s.lock_minutes, seconds=1)
    assert web.sign_in("off.a", PASSWORD).status_code == 303
    triggers = _triggers(web)
    assert triggers.count("sign_in_failed") == s.lock_after
    assert triggers.count("locked") == 1 and triggers.count("sign_in_refused") == 1
    assert triggers[-1] == "sign_in"


def test_a_success_resets_the_count_of_failures(web):
    web.account("off.a")
    s = web.runtime.settings
    for _ in range(2):
        for i in range(s.lock_after - 1):
            assert web.sign_in("off.a", f"Wrong-Password-{i}").status_code == 401
        assert web.sign_in("off.a", PASSWORD).status_code == 303


def test_an_address_with_many_failures_is_slowed_whoever_it_tries(db_url, tmp_path):
    with running_web(db_url, tmp_path, address_failures=4, lock_after=10) as web:
        web.account("off.a")
        names = ["off.b", "nobody", "sup.a", "off.c1"]
        for name in names:
            assert web.sign_in(name, "Wrong-Password-1").status_code == 401
        r = web.sign_in("off.a", PASSWORD)  # right, but from the address that guessed
        assert r.status_code == 429 and "该地址" in r.text
        assert 0 < int(r.headers["retry-after"]) <= 15 * 60 + 1
        assert "sign_in" not in _triggers(web)
        web.clock.advance(minutes=15, seconds=1)
        assert web.sign_in("off.a", PASSWORD).status_code == 303


def test_a_disabled_account_signs_nothing_in(web):
    c = web.browser("off.a")
    token = c.post("/api/v1/tokens", json={"name": "script", "days": 30},
                   headers={"X-CSRF-Token": csrf_of(c.get("/"))}).json()["token"]
    d = disable(web.engine, web.campaign, "off.a", by="operator", now=web.clock())
    assert (d.sessions_ended, d.tokens_revoked) == (1, 1)
    assert c.get("/api/v1/me").status_code == 401
    assert web.client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    r = web.sign_in("off.a", PASSWORD)
    assert r.status_code == 401 and "停用" in r.text
    assert web.sign_in("off.a", "Wrong-Password-1").status_code == 401
    assert "停用" not in web.sign_in("off.a", "Wrong-Password-1").text  # said only to who knows the password
    enable(web.engine, web.campaign, "off.a", by="operator", now=web.clock())
    assert web.sign_in("off.a", PASSWORD).status_code == 303
    # what disabling revoked stays revoked
    assert web.client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_new_password_ends_every_session_of_the_account(web):
    c = web.browser("off.a")
    other = web.client()
    assert web.sign_in("off.a", PASSWORD, other).status_code == 303
    from services.accounts.links import reset, set_password

    link = reset(web.engine, web.campaign, "off.a", by="operator", now=web.clock(),
                 valid_for=web.limits.link_valid)
    assert c.get("/api/v1/me").status_code == 200  # a reset alone locks nobody out
    set_password(web.engine, link.token, "Second-Lotus-2024", now=web.clock())
    assert c.get("/api/v1/me").status_code == 401 and other.get("/api/v1/me").status_code == 401
    assert web.sign_in("off.a", PASSWORD).status_code == 401
    assert web.sign_in("off.a", "Second-Lotus-2024").status_code == 303


def test_cookies_are_httponly_lax_and_secure_over_https(db_url, tmp_path):
    with running_web(db_url, tmp_path) as web:
        web.account("off.a")
        r = web.sign_in("off.a")
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("rectify_session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Secure" not in cookie and "Path=/" in cookie
        assert "Max-Age" not in cookie and "expires" not in cookie.lower()  # gone with the browser
    with running_web(db_url, tmp_path / "https", public_url="https://rectify.example.test") as web:
        web.account("off.b")
        c = web.client()
        page = c.get("/sign-in")
        form_cookie = page.headers["set-cookie"]
        assert form_cookie.startswith("__Host-rectify_form=") and "Secure" in form_cookie
        # httpx sends no Secure cookie over plain http: send the form cookie by hand
        r = web.client().post("/sign-in", cookies={"__Host-rectify_form": c.cookies["__Host-rectify_form"]},
                              data={"csrf_token": csrf_of(page), "username": "off.b", "password": PASSWORD})
        cookie = r.headers["set-cookie"]
        assert r.status_code == 303, r.text
        assert cookie.startswith("__Host-rectify_session=") and "Secure" in cookie and "HttpOnly" in cookie
        assert "Domain" not in cookie and "Path=/" in cookie
        assert r.headers["strict-transport-security"].startswith("max-age=")
