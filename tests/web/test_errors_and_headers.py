"""What every answer carries: security headers; errors as problem+json under /api/ and a
Chinese page elsewhere, each expected error at its HTTP status with its one line; a
malformed body a 4xx; and never a traceback or SQL, whatever went wrong."""
from __future__ import annotations

import inspect
import re

import pytest
from fastapi import APIRouter, Depends, Request
from sqlalchemy import text

from app.web.auth import signed_in
from app.web.deps import engine
from app.web.headers import CSP
from statemachine import errors

from .conftest import csrf_of, running_web

# a router a later part of the app might add: its errors and its CSRF come from the app
probe = APIRouter()
SECRET_SQL = "SELECT password_hash FROM credentials WHERE user_id = 1"


def _error_instance(cls):
    params = inspect.signature(cls.__init__).parameters
    if cls is errors.InvalidTransition:
        return cls(entity="clue X-1", state="closed", trigger="verify", allowed=[])
    if cls is errors.GuardRefused:
        return cls(entity="clue X-1", trigger="approve", guard="evidence", reason="no evidence")
    if cls is errors.PlanReferenceError:
        return cls(("units", 0), f"{cls.__name__} happened")
    if cls is errors.CalendarNotCovered:
        from datetime import date

        return cls(2031, date(2031, 1, 2))
    if "retry_after" in params:
        return cls(f"{cls.__name__} happened", retry_after=60)
    return cls(f"{cls.__name__} happened")


TREE = [getattr(errors, n) for n in errors.__all__]


@probe.get("/api/v1/probe/raise/{name}")
@probe.get("/probe/raise/{name}")
def raise_expected(name: str):
    raise _error_instance(getattr(errors, name))


@probe.get("/api/v1/probe/bug")
@probe.get("/probe/bug")
def a_bug():
    raise RuntimeError(f"cannot run {SECRET_SQL}")


@probe.get("/api/v1/probe/sql")
def bad_sql(request: Request, who=Depends(signed_in)):
    with engine(request).connect() as conn:  # the app's own database, as a route reaches it
        conn.execute(text(SECRET_SQL.replace("credentials", "no_such_table")))


@probe.post("/api/v1/probe/change")
def change(who=Depends(signed_in)):
    return {"changed": True}


@pytest.fixture
def probed(db_url, campaign, tmp_path):  # campaign: db_url is a clone of the loaded template
    with running_web(db_url, tmp_path, routers=[probe]) as w:
        yield w


def _no_leak(r) -> None:
    body = r.text
    for leak in ("Traceback", "File \"", "SELECT", "password_hash", "sqlalchemy", "RuntimeError"):
        assert leak not in body, (leak, body)


# The probe raises each error without touching the database, so the mapping is proved
# on SQLite alone; the tests below, which do reach the database, run on both.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("cls", TREE, ids=lambda c: c.__name__)
def test_every_expected_error_is_its_status_and_its_one_line(probed, cls):
    c = probed.client()
    expected = _error_instance(cls)
    r = c.get(f"/api/v1/probe/raise/{cls.__name__}")
    assert r.status_code == cls.http_status
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == cls.http_status and body["detail"] == str(expected)
    assert body["error"] == cls.__name__ and body["title"]
    page = c.get(f"/probe/raise/{cls.__name__}")
    if cls is errors.NotSignedIn:  # a page sends the browser to sign in instead
        assert page.status_code == 303 and page.headers["location"].startswith("/sign-in?next=")
    else:
        assert page.status_code == cls.http_status and page.headers["content-type"].startswith("text/html")
        assert str(expected).replace("'", "&#39;") in page.text and 'lang="zh-CN"' in page.text
    if cls is errors.TooManyAttempts:
        assert r.headers["retry-after"] == "60" and page.headers["retry-after"] == "60"


def test_a_bug_is_a_bare_500_with_an_incident_number_and_the_log_has_the_rest(probed, caplog):
    c = probed.client()
    for path in ("/api/v1/probe/bug", "/probe/bug"):
        r = c.get(path)
        assert r.status_code == 500
        _no_leak(r)
        incident = re.search(r"incident ([0-9a-f]{12})", r.text).group(1)
        logged = [rec for rec in caplog.records if incident in rec.getMessage()]
        assert len(logged) == 1 and logged[0].exc_info and SECRET_SQL in str(logged[0].exc_info[1])
        assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["content-type"].startswith("text/html")
    assert c.get("/api/v1/probe/bug").headers["content-type"] == "application/problem+json"


