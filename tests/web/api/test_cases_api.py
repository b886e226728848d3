"""The escalation ladder over HTTP: a case's steps, confirming many proposed cases at once,
a supervisor's measure against a unit, the notices it issues."""
from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import select

from models.tables import EscalationCase, Notice


def _state(api, case_id: int) -> str:
    with api.engine.connect() as conn:
        return conn.execute(select(EscalationCase.state).where(EscalationCase.id == case_id)).scalar_one()


def test_confirming_many_takes_each_case_or_says_why_not(api):
    s = api.seeded
    c = api.client("sup.p1")
    ids = [s.cases["many"], s.cases["issue"], s.cases["acknowledge"]]  # the last is issued already
    r = c.post("/api/v1/cases/actions/issue", json={"ids": ids})
    assert r.status_code == 200, r.text
    assert sorted(x["id"] for x in r.json()["done"]) == sorted(ids[:2])
    assert all(x["state"] == "issued" and x["due_at"] for x in r.json()["done"])
    refused, = r.json()["refused"]
    assert refused["id"] == ids[2] and refused["status"] == 409 and refused["error"] == "InvalidTransition"
    with api.engine.connect() as conn:
        numbered = conn.execute(select(Notice.doc_number).where(Notice.case_id.in_(ids[:2]))).scalars().all()
    assert len(numbered) == 2 and all(n.startswith("整治督〔2023〕") for n in numbered)


def test_when_every_case_is_refused_for_one_reason_that_is_the_answer(api):
    s = api.seeded
    before = api.head()
    r = api.client("sup.a").post("/api/v1/cases/actions/issue", json={"ids": [s.cases["many"], s.cases["issue"]]})
    assert r.status_code == 403 and "甲市一县交通运输局 is their own unit" in r.json()["detail"]
    assert api.head() == before and _state(api, s.cases["many"]) == "proposed"


def test_a_case_walks_its_steps_with_the_actions_each_step_leaves(api):
    s = api.seeded
    unit, sup = api.client("off.a"), api.client("sup.p1")
    case_id = s.cases["respond"]
    shown = unit.get(f"/api/v1/cases/{case_id}").json()
    assert {a["trigger"] for a in shown["actions"]} == {"acknowledge", "respond"}
    assert shown["notices"] and shown["notices"][0]["kind"] == "criticism"
    r = unit.post(f"/api/v1/cases/{case_id}/actions/respond", json={"response": "已逐项整改", "version": shown["version"]})
    assert r.status_code == 200 and r.json()["state"] == "responded"
    assert r.json()["actions"] == []
    assert {a["trigger"] for a in sup.get(f"/api/v1/cases/{case_id}").json()["actions"]} == \
        {"resolve", "return_response", "escalate"}
    r = sup.post(f"/api/v1/cases/{case_id}/actions/resolve", json={"note": "经核实整改到位"})
    assert r.status_code == 200 and r.json()["state"] == "resolved" and r.json()["actions"] == []
    stale = unit.post(f"/api/v1/cases/{case_id}/actions/respond",
                      json={"response": "补充", "version": shown["version"]})
    assert stale.status_code == 409 and "changed since version" in stale.json()["detail"]


def test_a_supervisor_takes_a_measure_against_a_unit_and_its_notice_is_issued(api):
    sup = api.client("sup.p1")
    r = sup.post("/api/v1/units/county-a/escalate", json={"level": 2, "reason": "连续两周未报送工作周报"})
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["measure"] == "函询约谈" and case["state"] == "issued" and case["cause"] == "manual"
    assert r.headers["location"] == f"/api/v1/cases/{case['id']}"
    notice = case["notices"][0]
    doc = sup.get(f"/api/v1/notices/{notice['id']}/document")
    assert doc.status_code == 200 and doc.headers["content-type"].startswith("text/html")
    assert notice["doc_number"] in doc.text and "连续两周未报送工作周报" in doc.text
    file = sup.get(f"/api/v1/notices/{notice['id']}/download", params={"format": "txt"})
    assert file.status_code == 200 and "attachment;" in file.headers["content-disposition"]
    assert "filename*=UTF-8''" in file.headers["content-disposition"] and "连续两周未报送工作周报" in file.text
    assert quote(f"{notice['doc_number']}.txt", safe="") in file.headers["content-disposition"]  # 〔〕 kept
    for fmt, magic in (("pdf", b"%PDF"), ("docx", b"PK")):
        got = sup.get(f"/api/v1/notices/{notice['id']}/download", params={"format": fmt})
        assert got.status_code == 200 and got.content.startswith(magic), fmt
    listed = api.client("off.a").get("/api/v1/notices").json()["items"]
    assert notice["id"] in {n["id"] for n in listed}
    assert api.client("off.b").get(f"/api/v1/notices/{notice['id']}").status_code == 403
    assert sup.post("/api/v1/units/county-a/escalate", json={"level": 6, "reason": "x"}).status_code == 422


def test_the_case_list_filters_by_state_and_level(api):
    c = api.client("sup.p1")
    proposed = c.get("/api/v1/cases", params={"state": "proposed"}).json()["items"]
    assert {x["id"] for x in proposed} == {api.seeded.cases[k] for k in ("issue", "withdraw", "many")}
    listed = c.get("/api/v1/cases", params={"level": 3}).json()["items"]
    assert [x["id"] for x in listed] == [api.seeded.cases["delist"]] and listed[0]["measure"] == "挂牌督办"
    assert c.get("/api/v1/cases", params={"level": 0}).status_code == 422
    assert c.get("/api/v1/cases/2147483648").status_code == 422
    assert c.get("/api/v1/cases/2147483647").status_code == 404


def test_a_supervisor_gives_the_interviews_time_place_and_attendees(api):
    sup = api.client("sup.p1")
    before = api.head()
    past = sup.post("/api/v1/units/county-a/escalate", json={
        "level": 2, "reason": "连续两周未报送工作周报", "interview_at": "2023-05-19T09:30:00+08:00"})
    assert past.status_code == 422 and "is not after the notice's date" in past.json()["detail"]
    assert api.head() == before  # nothing written, no number taken
    r = sup.post("/api/v1/units/county-a/escalate", json={
        "level": 2, "reason": "连续两周未报送工作周报", "interview_at": "2023-05-25T15:00:00",
        "interview_place": "示例市交通运输局二楼会议室", "attendees": "你单位局长、分管副局长"})
    assert r.status_code == 201, r.text
    notice = r.json()["notices"][0]
    text = sup.get(f"/api/v1/notices/{notice['id']}/download", params={"format": "txt"}).text
    assert "请你单位局长、分管副局长于2023年5月25日15时00分到示例市交通运输局二楼会议室接受约谈" in text, text
