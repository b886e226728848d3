"""Clues over HTTP: list (filtered, paginated, only what one sees), read with history and
the actions one may take, add, import a CSV, fire one or many; stale writes refused
naming what changed (409 for a body version, 412 for If-Match)."""
from __future__ import annotations

from sqlalchemy import func, select

from models.tables import Clue

from .conftest import FULL_CLUE


def test_a_clue_reads_with_its_history_and_the_actions_its_reader_may_take(api):
    number = api.seeded.clues["approve"]  # rectified: 销号 is a supervisor's above the unit
    unit = api.client("off.a").get(f"/api/v1/clues/{number}")
    above = api.client("sup.p1").get(f"/api/v1/clues/{number}")
    assert unit.status_code == above.status_code == 200
    assert unit.json()["state"] == "rectified" and unit.json()["state_label"] == "整改完成(申请销号)"
    assert [h["trigger"] for h in unit.json()["history"]] == ["receive", "verify", "substantiate", "submit_evidence"]
    assert unit.json()["history"][2]["detail"]["measures"] == FULL_CLUE["measures"]
    assert unit.json()["actions"] == []  # its own unit approves nothing
    offered = {a["trigger"]: a for a in above.json()["actions"]}
    assert set(offered) == {"approve", "reject", "transfer", "merge"}
    assert offered["approve"]["label"] == "销号" and offered["reject"]["needs"] == ["has_reason"]
    assert unit.headers["etag"] == f'"{unit.json()["version"]}"'


