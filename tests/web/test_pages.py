"""The pages over HTTP against the real app (SQLite and PostgreSQL): what a county
liaison and a supervisor see of the campaign in mid-course (tests/web/site.py), the
steps they take through the pages' forms, and refusals that change nothing."""
from __future__ import annotations

import re
from contextlib import contextmanager
from html import unescape

import pytest
from sqlalchemy import event, func, select

from models.tables import EscalationCase, Notice
from services.clues.lifecycle import NewClue, add_clues, get_clue
from services.ladder.cases import list_cases
from services.reports.status import campaign_status

from ..conftest import at
from .conftest import csrf_of
from .site import NOW, mid_campaign


@pytest.fixture
def site(db_url, tmp_path):
    with mid_campaign(db_url, tmp_path) as s:
        yield s


def text_of(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def section(html: str, ident: str) -> str:
    m = re.search(rf'<section class="work" id="{ident}">(.*?)</section>', html, re.S)
    assert m, f"no section {ident}"
    return m.group(1)


@contextmanager
def statements(engine):
    """Every SQL statement the engine runs inside the block."""
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def case_states(engine) -> dict[int, str]:
    E = EscalationCase.__table__
    with engine.connect() as conn:
        return dict(conn.execute(select(E.c.id, E.c.state)).all())


def proposed(web) -> list:
    return [c for c in list_cases(web.engine, web.campaign, state="proposed")]


# -- my work ---------------------------------------------------------------------------------
def test_a_liaison_sees_the_units_clues_with_deadline_colours(site):
    web, numbers = site
    page = web.browser("off.a").get("/work")
    assert page.status_code == 200
    verify, rectify = section(page.text, "to-verify"), section(page.text, "to-rectify")
    assert numbers["verify"] in verify and numbers["rectify"] not in verify
    # due 2023-04-29 23:59, seen on 04-28 12:00: within the plan's blue window (3 days), not yet yellow (1)
    assert numbers["rectify"] in rectify and 'data-colour="blue"' in rectify and "还剩 1 天" in text_of(rectify)
    assert numbers["approve"] in rectify  # 申请销号: waiting for the level above
    assert "待确认的督办措施" not in page.text and numbers["overdue_b"] not in page.text  # county B is not theirs


def test_a_supervisor_sees_what_waits_for_them_below(site):
    web, numbers = site
    page = web.browser("sup.city").get("/work")
    assert numbers["approve"] in section(page.text, "to-approve")
    confirm = section(page.text, "to-confirm")
    assert sorted(re.findall(r'name="case" value="(\d+):\d+"', confirm)) == sorted(str(c.id) for c in proposed(web))
    assert len(proposed(web)) == 3
    assert "乙县（county-b）" in text_of(section(page.text, "overdue-units"))


def test_the_my_work_page_costs_the_same_statements_for_ten_clues_or_a_hundred(site):
    web, _ = site
    liaison, supervisor = web.browser("off.a"), web.browser("sup.city")
    for client in (liaison, supervisor):
        assert client.get("/work").status_code == 200  # caches warm (the plan)

    def cost(client) -> int:
        with statements(web.engine) as seen:
            assert client.get("/work").status_code == 200
        return len(seen)

    before = cost(liaison), cost(supervisor)
    add_clues(web.engine, web.campaign, [NewClue(channel="12345", aspect="profit", summary=f"新增问题{i}",
                                                 unit="county-a", received_at=at("2023-04-01"))
                                         for i in range(120)],
              actor="off.a", now=at("2023-04-28 09:00"), calendar=web.runtime.calendar)
    after = cost(liaison), cost(supervisor)
    assert after == before
    assert before[0] > 3  # the listener saw the page's statements at all
    page = liaison.get("/work").text
    assert "待核查的问题线索 121 项" in text_of(page) and "另有 21 项未列出" in text_of(page)


def test_a_supervisor_confirms_two_proposed_cases_in_one_post(site):
    web, _ = site
    client = web.browser("sup.city")
    page = client.get("/work")
    picked = re.findall(r'name="case" value="(\d+:\d+)"', page.text)[:2]
    with web.engine.connect() as conn:
        notices_before = conn.execute(select(func.count()).select_from(Notice.__table__)).scalar()
    r = client.post("/work/cases", data={"csrf_token": csrf_of(page), "case": picked, "step": "issue"})
    assert r.status_code == 303 and r.headers["location"].startswith("/work?done=")
    states = case_states(web.engine)
    assert [states[int(p.split(":")[0])] for p in picked] == ["issued", "issued"]
    with web.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Notice.__table__)).scalar() == notices_before + 2
    assert "2 项督办措施已确认下发" in text_of(client.get(r.headers["location"]).text)


