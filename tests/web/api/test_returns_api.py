"""退单 / 改派 through the API (services/clues/returns.py): the unit returns a clue, the
level above sees the decision among the clue's actions and reassigns it; who may not is
refused, and the clue's history names every step."""
from __future__ import annotations


def _actions(client, number: str) -> set[str]:
    return {a["trigger"] for a in client.get(f"/api/v1/clues/{number}").json()["actions"]}


def test_a_return_and_its_reassignment_through_the_api(api):
    a, sup = api.client("off.a"), api.client("sup.p1")
    n = a.post("/api/v1/clues", json={"unit": "county-a", "channel": "12345", "aspect": "rough",
                                      "summary": "国道路段执法人员态度粗暴"}).json()["number"]
    assert "return" in _actions(a, n) and "reassign" not in _actions(sup, n)
    r = a.post(f"/api/v1/clues/{n}/actions/return", json={})
    assert r.status_code == 422 and "reason" in r.json()["detail"]
    assert api.client("off.b").post(f"/api/v1/clues/{n}/actions/return", json={"reason": "x"}).status_code == 403
    r = a.post(f"/api/v1/clues/{n}/actions/return", json={"reason": "该路段属二县管辖"})
    assert r.status_code == 200, r.text
    assert "return" not in _actions(a, n)                        # one return at a time
    assert {"reassign", "refuse_return"} <= _actions(sup, n)
    assert not {"reassign", "refuse_return"} & _actions(api.client("sup.a"), n)  # its own unit's supervisor
    assert api.client("sup.a").post(f"/api/v1/clues/{n}/actions/reassign",
                                    json={"to": "county-b"}).status_code == 403
    r = sup.post(f"/api/v1/clues/{n}/actions/reassign", json={"to": "county-b"})
    assert r.status_code == 200, r.text
    assert r.json()["unit"] == "甲市二县交通运输局" and r.json()["state"] == "received"
    assert [h["trigger"] for h in r.json()["history"]][-3:] == ["return", "reassign", "reassign"]
    assert "return" in _actions(api.client("off.b"), n)
    assert a.get(f"/api/v1/clues/{n}").status_code == 403       # 甲县 no longer sees it