def test_firing_a_trigger_moves_the_clue_and_says_what_it_may_do_next(api):
    c = api.client("off.a")
    number = api.seeded.clues["substantiate"]
    r = c.post(f"/api/v1/clues/{number}/actions/substantiate",
               json={"measures": "退还罚款", "deadline": "2023-06-30", "owner": "沈书仪"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "rectifying" and r.json()["deadline_at"].startswith("2023-06-30")
    # and, its deadline running, it may ask for 延期 (issue 16)
    assert {a["trigger"] for a in r.json()["actions"]} == {"submit_evidence", "defer", "request_extension"}


def test_a_trigger_missing_what_it_needs_is_refused_naming_the_guard(api):
    c = api.client("off.a")
    number = api.seeded.clues["substantiate"]
    r = c.post(f"/api/v1/clues/{number}/actions/substantiate", json={"measures": "退还罚款"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["error"] == "GuardRefused" and "has_deadline" in r.json()["detail"]
    assert c.get(f"/api/v1/clues/{number}").json()["state"] == "verifying"


def test_a_trigger_the_state_does_not_allow_is_a_409_naming_what_is_allowed(api):
    r = api.client("off.a").post(f"/api/v1/clues/{api.seeded.clues['read']}/actions/submit_evidence",
                                 json={"evidence": "照片"})
    assert r.status_code == 409 and r.json()["error"] == "InvalidTransition"
    assert "state 'received'" in r.json()["detail"] and "verify" in r.json()["detail"]


def test_a_stale_version_is_refused_naming_what_changed(api):
    c = api.client("off.a")
    number = api.seeded.clues["read"]
    read = c.get(f"/api/v1/clues/{number}").json()
    assert c.post(f"/api/v1/clues/{number}/actions/verify", json={"version": read["version"]}).status_code == 200
    before = api.head()
    stale = c.post(f"/api/v1/clues/{number}/actions/dismiss", json={"version": read["version"], "reason": "重复"})
    assert stale.status_code == 409 and stale.json()["error"] == "ConflictError"
    assert f"changed since version {read['version']}" in stale.json()["detail"]
    assert "(verifying)" in stale.json()["detail"] and "last changed by off.a" in stale.json()["detail"]
    assert api.head() == before


def test_if_match_carries_the_version_and_a_stale_one_is_a_412(api):
    c = api.client("off.a")
    number = api.seeded.clues["read"]
    etag = c.get(f"/api/v1/clues/{number}").headers["etag"]
    r = c.post(f"/api/v1/clues/{number}/actions/verify", headers={"If-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] != etag
    stale = c.post(f"/api/v1/clues/{number}/actions/dismiss", headers={"If-Match": etag}, json={"reason": "重复"})
    assert stale.status_code == 412 and stale.json()["error"] == "PreconditionFailed"
    assert "changed since version" in stale.json()["detail"]
    bad = c.post(f"/api/v1/clues/{number}/actions/dismiss", headers={"If-Match": "yesterday"}, json={"reason": "x"})
    assert bad.status_code == 422 and "If-Match" in bad.json()["detail"]
    assert c.get(f"/api/v1/clues/{number}").json()["state"] == "verifying"


def test_the_list_is_paginated_filtered_and_only_what_one_sees(api):
    c = api.client("sup.p1")
    first = c.get("/api/v1/clues", params={"limit": 5})
    assert first.status_code == 200 and len(first.json()["items"]) == 5 and first.json()["next_offset"] == 5
    numbers = [x["number"] for x in first.json()["items"]]
    rest = []
    offset = first.json()["next_offset"]
    while offset is not None:
        page = c.get("/api/v1/clues", params={"limit": 5, "offset": offset}).json()
        rest += [x["number"] for x in page["items"]]
        offset = page["next_offset"]
    assert len(numbers + rest) == len(set(numbers + rest)) == len(api.seeded.clues)
    closed = c.get("/api/v1/clues", params={"state": "closed"}).json()["items"]
    assert {x["number"] for x in closed} == {n for k, n in api.seeded.clues.items()
                                            if k in ("reopen", "redo", "closed-1", "closed-2")}
    assert c.get("/api/v1/clues", params={"limit": 201}).status_code == 422
    assert c.get("/api/v1/clues", params={"state": "lost"}).status_code == 422
    assert api.client("off.b").get("/api/v1/clues").json()["items"] == []  # a sibling's are not theirs


def test_adding_a_clue_answers_201_with_where_it_lives(api):
    c = api.client("off.a")
    r = c.post("/api/v1/clues", json={"unit": "county-a", "channel": "12328", "aspect": "rough",
                                      "summary": "执法人员推搡当事人", "reporter_name": "路人甲",
                                      "reporter_phone": "13800000000"})
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/api/v1/clues/{r.json()['number']}"
    # its unit verifies it, or returns it (退单) within the plan's window
    assert r.json()["state"] == "received" and [a["trigger"] for a in r.json()["actions"]] == ["verify", "return"]
    bad = c.post("/api/v1/clues", json={"unit": "county-a", "channel": "12328", "aspect": "rough",
                                        "summary": "x", "colour": "red"})
    assert bad.status_code == 422 and "colour" in bad.json()["detail"]


def test_a_csv_imports_all_rows_or_none_and_its_errors_name_the_row(api):
    c = api.client("off.a")
    good = "channel,aspect,summary,unit\n12345,profit,乱罚款,county-a\n信访投诉,rough,态度粗暴,county-a\n"
    r = c.post("/api/v1/clues/import", files={"file": ("../../etc/passwd", good.encode(), "text/csv")})
    assert r.status_code == 201 and len(r.json()["numbers"]) == 2
    with api.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(Clue)).scalar_one()
    bad = good + "12345,profit,,county-a\n"
    r = c.post("/api/v1/clues/import", files={"file": ("clues.csv", bad.encode(), "text/csv")})
    # every bad cell named, one line each, under the count (issue 15)
    assert r.status_code == 422 and r.json()["detail"] == "clues.csv: 1 error, nothing imported\nrow 4, summary: empty"
    with api.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Clue)).scalar_one() == count


def test_a_clue_takes_a_sources_short_name_as_the_cli_does(api):
    c = api.client("off.a")
    r = c.post("/api/v1/clues", json={"unit": "county-a", "channel": "信访", "aspect": "rough",
                                      "summary": "执法人员态度生硬"})
    assert r.status_code == 201, r.text
    assert r.json()["channel"] == "信访投诉"  # stored by its full name
    bad = c.post("/api/v1/clues", json={"unit": "county-a", "channel": "来信", "aspect": "rough", "summary": "x"})
    assert bad.status_code == 422, bad.text


def test_the_web_import_is_the_clis_every_bad_cell_named_and_a_work_order_taken_once(api):
    c = api.client("off.a")
    rows = "工单号,channel,aspect,summary,unit\nGD-0001,12345,profit,乱罚款,county-a\nGD-0002,信访,rough,态度粗暴,county-a\n"
    first = c.post("/api/v1/clues/import", files={"file": ("clues.csv", rows.encode(), "text/csv")})
    assert first.status_code == 201 and len(first.json()["numbers"]) == 2, first.text
    again = c.post("/api/v1/clues/import", files={"file": ("clues.csv", rows.encode(), "text/csv")})
    assert again.status_code == 201, again.text
    assert again.json() == {"numbers": [], "already": first.json()["numbers"]}
    with api.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(Clue)).scalar_one()
    bad = "工单号,channel,aspect,summary,unit\nGD-0003,来信,profit,乱罚款,county-a\nGD-0004,12345,profit,,county-a\n"
    r = c.post("/api/v1/clues/import", files={"file": ("clues.csv", bad.encode(), "text/csv")})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail.startswith("clues.csv: 2 errors, nothing imported") and "row 2, channel" in detail \
        and "row 3, summary: empty" in detail, detail
    with api.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Clue)).scalar_one() == count