def test_a_stale_case_in_the_set_refuses_the_whole_post(site):
    web, _ = site
    client = web.browser("sup.city")
    page = client.get("/work")
    picked = re.findall(r'name="case" value="(\d+:\d+)"', page.text)
    first = client.post("/work/cases", data={"csrf_token": csrf_of(page), "case": picked[:1], "step": "issue"})
    assert first.status_code == 303
    before = case_states(web.engine)
    # the same form again: its first case has moved on (version), the others have not
    r = client.post("/work/cases", data={"csrf_token": csrf_of(page), "case": picked, "step": "issue"})
    assert r.status_code == 409
    line = text_of(r.text)
    assert f"case {picked[0].split(':')[0]}" in line and f"none of the {len(picked)} cases changed" in line
    assert case_states(web.engine) == before


def test_withdrawing_without_a_reason_is_refused_and_changes_nothing(site):
    web, _ = site
    client = web.browser("sup.city")
    page = client.get("/work")
    picked = re.findall(r'name="case" value="(\d+:\d+)"', page.text)
    before = case_states(web.engine)
    r = client.post("/work/cases", data={"csrf_token": csrf_of(page), "case": picked, "step": "withdraw",
                                         "reason": "  "})
    assert r.status_code == 422 and "a reason" in text_of(r.text)
    assert case_states(web.engine) == before


# -- a clue's page -----------------------------------------------------------------------------
def action_forms(html: str) -> list[str]:
    return re.findall(r'data-action="([a-z_]+)"', html)


def test_only_the_steps_the_person_may_take_are_shown(site):
    web, numbers = site
    liaison, supervisor = web.browser("off.a"), web.browser("sup.city")
    assert action_forms(liaison.get(f"/clues/{numbers['approve']}").text) == []  # not their own 销号
    assert sorted(action_forms(supervisor.get(f"/clues/{numbers['approve']}").text)) == \
        ["approve", "merge", "reject", "transfer"]
    # the unit may ask for 延期 while its deadline runs (issue 16)
    assert sorted(action_forms(liaison.get(f"/clues/{numbers['rectify']}").text)) == \
        ["defer", "request_extension", "submit_evidence"]
    assert action_forms(liaison.get(f"/clues/{numbers['verify']}").text) == ["verify"]
    # county B's clue is not county A's to see
    r = liaison.get(f"/clues/{numbers['overdue_b']}")
    assert r.status_code == 403 and "may not see clue" in text_of(r.text)


def test_a_supervisor_merges_a_duplicate_from_its_page(site):
    web, numbers = site
    dup, keep = numbers["verify"], numbers["rectify"]
    supervisor = web.browser("sup.city")
    page = supervisor.get(f"/clues/{dup}")
    assert 'name="into"' in page.text  # the form asks for the item kept
    refused = supervisor.post(f"/clues/{dup}/actions/merge", data={"csrf_token": csrf_of(page), "reason": "同一事项",
                                                                  "into": dup})
    assert refused.status_code == 422 and "cannot be merged into itself" in text_of(refused.text)
    r = supervisor.post(f"/clues/{dup}/actions/merge", data={"csrf_token": csrf_of(page), "reason": "同一事项",
                                                            "into": keep})
    assert r.status_code == 303 and get_clue(web.engine, web.campaign, dup).state == "merged"
    assert action_forms(supervisor.get(f"/clues/{dup}").text) == []  # merged is final


def test_a_clues_page_shows_its_deadline_colour_from_the_plan_it_read_once(site):
    web, numbers = site
    liaison = web.browser("off.a")
    assert liaison.get(f"/clues/{numbers['rectify']}").status_code == 200  # caches warm (the plan)
    with statements(web.engine) as seen:
        page = liaison.get(f"/clues/{numbers['rectify']}")
    # due 2023-04-29 23:59, seen on 04-28 12:00: within the plan's blue window (3 days), not yet yellow (1)
    assert 'data-colour="blue"' in page.text and "还剩 1 天" in text_of(page.text)
    plan_reads = [s for s in seen if "length(campaigns.plan_json)" in s]
    assert len(plan_reads) == 1, plan_reads  # the page's colours come from the plan it read


