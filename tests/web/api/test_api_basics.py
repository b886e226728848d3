"""What every part of the API shares: its OpenAPI document, problem+json refusals, sign-in
and CSRF, the campaign and its figures, the audit log, and answers on a kept-alive
connection that are not held back."""
from __future__ import annotations

import time

from sqlalchemy import select

from models.tables import AuditRecord, User
from services.reports.status import campaign_status

from ..conftest import PASSWORD, csrf_of
from .conftest import CAMPAIGN, NOW

JSON_OPS = [("get", "/api/v1/clues"), ("post", "/api/v1/clues/{number}/actions/{trigger}"),
            ("post", "/api/v1/cases/actions/{trigger}"), ("get", "/api/v1/campaign/figures")]


def test_the_openapi_document_describes_every_operation_and_its_answers(api):
    doc = api.client(None).get("/api/v1/openapi.json").json()
    ops = {(m, p): op for p, item in doc["paths"].items() for m, op in item.items()}
    mine = {k: op for k, op in ops.items() if k[1].startswith("/api/v1/") and k[1] != "/api/v1/openapi.json"}
    assert len(mine) >= 45
    for (method, path), op in mine.items():
        assert op.get("summary"), f"{method} {path} has no summary"
        ok = next(s for s in op["responses"] if s.startswith("2"))
        assert op["responses"][ok].get("content"), f"{method} {path}: its answer is not described"
        assert "4XX" in op["responses"], f"{method} {path}: its refusals are not described"
    for key in JSON_OPS:
        ok = next(s for s in ops[key]["responses"] if s.startswith("2"))
        assert "$ref" in str(ops[key]["responses"][ok]["content"]["application/json"]["schema"])
    triggers = ops[("post", "/api/v1/clues/{number}/actions/{trigger}")]["parameters"]
    assert next(p for p in triggers if p["name"] == "trigger")["schema"]["enum"]


def test_signed_out_and_bad_tokens_are_401_problems(api):
    r = api.client(None).get("/api/v1/clues")
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = api.client(None).get("/api/v1/clues", headers={"Authorization": "Bearer rct_forged"})
    assert r.status_code == 401 and "无效" in r.json()["detail"]


def test_a_browser_session_works_and_its_unsafe_requests_need_the_csrf_token(api, tmp_path):
    from services.accounts.links import set_password, reset
    from services.accounts.accounts import Limits

    link = reset(api.engine, CAMPAIGN, "off.a", by="operator", now=_wall(), valid_for=Limits().link_valid)
    set_password(api.engine, link.token, PASSWORD, now=_wall())
    with api.client(None) as browser:
        page = browser.get("/sign-in")
        r = browser.post("/sign-in", data={"csrf_token": csrf_of(page), "username": "off.a", "password": PASSWORD})
        assert r.status_code == 303
        number = api.seeded.clues["read"]
        assert browser.get(f"/api/v1/clues/{number}").status_code == 200
        before = api.head()
        forged = browser.post(f"/api/v1/clues/{number}/actions/verify")
        assert forged.status_code == 403 and "CSRF" in forged.json()["detail"] and api.head() == before
        token = csrf_of(browser.get("/"))
        r = browser.post(f"/api/v1/clues/{number}/actions/verify", headers={"X-CSRF-Token": token})
        assert r.status_code == 200 and r.json()["state"] == "verifying"
        r = browser.post("/api/v1/tokens", json={"name": "夜间导出\u0000", "days": 7}, headers={"X-CSRF-Token": token})
        assert r.status_code == 422 and "control characters" in r.json()["detail"]  # PostgreSQL: was a 500


def _wall():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


def test_the_figures_are_the_status_services_own(api):
    status = campaign_status(api.engine, CAMPAIGN, as_of=NOW)
    whole = api.client("sup.prov").get("/api/v1/campaign/figures").json()
    assert whole["scope"] == "campaign" and whole["figures"]["sentence"] == status.figures.sentence()
    assert [u["code"] for u in whole["units"]] == [u.code for u in status.units]
    county = api.client("off.a").get("/api/v1/campaign/figures").json()
    a = next(u for u in status.units if u.code == "county-a")
    assert county["scope"] == "county-a" and [u["code"] for u in county["units"]] == ["county-a"]
    assert county["figures"]["sentence"] == a.figures.sentence() and county["figures"]["rate"] == a.figures.rate
    plan = api.client("off.a").get("/api/v1/campaign").json()
    assert plan["code"] == CAMPAIGN and [s["key"] for s in plan["stages"]] == ["deploy", "rectify", "summary"]
    assert plan["reporting"][0]["schedule"]["weekday"] == "thu"


def test_the_audit_log_pages_back_and_the_chain_verifies(api):
    c = api.client("sup.prov")
    first = c.get("/api/v1/audit", params={"limit": 10}).json()
    seqs = [r["seq"] for r in first["records"]]
    assert seqs == sorted(seqs, reverse=True) and first["next_before"] == seqs[-1]
    older = c.get("/api/v1/audit", params={"limit": 10, "before": first["next_before"]}).json()
    assert older["records"][0]["seq"] == seqs[-1] - 1
    verified = c.get("/api/v1/audit/verify").json()
    head = c.get("/api/v1/audit/head").json()
    assert verified["intact"] and verified["records"] == head["seq"] >= seqs[0]
    assert verified["head"]["check_code"] == head["check_code"]
    # what the province's supervisor does not read of the newest: other people's account events
    # (their tokens, a disabling), each that person's alone (services/core/visibility.py)
    with api.engine.connect() as conn:
        newer = conn.execute(select(AuditRecord.entity, AuditRecord.entity_id, User.username)
                             .join(User, User.id == AuditRecord.entity_id)
                             .where(AuditRecord.seq > seqs[0])).all()
    assert len(newer) == head["seq"] - seqs[0]
    assert all(entity == "account" and name != "sup.prov" for entity, _, name in newer)
    own = api.client("off.b").get("/api/v1/audit", params={"limit": 200}).json()["records"]
    assert {r["entity"] for r in own} <= {"account", "unit"}  # county-b's own records only


def test_answers_on_a_kept_alive_connection_are_not_held_back(api):
    with api.client("off.a") as c:
        c.get("/api/v1/me")
        started = time.perf_counter()
        for _ in range(20):
            assert c.get("/api/v1/me").status_code == 200
        # 20 answers held back by Nagle's algorithm against a delayed ACK took 20 × 40 ms
        assert time.perf_counter() - started < 0.6