def test_many_clues_move_at_once_and_the_ineligible_are_skipped(api):
    c = api.client("sup.p1")
    numbers = [api.seeded.clues["bulk"], api.seeded.clues["approve"], api.seeded.clues["read"]]
    r = c.post("/api/v1/clues/actions/approve", json={"numbers": numbers})
    assert r.status_code == 200, r.text
    assert sorted(m["number"] for m in r.json()["moved"]) == sorted(numbers[:2]) and r.json()["skipped"] == 1
    assert all(m["to_state"] == "closed" for m in r.json()["moved"])
    assert c.post("/api/v1/clues/actions/approve", json={}).status_code == 422


def test_control_characters_are_refused_before_anything_runs(api):
    c = api.client("off.a")
    r = c.get("/api/v1/clues", params={"unit": "county-a\x00"})
    assert r.status_code == 422 and "control characters" in r.json()["detail"]
    r = c.post("/api/v1/clues", json={"unit": "county-a", "channel": "12345", "aspect": "profit",
                                      "summary": "乱罚款\x00"})
    assert r.status_code == 422 and "control characters" in r.json()["detail"]


def test_if_match_holds_for_the_steps_with_use_cases_of_their_own(api):
    """签收, 退单, 改派, 合并 and 重办 are not the clue chart's generic step: a stale If-Match
    (or body version) refuses them too, before anything is judged or written."""
    unit, sup = api.client("off.a"), api.client("sup.p1")
    number, other = api.seeded.clues["read"], api.seeded.clues["substantiate"]
    etag = unit.get(f"/api/v1/clues/{number}").headers["etag"]
    assert unit.post(f"/api/v1/clues/{number}/actions/verify", headers={"If-Match": etag}).status_code == 200
    before = api.head()
    for who, trigger, body in ((unit, "sign", {}), (unit, "return", {"reason": "不属本单位职责"}),
                               (sup, "reassign", {"to": "county-b"}), (sup, "refuse_return", {"reason": "属本单位"}),
                               (sup, "merge", {"into": other, "reason": "同一事项"}),
                               (sup, "redo", {"reason": "群众不满意"})):
        stale = who.post(f"/api/v1/clues/{number}/actions/{trigger}", headers={"If-Match": etag}, json=body)
        assert stale.status_code == 412, (trigger, stale.text)
        assert f"clue {number} changed since version" in stale.json()["detail"], trigger
        in_body = who.post(f"/api/v1/clues/{number}/actions/{trigger}", json={**body, "version": 1})
        assert in_body.status_code == 409 and in_body.json()["error"] == "ConflictError", trigger
    assert api.head() == before
    # the current version passes the check: what refuses it then is the step's own rule
    fresh = unit.get(f"/api/v1/clues/{number}").headers["etag"]
    r = unit.post(f"/api/v1/clues/{number}/actions/sign", headers={"If-Match": fresh})
    assert r.status_code != 412


def test_a_stale_version_tells_nothing_to_one_who_may_not_act_on_the_clue(api):
    """The conflict says the clue's state and who last changed it: one outside its tree gets
    the refusal of their reach instead, stale version or not, on every kind of step."""
    number = api.seeded.clues["read"]
    api.client("off.a").post(f"/api/v1/clues/{number}/actions/verify")  # version moves on
    before = api.head()
    stranger = api.client("off.b")  # 乙县's liaison: county-a's clue is not theirs
    for trigger, body in (("dismiss", {"reason": "重复"}), ("sign", {}), ("return", {"reason": "不属本单位"}),
                          ("redo", {"reason": "x"})):
        r = stranger.post(f"/api/v1/clues/{number}/actions/{trigger}", json={**body, "version": 1})
        assert r.status_code in (403, 404), (trigger, r.status_code, r.text)
        assert "changed since" not in r.text and "off.a" not in r.text, (trigger, r.text)
    assert api.head() == before
