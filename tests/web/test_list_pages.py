"""The list pages over HTTP against the real app (SQLite and PostgreSQL): the clue list
(the same query as GET /api/v1/clues, filtered and a page at a time), the rounds one
sees, the notices one sees with each notice as its printable document; what a person
sees of each, and a bad filter answered with one line, never a traceback."""
from __future__ import annotations

import re
from html import unescape

import pytest

from app.web.pages import notices as notice_pages
from services.clues.lifecycle import list_clues, transition
from services.core.directory import actor as lookup_actor, campaign_row
from services.lookback import opening, rounds
from services.lookback.checks import list_checks
from services.notices.issue import notices_between
from statemachine.lookback.spec import RoundSpec

from ..conftest import at
from .site import NOW, mid_campaign


@pytest.fixture
def site(db_url, tmp_path):
    with mid_campaign(db_url, tmp_path) as s:
        yield s


def listed_clues(html: str) -> list[str]:
    return re.findall(r'<tr data-number="([^"]+)"><td><a href="/clues/\1">', html)


def pager(html: str, rel: str) -> str | None:
    m = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return unescape(m.group(1)) if m else None


def error_line(r) -> str:
    m = re.search(r'<p class="error" role="alert">(.*?)</p>', r.text, re.S)
    assert m, r.text[:1000]
    return unescape(m.group(1))


def actor_of(web, username: str):
    with web.engine.connect() as conn:
        return lookup_actor(conn, campaign_row(conn, web.campaign).id, username)


# -- the clue list ------------------------------------------------------------------------------
def test_the_clue_list_shows_what_the_person_sees_each_linked_to_its_page(site):
    web, numbers = site
    liaison, supervisor = web.browser("off.a"), web.browser("sup.city")
    mine = liaison.get("/clues")
    assert mine.status_code == 200
    assert sorted(listed_clues(mine.text)) == sorted(numbers[k] for k in ("verify", "rectify", "approve"))
    everyone = listed_clues(supervisor.get("/clues").text)
    assert sorted(everyone) == sorted(numbers.values())
    # naming another county's unit shows nothing of it
    assert listed_clues(liaison.get("/clues", params={"unit": "county-b"}).text) == []
    # a county's liaison has no unit to choose; the supervisor chooses among the units below
    assert 'name="unit"' not in mine.text and 'value="county-b"' in supervisor.get("/clues").text
    assert web.client().get("/clues").status_code == 303  # signed out: to the sign-in page


@pytest.mark.parametrize("filters", [
    {"state": "rectifying"}, {"state": "received"}, {"unit": "county-b"}, {"unit": "county-a"},
    {"overdue": "1"}, {"aspect": "profit"}, {"aspect": "“逐利执法”问题"}, {"kind": "clue"},
    {"kind": "self_inspection"}, {"state": "received", "unit": "county-b", "overdue": "1"}])
def test_each_filter_lists_what_the_api_lists(site, filters):
    web, numbers = site
    client = web.browser("sup.city")
    page = client.get("/clues", params=filters)
    api = client.get("/api/v1/clues", params={**filters, "overdue": "true" if filters.get("overdue") else "false"})
    assert page.status_code == api.status_code == 200
    assert listed_clues(page.text) == [c["number"] for c in api.json()["items"]]
    # and the filter is kept in the form
    for key, value in filters.items():
        if key in ("state", "unit", "kind") or value == "profit":
            assert f'value="{value}" selected' in page.text
    if filters.get("overdue"):
        assert listed_clues(page.text) == [numbers["overdue_b"]]


def test_the_clue_list_pages_through_every_clue_once(db_url, tmp_path):
    with mid_campaign(db_url, tmp_path, extra_clues=70) as (web, _):
        liaison = web.browser("off.a")
        seen, url, pages = [], "/clues?state=received", 0
        while url:
            r = liaison.get(url)
            assert r.status_code == 200
            seen += listed_clues(r.text)
            url, pages = pager(r.text, "next"), pages + 1
            assert pages < 5
        expected = [v.number for v in list_clues(web.engine, web.campaign, state="received", limit=1000,
                                                 seen_by=actor_of(web, "off.a"))]
        assert pages == 2 and len(expected) == 71 and seen == expected
        last = liaison.get("/clues?state=received&offset=50")
        assert len(listed_clues(last.text)) == 21 and pager(last.text, "next") is None
        assert pager(last.text, "prev") == "/clues?state=received"
        assert listed_clues(liaison.get("/clues?offset=5000").text) == []