def test_a_liaison_submits_for_approval_and_the_supervisor_approves(site):
    web, numbers = site
    n = numbers["rectify"]
    liaison = web.browser("off.a")
    page = liaison.get(f"/clues/{n}")
    r = liaison.post(f"/clues/{n}/actions/submit_evidence",
                     data={"csrf_token": csrf_of(page), "version": "3", "evidence": "整改台账及照片"})
    assert r.status_code == 303 and get_clue(web.engine, web.campaign, n).state == "rectified"
    supervisor = web.browser("sup.city")
    page = supervisor.get(f"/clues/{n}")
    r = supervisor.post(f"/clues/{n}/actions/approve", data={"csrf_token": csrf_of(page), "version": "4"})
    assert r.status_code == 303
    view = get_clue(web.engine, web.campaign, n)
    assert (view.state, view.resolution) == ("closed", "approved")
    assert "sup.city approve rectified → closed" in text_of(supervisor.get(r.headers["location"]).text)


def test_a_refused_step_shows_its_reason_and_changes_nothing(site):
    web, numbers = site
    n = numbers["approve"]
    liaison = web.browser("off.a")
    page = liaison.get(f"/clues/{n}")
    r = liaison.post(f"/clues/{n}/actions/approve", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 403 and "their own unit" in text_of(r.text)
    supervisor = web.browser("sup.city")
    page = supervisor.get(f"/clues/{n}")
    stale = supervisor.post(f"/clues/{n}/actions/approve", data={"csrf_token": csrf_of(page), "version": "1"})
    assert stale.status_code == 409 and "changed since version 1" in text_of(stale.text)
    missing = supervisor.post(f"/clues/{n}/actions/reject", data={"csrf_token": csrf_of(page), "reason": ""})
    assert missing.status_code == 422 and "a reason" in text_of(missing.text)
    forged = supervisor.post(f"/clues/{n}/actions/approve", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    # a form of its own use case (挂账, 延期, 合并) read before the change is refused the same way
    for trigger, fields in (("suspend", {"reason": "等待司法裁判"}), ("request_extension", {"reason": "汛期",
                                                                                     "until": "2023-12-01"}),
                            ("merge", {"into": numbers["verify"], "reason": "同一事项"})):
        stale = supervisor.post(f"/clues/{n}/actions/{trigger}",
                                data={"csrf_token": csrf_of(page), "version": "1", **fields})
        assert stale.status_code == 409 and "changed since version 1" in text_of(stale.text), trigger
    assert get_clue(web.engine, web.campaign, n).version == 4  # nothing moved


# -- a case, its notice ----------------------------------------------------------------------------
def test_the_case_page_and_its_printable_notice(site):
    web, _ = site
    E = EscalationCase.__table__
    with web.engine.connect() as conn:
        case_id, notice_id = conn.execute(
            select(E.c.id, Notice.__table__.c.id).join(Notice.__table__, Notice.__table__.c.case_id == E.c.id)
            .where(E.c.state == "escalated").order_by(E.c.id).limit(1)).one()
    client = web.browser("off.a")
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200 and f'href="/notices/{notice_id}"' in page.text
    doc = client.get(f"/notices/{notice_id}")
    assert doc.status_code == 200 and '<link rel="stylesheet" href="/static/print.css">' in doc.text
    assert "script-src" not in doc.headers["content-security-policy"]
    assert "style-src 'self' 'unsafe-inline'" in doc.headers["content-security-policy"]
    assert "size: A4" in client.get("/static/print.css").text
    # another county's notice is not theirs
    with web.engine.connect() as conn:
        other = conn.execute(select(Notice.__table__.c.id).join(E, E.c.id == Notice.__table__.c.case_id)
                             .where(E.c.unit_id != page_unit(conn, "county-a"))).scalars().first()
    assert client.get(f"/notices/{other}").status_code == 403


def page_unit(conn, code: str) -> int:
    from models.tables import Unit

    U = Unit.__table__
    return conn.execute(select(U.c.id).where(U.c.code == code)).scalar_one()


def test_the_liaison_acknowledges_and_answers_a_case(site):
    web, _ = site
    supervisor = web.browser("sup.city")
    page = supervisor.get("/work")
    [case_a] = [c for c in proposed(web) if c.unit == "county-a"]
    supervisor.post("/work/cases", data={"csrf_token": csrf_of(page), "case": [f"{case_a.id}:{case_a.version}"],
                                         "step": "issue"})
    liaison = web.browser("off.a")
    work = liaison.get("/work")
    assert f'href="/cases/{case_a.id}"' in section(work.text, "cases")
    page = liaison.get(f"/cases/{case_a.id}")
    assert action_forms(page.text) == ["acknowledge", "respond"]  # 签收, or answer at once
    assert liaison.post(f"/cases/{case_a.id}/actions/acknowledge",
                        data={"csrf_token": csrf_of(page)}).status_code == 303
    page = liaison.get(f"/cases/{case_a.id}")
    assert action_forms(page.text) == ["respond"]
    r = liaison.post(f"/cases/{case_a.id}/actions/respond",
                     data={"csrf_token": csrf_of(page), "response": "已召开专题会议，逐项整改"})
    assert r.status_code == 303
    assert "已召开专题会议，逐项整改" in liaison.get(f"/cases/{case_a.id}").text


# -- the dashboard, the audit trail, reports ---------------------------------------------------------
def test_the_dashboard_says_the_figures_as_the_status_counts_them(site):
    web, _ = site
    page = web.browser("sup.city").get("/dashboard")
    assert page.status_code == 200
    sentence = text_of(re.search(r'<p class="sentence" id="figures">(.*?)</p>', page.text, re.S).group(1)).strip()
    assert sentence == campaign_status(web.engine, web.campaign, as_of=at(NOW)).figures.sentence()
    assert "共受理问题线索 4 件" in sentence
    rows = re.findall(r'<tr class="[^"]*" data-colour="([a-z]*)">\s*<td>([^<]+)</td><td>([^<]+)</td>', page.text)
    names = [name for _, name, _ in rows]
    assert set(names) == {"甲县", "乙县"}
    assert dict((n, c) for c, n, _ in rows)["乙县"] == "red"  # an overdue verification
    assert page.text.count('<img src="data:image/svg+xml;base64,') >= 1


def test_the_audit_trail_shows_what_the_person_sees_a_page_at_a_time(site):
    web, numbers = site
    liaison = web.browser("off.a")
    page = liaison.get("/audit")
    assert page.status_code == 200
    seqs = [int(s) for s in re.findall(r"<tr><td>(\d+)</td>", page.text)]
    assert seqs == sorted(seqs, reverse=True) and seqs
    body = text_of(page.text)
    assert "乙县" not in body and "甲县" in body
    add_clues(web.engine, web.campaign, [NewClue(channel="12345", aspect="profit", summary=f"问题{i}",
                                                 unit="county-b") for i in range(60)],
              actor="off.b", now=at("2023-04-28 09:00"), calendar=web.runtime.calendar)
    supervisor = web.browser("sup.city")
    first = supervisor.get("/audit")
    older = re.search(r'href="/audit\?before=(\d+)"', first.text)
    assert older, "a supervisor's trail is longer than a page"
    second = supervisor.get(f"/audit?before={older.group(1)}")
    second_seqs = [int(s) for s in re.findall(r"<tr><td>(\d+)</td>", second.text)]
    assert second_seqs and max(second_seqs) < int(older.group(1))
    assert supervisor.get("/audit?before=abc").status_code == 422


def test_reports_are_generated_and_downloaded_through_the_pages(site):
    web, _ = site
    client = web.browser("sup.city")
    page = client.get("/reports")
    r = client.post("/reports", data={"csrf_token": csrf_of(page), "kind": "monthly", "unit": "city",
                                      "period": "2023-04", "formats": ["md", "html"]})
    assert r.status_code == 303
    listed = client.get(r.headers["location"])
    links = re.findall(r'href="(/reports/file\?[^"]+)"', listed.text)
    assert len(links) == 2
    md = client.get(unescape([u for u in links if u.endswith("format=md")][0]))
    assert md.status_code == 200 and md.headers["content-disposition"].startswith("attachment")
    assert "整改率" in md.text
    # county A's liaison sees no report of the city
    liaison = web.browser("off.a")
    assert liaison.get(unescape(links[0])).status_code == 403
    assert liaison.get("/reports?unit=city").status_code == 403


# -- a round and a team's checklist --------------------------------------------------------------
def test_a_team_member_records_a_check_from_the_teams_checklist(site):
    from services.clues.lifecycle import transition
    from services.lookback import opening, rounds
    from services.lookback.checks import list_checks
    from statemachine.lookback.spec import RoundSpec

    web, numbers = site
    now = at(NOW)
    transition(web.engine, web.campaign, numbers["approve"], "approve", actor="sup.city", now=now)
    spec = RoundSpec.model_validate(dict(
        code="lb-1", title="整改“回头看”", scope="city", deadline="2023-05-15", selection={"mode": "all"},
        teams=[{"code": "t1", "name": "第一督察组", "members": ["insp.city"]},
               {"code": "t2", "name": "第二督察组", "members": ["insp.b"]}]))
    rounds.plan_round(web.engine, web.campaign, spec, actor="sup.city", now=now)
    opening.draw(web.engine, web.campaign, "lb-1", actor="sup.city", now=now)
    opening.notify(web.engine, web.campaign, "lb-1", actor="sup.city", now=now, calendar=web.runtime.calendar,
                   channels=())
    [check] = list_checks(web.engine, web.campaign, "lb-1")
    member = "insp.b" if check.team == "t2" else "insp.city"
    inspector = web.browser(member)
    work = inspector.get("/work")
    assert 'href="/rounds/lb-1"' in section(work.text, "team-checks")
    page = inspector.get("/rounds/lb-1")
    assert page.status_code == 200 and numbers["approve"] in page.text
    assert sorted(action_forms(page.text)) == ["confirm", "find_faked", "find_relapse"]
    r = inspector.post(f"/rounds/lb-1/checks/{check.id}/confirm",
                       data={"csrf_token": csrf_of(page), "method": "random", "findings": "现场核实，整改到位",
                             "version": str(check.version), "team": check.team})
    assert r.status_code == 303
    [after] = list_checks(web.engine, web.campaign, "lb-1")
    assert (after.state, after.method, after.findings) == ("confirmed", "random", "现场核实，整改到位")
    # the supervisor sees the round from my work; a liaison of another county it inspects sees
    # the round (services/lookback/rounds.py `sees_round`), but not county A's check
    assert 'href="/rounds/lb-1"' in section(web.browser("sup.city").get("/work").text, "rounds")
    other = web.browser("off.b").get("/rounds/lb-1")
    assert other.status_code == 200 and numbers["approve"] not in other.text and action_forms(other.text) == []


# -- evidence files from the clue's page --------------------------------------------------------------
def test_evidence_is_uploaded_from_the_clue_page_and_a_wrong_file_changes_nothing(site):
    from services.evidence.files import list_evidence

    from ..evidence_samples import pdf

    web, numbers = site
    n = numbers["rectify"]
    liaison = web.browser("off.a")
    page = liaison.get(f"/clues/{n}")
    assert 'id="upload"' in page.text
    r = liaison.post(f"/clues/{n}/evidence", data={"csrf_token": csrf_of(page)},
                     files={"file": ("../../etc/passwd.pdf", pdf(), "application/pdf")})
    assert r.status_code == 303
    [f] = list_evidence(web.engine, web.campaign, owner_kind="clue", ref=n, actor="off.a")
    assert "/" not in f.name and f.name in liaison.get(f"/clues/{n}").text
    bad = liaison.post(f"/clues/{n}/evidence", data={"csrf_token": csrf_of(page)},
                       files={"file": ("报告.pdf", b"<html><script>alert(1)</script>", "application/pdf")})
    assert bad.status_code == 415 and "<script>" not in bad.text
    forged = liaison.post(f"/clues/{n}/evidence", data={"csrf_token": "x"}, files={"file": ("a.pdf", pdf())})
    assert forged.status_code == 403
    assert len(list_evidence(web.engine, web.campaign, owner_kind="clue", ref=n, actor="off.a")) == 1
    # a closed clue takes no more files: no form
    supervisor = web.browser("sup.city")
    p = supervisor.get(f"/clues/{numbers['approve']}")
    supervisor.post(f"/clues/{numbers['approve']}/actions/approve", data={"csrf_token": csrf_of(p)})
    assert 'id="upload"' not in supervisor.get(f"/clues/{numbers['approve']}").text


def test_confirming_a_proposed_interview_takes_its_time_place_and_attendees(site):
    web, _ = site
    E, N = EscalationCase.__table__, Notice.__table__
    with web.engine.connect() as conn:
        case_id = conn.execute(select(E.c.id).where(E.c.state == "proposed", E.c.level == 2)
                               .order_by(E.c.id).limit(1)).scalar_one()
    client = web.browser("sup.city")
    page = client.get(f"/cases/{case_id}")
    assert 'name="interview_at"' in page.text and 'name="attendees"' in page.text
    form = {"csrf_token": csrf_of(page), "interview_at": "2023-05-08 14:30", "interview_place": "示例市交通运输局三楼会议室",
            "attendees": "你单位局长、分管副局长"}
    refused = client.post(f"/cases/{case_id}/actions/issue", data=form | {"interview_at": "2023-04-27 09:00"})
    assert refused.status_code == 422 and case_states(web.engine)[case_id] == "proposed"
    r = client.post(f"/cases/{case_id}/actions/issue", data=form)
    assert r.status_code == 303 and case_states(web.engine)[case_id] == "issued"
    with web.engine.connect() as conn:
        text = conn.execute(select(N.c.text).where(N.c.case_id == case_id, N.c.kind == "interview")).scalar_one()
    assert "请你单位局长、分管副局长于2023年5月8日14时30分到示例市交通运输局三楼会议室接受约谈" in text
