"""The my-work page (我的工作) costs the same number of SQL statements however much waits on
it: the statements the server's engine runs for one GET /work, counted for the people of
county B (its liaison and supervisor) and those above it (the prefecture's and the
province's supervisors) and an inspector, when county B has 3 clues, a case and no
report sent, and again when it has 60 clues in every state, 20 cases (proposed, issued,
signed for) and its weekly reports sent, on SQLite and PostgreSQL. A statement per row
(N+1) would show as a difference (services/work/mywork.py)."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import event, insert, select

from models.tables import EscalationCase, Unit
from services.campaigns.load import campaign_id
from services.clues.lifecycle import ClueInput, NewClue, add_clues, bulk_transition
from services.ladder.cases import CaseInput, escalate_unit, fire
from services.reports.duties import owed, submit

from ..conftest import at
from .conftest import CAMPAIGN, NOW

PEOPLE = ("off.b", "sup.b", "sup.p1", "sup.prov", "insp.c")
# of every 10 clues: 4 stay received, 1 verifying, 2 rectifying, 2 submitted for 销号, 1 closed
_REACHED = {"verify": 4, "substantiate": 5, "submit_evidence": 7, "approve": 9}


def _statements(api, username: str) -> list[str]:
    seen: list[str] = []

    def count(conn, cursor, statement, *rest):
        if not statement.lstrip().upper().startswith(("PRAGMA", "BEGIN")):  # connection set-up
            seen.append(" ".join(statement.split())[:100])

    with api.client(username) as client:
        assert client.get("/work").status_code == 200  # the token's last use is stamped once a minute: not counted
        event.listen(api.engine, "before_cursor_execute", count)
        try:
            r = client.get("/work")
        finally:
            event.remove(api.engine, "before_cursor_execute", count)
    assert r.status_code == 200, r.text
    return seen


def _clues(api, calendar, n: int, first: int) -> None:
    numbers = add_clues(api.engine, CAMPAIGN, [NewClue(channel="12345", aspect="profit", summary=f"乙县问题 {first + i}",
                                                       unit="county-b") for i in range(n)],
                        actor="off.b", now=at("2023-05-02"), calendar=calendar)
    for trigger, day, data in (("verify", "2023-05-03", ClueInput()),
                               ("substantiate", "2023-05-04",
                                ClueInput(measures="立即整改", deadline=date(2023, 6, 9), owner="许若溪")),
                               ("submit_evidence", "2023-05-05", ClueInput(evidence="整改报告")),
                               ("approve", "2023-05-06", ClueInput())):
        moved = [num for i, num in enumerate(numbers) if (first + i) % 10 >= _REACHED[trigger]]
        if moved:
            actor = "sup.p1" if trigger == "approve" else "off.b"
            bulk_transition(api.engine, CAMPAIGN, trigger, actor=actor, now=at(day), numbers=moved, data=data,
                            calendar=calendar)


def _cases(api, calendar, n: int, tag: str) -> None:
    """`n` cases against county B: a third proposed by the ladder (awaiting a supervisor's
    confirmation), a third issued, a third signed for (awaiting the response)."""
    engine = api.engine
    cid = campaign_id(engine, CAMPAIGN)
    with engine.begin() as conn:
        unit = conn.execute(select(Unit.id).where(Unit.code == "county-b")).scalar_one()
        for i in range(0, n, 3):
            conn.execute(insert(EscalationCase.__table__).values(
                campaign_id=cid, unit_id=unit, level=1, state="proposed", cause="manual",
                key=f"grow:{tag}:{i}", automatic=True, reason="核查逾期", proposed_by="system",
                proposed_at=at("2023-05-10"), updated_at=at("2023-05-10"), updated_by="system", version=1))
    for i in range(n - len(range(0, n, 3))):
        case = escalate_unit(engine, CAMPAIGN, "county-b", 1, actor="sup.p1", now=at("2023-05-12"),
                             calendar=calendar, data=CaseInput(reason=f"整改不力（{i}）"))
        if i % 2:
            fire(engine, CAMPAIGN, case.id, "acknowledge", actor="off.b", now=at("2023-05-13"), calendar=calendar)


def _reports(api, sent: int) -> None:
    """County B sends `sent` of the weekly reports it owes."""
    missing = [ln for ln in owed(api.engine, CAMPAIGN, as_of=NOW, unit="county-b")
               if ln.unit == "county-b" and ln.status == "missing"]
    assert len(missing) >= sent
    for ln in missing[:sent]:
        submit(api.engine, CAMPAIGN, unit="county-b", duty=ln.duty, period=ln.period, attachment="工作周报.pdf",
               actor="off.b", now=NOW)


def _totals(api) -> dict[str, str]:
    with api.client("off.b") as client:
        page = client.get("/work").text
    return dict(re.findall(r'<section class="work" id="([a-z-]+)">\s*<h2>[^<]*<span class="count">([^<]+)</span>',
                           page))


def test_the_my_work_page_costs_the_same_statements_for_3_clues_or_60(api, calendar):
    _clues(api, calendar, 3, first=3)  # received, verifying, rectifying
    _cases(api, calendar, 1, "few")
    few = {who: _statements(api, who) for who in PEOPLE}
    before = _totals(api)

    _clues(api, calendar, 57, first=10)
    _cases(api, calendar, 19, "many")
    _reports(api, 3)
    many = {who: _statements(api, who) for who in PEOPLE}
    after = _totals(api)

    for who in PEOPLE:
        assert len(many[who]) == len(few[who]), f"{who}:\n" + "\n".join(many[who])
        assert len(few[who]) > 5, f"{who}:\n" + "\n".join(few[who])  # the listener saw the page's statements
    # and the page did show more: county B's lists as its liaison sees them
    assert (before["to-verify"], after["to-verify"]) == ("2 项", "32 项")
    assert (before["to-rectify"], after["to-rectify"]) == ("1 项", "13 项")
    assert before["cases"] != after["cases"] and before["reports"] != after["reports"], (before, after)