@pytest.mark.parametrize("query, status, says", [
    ("state=lost", 422, "unknown state 'lost'"),
    ("aspect=nothing", 422, "unknown aspect 'nothing'"),
    ("kind=rumour", 422, "unknown kind 'rumour'"),
    ("unit=nowhere", 404, "nowhere"),
    ("overdue=perhaps", 422, "overdue"),
    ("offset=-1", 422, "offset"),
    ("offset=abc", 422, "offset"),
    ("state=" + "x" * 300, 422, "state"),
])
def test_a_bad_filter_is_one_line_and_no_traceback(site, query, status, says):
    web, _ = site
    r = web.browser("sup.city").get(f"/clues?{query}")
    assert r.status_code == status
    line = error_line(r)
    assert says in line and "\n" not in line.strip()
    assert "Traceback" not in r.text and "SELECT" not in r.text


def test_the_api_filters_by_aspect_and_refuses_an_unknown_one(site):
    web, numbers = site
    client = web.browser("sup.city")
    assert len(client.get("/api/v1/clues", params={"aspect": "profit"}).json()["items"]) == len(numbers)
    r = client.get("/api/v1/clues", params={"aspect": "nothing"})
    assert r.status_code == 422 and "unknown aspect 'nothing'" in r.json()["detail"]


# -- rounds --------------------------------------------------------------------------------------
def _open_round(web, code: str, scope: str, organiser: str, teams: list[dict]) -> None:
    now = at(NOW)
    spec = RoundSpec.model_validate(dict(code=code, title=f"整改“回头看”（{code}）", scope=scope,
                                         deadline="2023-05-15", selection={"mode": "all"}, teams=teams))
    rounds.plan_round(web.engine, web.campaign, spec, actor=organiser, now=now)
    opening.draw(web.engine, web.campaign, code, actor=organiser, now=now)
    opening.notify(web.engine, web.campaign, code, actor=organiser, now=now, calendar=web.runtime.calendar,
                   channels=())


def listed_rounds(html: str) -> dict[str, str]:
    return dict(re.findall(r'<tr data-code="([^"]+)" data-state="([^"]+)"><td><a href="/rounds/\1">', html))


def test_the_rounds_list_and_pages_follow_who_sees_a_round(site):
    web, numbers = site
    transition(web.engine, web.campaign, numbers["approve"], "approve", actor="sup.city", now=at(NOW))
    _open_round(web, "lb-city", "city", "sup.city", [{"code": "t1", "name": "第一督察组", "members": ["insp.city"]},
                                                     {"code": "t2", "name": "第二督察组", "members": ["insp.b"]}])
    rounds.plan_round(web.engine, web.campaign, RoundSpec.model_validate(dict(
        code="lb-a", title="甲县自查回头看", scope="county-a", deadline="2023-05-20", selection={"mode": "all"},
        teams=[{"code": "a1", "name": "甲县督察组", "members": ["off.a"]}])), actor="sup.a", now=at(NOW))
    supervisor = web.browser("sup.city")
    assert listed_rounds(supervisor.get("/rounds").text) == {"lb-city": "open", "lb-a": "planned"}
    assert listed_rounds(web.browser("off.a").get("/rounds").text) == {"lb-city": "open", "lb-a": "planned"}
    off_b = web.browser("off.b")
    assert listed_rounds(off_b.get("/rounds").text) == {"lb-city": "open"}  # county A's own round is not theirs
    r = off_b.get("/rounds/lb-a")
    assert r.status_code == 403 and "may not see round lb-a" in error_line(r)
    assert off_b.get("/rounds/nothing").status_code == 404
    # an inspected unit sees the round, but only its own unit's checks (none here), never another's
    [check] = list_checks(web.engine, web.campaign, "lb-city")
    page = off_b.get("/rounds/lb-city")
    assert page.status_code == 200 and numbers["approve"] not in page.text
    assert numbers["approve"] not in off_b.get("/rounds/lb-city?team=t1").text
    # a team member sees their team's checks, not the other team's, whichever team they name
    member = web.browser("insp.b")
    for team in ("", "t1", "t2"):
        shown = numbers["approve"] in member.get(f"/rounds/lb-city?team={team}").text
        assert shown == (check.team == "t2" and team in ("", "t2")), team
    assert numbers["approve"] in supervisor.get("/rounds/lb-city").text