def test_a_database_error_never_shows_its_sql(probed):
    c = probed.browser("off.a")
    r = c.get("/api/v1/probe/sql")
    assert r.status_code == 500 and r.json()["error"] == "InternalError"
    _no_leak(r)


def test_a_router_added_later_gets_csrf_without_asking(probed):
    c = probed.browser("off.a")
    r = c.post("/api/v1/probe/change", json={})
    assert r.status_code == 403 and r.json()["error"] == "PermissionDenied"
    r = c.post("/api/v1/probe/change", json={}, headers={"X-CSRF-Token": csrf_of(c.get("/"))})
    assert r.status_code == 200 and r.json() == {"changed": True}
    assert probed.client().post("/api/v1/probe/change", json={}).status_code == 401


@pytest.mark.parametrize("body,ctype", [
    (b'{"name": "ci", "days": ', "application/json"),
    (b'{"name": "ci", "days": "many"}', "application/json"),
    (b'["not", "an", "object"]', "application/json"),
    (b'{"name": "ci", "days": 7, "admin": true}', "application/json"),
    (b"\xff\xfe\x00garbage", "application/json"),
    (b"name=ci&days=7", "application/x-www-form-urlencoded"),
])
def test_a_malformed_body_is_a_4xx_problem_and_changes_nothing(web, body, ctype):
    c = web.browser("off.a")
    r = c.post("/api/v1/tokens", content=body,
               headers={"content-type": ctype, "X-CSRF-Token": csrf_of(c.get("/"))})
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == r.status_code and "\n" not in r.json()["detail"]
    _no_leak(r)
    assert c.get("/api/v1/tokens").json() == []


def test_a_malformed_form_is_a_4xx(web):
    c = web.client()
    page = c.get("/sign-in")
    r = c.post("/sign-in", content=b"--x\r\nContent-Disposition: form-data; name=\"user\r\n\r\n",
               headers={"content-type": "multipart/form-data; boundary=x"})
    assert 400 <= r.status_code < 500
    _no_leak(r)
    r = c.post("/sign-in", data={"csrf_token": csrf_of(page), "username": "u" * 500, "password": "p"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    _no_leak(r)
    r = c.post("/tokens/not-a-number/revoke", data={"csrf_token": csrf_of(page)})
    assert 400 <= r.status_code < 500


def test_unknown_paths_and_methods(web):
    c = web.client()
    r = c.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = c.get("/nothing-here")
    assert r.status_code == 404 and "找不到" in r.text and r.headers["content-type"].startswith("text/html")
    r = c.put("/api/v1/me")
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"


def test_security_headers_are_on_every_answer(web):
    c = web.browser("off.a")
    answers = [c.get("/"), c.get("/sign-in"), c.get("/api/v1/me"), c.get("/api/v1/openapi.json"),
               c.get("/api/v1/docs"), c.get("/static/style.css"), web.client().get("/api/v1/me"),
               c.get("/nothing-here"), c.post("/api/v1/tokens", json={})]
    for r in answers:
        h = r.headers
        assert h["content-security-policy"] == CSP, r.url
        assert "default-src 'self'" in CSP and "frame-ancestors 'none'" in CSP
        assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer"
        assert "server" not in h
        if not r.url.path.startswith("/static/"):
            assert h["cache-control"] == "no-store", r.url
        assert "strict-transport-security" not in h  # plain http here


def test_the_openapi_document_and_its_page(web):
    c = web.client()
    doc = c.get("/api/v1/openapi.json")
    assert doc.status_code == 200
    d = doc.json()
    assert "/api/v1/me" in d["paths"] and all(p.startswith("/api/v1/") for p in d["paths"])
    me = d["paths"]["/api/v1/me"]["get"]["responses"]
    assert me["4XX"]["content"]["application/problem+json"]["schema"]["$ref"] == "#/components/schemas/Problem"
    assert set(d["components"]["securitySchemes"]) == {"bearer", "session"}
    page = c.get("/api/v1/docs")
    assert page.status_code == 200 and "/api/v1/me" in page.text and "/api/v1/openapi.json" in page.text
    assert "<script" not in page.text
