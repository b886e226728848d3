"""Units and stages, reports owed, generated reports, ledgers, rounds and checks over HTTP."""
from __future__ import annotations

from io import BytesIO

import openpyxl


def test_a_unit_advances_when_its_deliverables_are_in_and_if_match_guards_it(api):
    c = api.client("off.a")
    shown = c.get("/api/v1/units/county-a")
    assert shown.json()["stage_key"] == "deploy" and shown.json()["deliverables"] == [
        {"key": "impl_plan", "name": "实施方案", "recorded": True}]
    assert [a["trigger"] for a in shown.json()["actions"]] == ["advance"]
    stale = c.post("/api/v1/units/county-a/advance", headers={"If-Match": '"999"'})
    assert stale.status_code == 412 and "changed since version 999" in stale.json()["detail"]
    r = c.post("/api/v1/units/county-a/advance", headers={"If-Match": shown.headers["etag"]})
    assert r.status_code == 200 and r.json()["stage_key"] == "rectify"
    assert r.json()["actions"] == []  # the new stage's report is not in yet
    r = c.post("/api/v1/units/county-a/deliverables", json={"key": "report", "attachment": "整改报告.pdf"})
    assert r.status_code == 201 and [a["trigger"] for a in r.json()["actions"]] == ["advance"]
    again = c.post("/api/v1/units/county-a/deliverables", json={"key": "report", "attachment": "整改报告.pdf"})
    assert again.status_code == 409 and "already recorded by off.a" in again.json()["detail"]


def test_a_report_owed_is_listed_submitted_once_and_then_shown_submitted(api):
    c = api.client("off.a")
    owed = c.get("/api/v1/duties", params={"limit": 200}).json()["items"]
    line = next(d for d in owed if d["period"] == "2023-05-25")
    assert line["status"] == "upcoming" or line["status"] == "due_soon"
    assert [a["trigger"] for a in line["actions"]] == ["submit"]
    assert {d["unit"] for d in owed} == {"county-a"}  # a unit sees its own, not the team below it
    r = c.post("/api/v1/duties", json={"unit": "county-a", "duty": "weekly", "period": "2023-05-25",
                                       "attachment": "第12周周报.docx"})
    assert r.status_code == 201 and r.json()["status"] == "submitted" and r.json()["submitted_by"] == "off.a"
    again = c.post("/api/v1/duties", json={"unit": "county-a", "duty": "weekly", "period": "2023-05-25",
                                           "attachment": "第12周周报.docx"})
    assert again.status_code == 409
    line = next(d for d in c.get("/api/v1/duties", params={"limit": 200}).json()["items"]
                if d["period"] == "2023-05-25")
    assert line["status"] == "submitted" and line["actions"] == []
    missing = c.get("/api/v1/duties", params={"status": "missing"}).json()["items"]
    assert missing and all(d["status"] == "missing" for d in missing)


def test_a_report_is_generated_listed_and_downloaded_in_each_format(api):
    c = api.client("off.a")
    r = c.post("/api/v1/reports", json={"kind": "weekly", "unit": "county-a", "formats": ["md", "xlsx"]})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["created"] and made["formats"] == ["md", "xlsx"] and "甲市一县交通运输局" in made["markdown"]
    listed = c.get("/api/v1/reports").json()
    assert [(x["kind"], x["period"]) for x in listed] == [("weekly", made["period"])]
    md = c.get(made["downloads"]["md"])
    assert md.status_code == 200 and md.text == made["markdown"]
    xlsx = c.get(made["downloads"]["xlsx"])
    assert xlsx.status_code == 200 and openpyxl.load_workbook(BytesIO(xlsx.content)).sheetnames
    assert c.get(made["downloads"]["md"].replace("/md", "/docx")).status_code == 404
    assert api.client("off.b").get(made["downloads"]["md"]).status_code == 403
    again = c.post("/api/v1/reports", json={"kind": "weekly", "unit": "county-a", "formats": ["md"]})
    assert again.status_code == 201 and again.json()["created"] is False


