"""考核排名 over HTTP (SQLite and PostgreSQL): the page and `GET /api/v1/ranking` show the
root's supervisor every row with the 红榜 / 黑榜, and a unit its own row and rank only
(the scenario of tests/integration/test_ranking.py)."""
from __future__ import annotations

import re

import pytest

from statemachine.time.calendar import WorkingCalendar

from ..integration.test_ranking import seed_april


@pytest.fixture
def april_web(web):
    seed_april(web.engine, web.campaign, WorkingCalendar())
    return web


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-unit="([^"]+)"', html)


def test_the_root_supervisor_reads_every_row_and_the_lists(april_web):
    sup = april_web.browser("sup.city")
    page = sup.get("/ranking", params={"period": "2023-04"})
    assert page.status_code == 200, page.text
    # town-c1 had nothing to assess: after the assessed units, whatever its score
    assert _rows(page.text) == ["county-b", "county-a", "town-c1"]
    assert 'id="red"' in page.text and "乙县" in page.text.split('id="red"')[1].split("</ol>")[0]
    assert "甲县" in page.text.split('id="black"')[1].split("</ol>")[0]
    api = sup.get("/api/v1/ranking", params={"period": "2023-04"})
    assert api.status_code == 200, api.text
    body = api.json()
    assert body["period"] == "2023-04" and body["from"] == "2023-04-01" and body["ranked"] == 3
    assert [r["unit"] for r in body["rows"]] == _rows(page.text)
    assert (body["red"], body["black"]) == (["county-b"], ["county-a"])
    assert all(isinstance(r["score"], str) for r in body["rows"])


def test_a_unit_reads_its_own_row_and_rank_only(april_web):
    sup = april_web.browser("sup.city")
    whole = {r["unit"]: r["rank"] for r in sup.get("/api/v1/ranking", params={"period": "2023-04"}).json()["rows"]}
    off = april_web.browser("off.b")
    page = off.get("/ranking", params={"period": "2023-04"})
    assert page.status_code == 200 and _rows(page.text) == ["county-b"]
    assert 'id="red"' not in page.text and 'id="black"' not in page.text
    body = off.get("/api/v1/ranking", params={"period": "2023-04"}).json()
    assert [(r["unit"], r["rank"]) for r in body["rows"]] == [("county-b", whole["county-b"])]
    assert body["red"] == body["black"] == [] and body["ranked"] == 3


def test_a_bad_period_is_refused_in_one_line_and_anonymous_readers_are_turned_away(april_web):
    sup = april_web.browser("sup.city")
    r = sup.get("/api/v1/ranking", params={"period": "2023-13"})
    assert r.status_code == 422, r.text
    assert "period '2023-13' is not a month" in r.text
    assert april_web.client().get("/api/v1/ranking", params={"period": "2023-04"}).status_code == 401