# -- notices -------------------------------------------------------------------------------------
def listed_notices(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)"><td><a href="/notices/\1">', html)]


def test_the_notices_list_shows_the_units_notices_each_as_its_printable_document(site):
    web, _ = site
    liaison, supervisor = web.browser("off.a"), web.browser("sup.city")
    mine = listed_notices(liaison.get("/notices").text)
    theirs = [n.id for n in notices_between(web.engine, web.campaign, seen_by=actor_of(web, "off.a"))]
    everyone = [n.id for n in notices_between(web.engine, web.campaign)]
    assert mine == theirs and listed_notices(supervisor.get("/notices").text) == everyone
    assert mine and len(mine) < len(everyone)
    chases = listed_notices(supervisor.get("/notices?kind=chase").text)
    assert chases == [n.id for n in notices_between(web.engine, web.campaign, kind="chase")] and chases
    assert set(chases) < set(everyone)
    doc = liaison.get(f"/notices/{mine[0]}")
    assert doc.status_code == 200
    assert '<link rel="stylesheet" href="/static/print.css">' in doc.text
    assert '<div class="print-bar"><a href="/notices">' in doc.text
    assert "script" not in doc.headers["content-security-policy"] and "<script" not in doc.text
    css = liaison.get("/static/print.css").text
    assert "size: A4" in css and re.search(r"@media print \{.*\.print-bar \{ display: none; \}", css, re.S)
    other = next(i for i in everyone if i not in mine)
    r = liaison.get(f"/notices/{other}")
    assert r.status_code == 403 and f"may not see notice {other}" in error_line(r)
    assert liaison.get("/notices/999999").status_code == 404
    assert liaison.get("/notices/abc").status_code == 422


def test_the_notices_list_pages_and_refuses_a_bad_kind(site, monkeypatch):
    web, _ = site
    monkeypatch.setattr(notice_pages, "NOTICE_PAGE", 2)  # the served app reads it per request
    supervisor = web.browser("sup.city")
    everyone = [n.id for n in notices_between(web.engine, web.campaign)]
    assert len(everyone) > 2
    seen, url = [], "/notices"
    while url:
        r = supervisor.get(url)
        assert r.status_code == 200 and len(listed_notices(r.text)) <= 2
        seen += listed_notices(r.text)
        url = pager(r.text, "next")
    assert seen == everyone
    for query, says in (("kind=rumour", "unknown notice kind 'rumour'"), ("offset=x", "offset")):
        r = supervisor.get(f"/notices?{query}")
        assert r.status_code == 422 and says in error_line(r) and "Traceback" not in r.text
    # the API asks the same function: an unknown kind is refused there too, not an empty list
    r = supervisor.get("/api/v1/notices", params={"kind": "rumour"})
    assert r.status_code == 422 and "unknown notice kind 'rumour'" in r.json()["detail"]


# -- navigation ----------------------------------------------------------------------------------
def test_every_page_links_the_lists(site):
    web, _ = site
    page = web.browser("off.a").get("/work")
    for href in ("/work", "/clues", "/notices", "/rounds", "/dashboard", "/reports", "/audit"):
        assert f'<a href="{href}">' in page.text
    assert '<a href="/clues">' not in web.client().get("/sign-in").text  # nobody signed in: no menu