def test_a_ledger_exports_and_its_dry_run_import_changes_nothing(api):
    c = api.client("off.a")
    r = c.get("/api/v1/ledgers/county-a", params={"template": "004"})
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml")
    before = api.head()
    checked = c.post("/api/v1/ledgers/import", data={"check": "true"},
                     files={"file": ("台账.xlsx", r.content, "application/octet-stream")})
    assert checked.status_code == 200, checked.text
    assert checked.json()["checked"] is True and checked.json()["added"] == 0
    assert checked.json()["unchanged"] == len(api.seeded.clues) and api.head() == before
    junk = c.post("/api/v1/ledgers/import", files={"file": ("x.xlsx", b"PK\x03\x04 not a workbook", "x/y")})
    assert junk.status_code == 422 and junk.json()["detail"].startswith("ledger.xlsx: ")
    assert "/tmp" not in junk.json()["detail"] and api.head() == before


def test_a_check_is_recorded_by_its_team_revised_by_the_organisers_and_the_round_closed(api):
    s = api.seeded
    team, sup = api.client("insp.c"), api.client("sup.p1")
    checks = team.get("/api/v1/rounds/r-record/checks").json()["items"]
    mine = next(x for x in checks if x["number"] == s.checks["record"])
    assert {a["trigger"] for a in mine["actions"]} == {"confirm", "find_relapse", "find_faked"}
    r = team.post(f"/api/v1/rounds/r-record/checks/{s.checks['record']}/record",
                  json={"outcome": "relapsed", "method": "随机抽查", "findings": "罚款仍未退还", "version": 1})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "relapsed" and r.json()["new_deadline"] and r.json()["actions"] == []
    revised = sup.post(f"/api/v1/rounds/r-record/checks/{s.checks['record']}/revise", json={"reason": "记录有误"})
    assert revised.status_code == 200 and revised.json()["state"] == "pending"
    shown = sup.get("/api/v1/rounds/r-record").json()
    assert shown["state"] == "open" and {a["trigger"] for a in shown["actions"]} == {"begin_close", "cancel"}
    closed = sup.post("/api/v1/rounds/r-record/close")
    assert closed.status_code == 200 and closed.json()["state"] == "closed" and closed.json()["tally"]["totals"]
    late = team.post(f"/api/v1/rounds/r-record/checks/{s.checks['record']}/record",
                     json={"outcome": "confirmed", "method": "随机抽查"})
    assert late.status_code == 422 and "is closed" in late.json()["detail"]


def test_a_planned_round_opens_and_its_units_are_given_to_teams(api):
    sup = api.client("sup.p1")
    r = sup.post("/api/v1/rounds/r-open/open")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "open" and r.json()["selected"] == 4  # the closed items: reopen, redo, closed-1, closed-2
    assert r.json()["teams"][0]["units"][0]["code"] == "county-a"
    moved = sup.post("/api/v1/rounds/r-assign/assign", json={"unit": "county-a", "team": "t2"})
    assert moved.status_code == 200 and moved.json()["moved"] == 4  # county-a's four closed items
    assert {x["team"] for x in sup.get("/api/v1/rounds/r-assign/checks").json()["items"]} == {"t2"}
    new = sup.post("/api/v1/rounds", json={"code": "r-new", "title": "实地督察", "scope": "county-a",
                                           "deadline": "2023-09-30", "kind": "field_inspection"})
    assert new.status_code == 201 and new.json()["state"] == "planned"
    assert new.headers["location"] == "/api/v1/rounds/r-new"
    assert {x["code"] for x in api.client("off.a").get("/api/v1/rounds").json()} >= {"r-new", "r-open"}
    assert "r-new" not in {x["code"] for x in api.client("sup.p2").get("/api/v1/rounds").json()}


def test_a_round_file_with_a_control_character_is_refused_before_it_is_stored(api):
    before = api.head()
    r = api.client("sup.p1").post("/api/v1/rounds", json={"code": "r-x", "title": "回头看\u0000", "scope": "county-a",
                                                          "deadline": "2023-09-30",
                                                          "teams": [{"code": "t", "name": "组", "members": ["off.b\u0000"]}]})
    assert r.status_code == 422 and "title: control characters" in r.json()["detail"]
    assert api.head() == before
