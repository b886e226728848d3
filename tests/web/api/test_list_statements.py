"""A list costs the same number of SQL statements however many items the units have: the
statements the server's engine runs for one request, counted before and after the
campaign grows by a few hundred clues, their checks and dozens of cases and notices, on
SQLite and PostgreSQL. A statement per row (N+1) would show as a difference."""
from __future__ import annotations

from datetime import date

from sqlalchemy import event

from services.clues.lifecycle import ClueInput, NewClue, add_clues, bulk_transition
from services.ladder.cases import CaseInput, escalate_unit
from services.lookback import opening
from services.lookback.rounds import plan_round
from statemachine.lookback.spec import RoundSpec

from ..conftest import at
from .conftest import CAMPAIGN

LISTS = {
    "clues of a unit": ("off.a", "/api/v1/clues?limit=200"),
    "clues to verify, as a supervisor": ("sup.p1", "/api/v1/clues?state=received&limit=200"),
    "overdue clues": ("sup.p1", "/api/v1/clues?overdue=true&limit=200"),
    "open cases": ("sup.p1", "/api/v1/cases?open=true&limit=200"),
    "notices": ("off.a", "/api/v1/notices?limit=200"),
    "reports owed": ("off.a", "/api/v1/duties?limit=200"),
    "a round's checks for its team": ("insp.c", "/api/v1/rounds/{round}/checks?limit=200"),
    "the audit log": ("sup.p1", "/api/v1/audit?limit=200"),
    "units": ("sup.prov", "/api/v1/units"),
}


def _statements(api, username: str, path: str) -> list[str]:
    seen: list[str] = []

    def count(conn, cursor, statement, *rest):
        if not statement.lstrip().upper().startswith(("PRAGMA", "BEGIN")):  # connection set-up
            seen.append(" ".join(statement.split())[:100])

    with api.client(username) as client:
        assert client.get(path).status_code == 200  # the token's last use is stamped once a minute: not counted
        event.listen(api.engine, "before_cursor_execute", count)
        try:
            r = client.get(path)
        finally:
            event.remove(api.engine, "before_cursor_execute", count)
    assert r.status_code == 200, r.text
    return seen


def _grow(api, calendar, clues: int, cases: int, round_code: str) -> None:
    engine = api.engine
    numbers = add_clues(engine, CAMPAIGN, [NewClue(channel="12345", aspect="profit", summary=f"批量问题 {i}",
                                                   unit="county-a") for i in range(clues)],
                        actor="off.a", now=at("2023-04-20"), calendar=calendar)
    half = numbers[: clues // 2]  # the rest stay received, overdue for verification by NOW
    kw = dict(actor="sup.p1", numbers=half)
    bulk_transition(engine, CAMPAIGN, "verify", now=at("2023-04-21"), **kw)
    bulk_transition(engine, CAMPAIGN, "substantiate", now=at("2023-04-22"), **kw,
                    data=ClueInput(measures="立即整改", deadline=date(2023, 5, 10), owner="沈书仪"))
    bulk_transition(engine, CAMPAIGN, "submit_evidence", now=at("2023-05-01"), **kw,
                    data=ClueInput(evidence="整改报告"))
    bulk_transition(engine, CAMPAIGN, "approve", now=at("2023-05-02"), **kw)
    for i in range(cases):
        escalate_unit(engine, CAMPAIGN, "county-a", 1 + i % 3, actor="sup.p1", now=at("2023-05-12"),
                      calendar=calendar, data=CaseInput(reason=f"整改不力（{i}）"))
    spec = RoundSpec.model_validate(dict(code=round_code, title="专项整治问题整改“回头看”", scope="pref-1",
                                         deadline="2023-09-15", selection={"mode": "all"},
                                         teams=[{"code": "t1", "name": "第一督察组", "members": ["insp.c"]}]))
    plan_round(engine, CAMPAIGN, spec, actor="sup.p1", now=at("2023-05-18"))
    opening.draw(engine, CAMPAIGN, round_code, actor="sup.p1", now=at("2023-05-18"))
    opening.notify(engine, CAMPAIGN, round_code, actor="sup.p1", now=at("2023-05-18"), calendar=calendar)


def test_a_list_costs_the_same_statements_whatever_the_number_of_items(api, calendar):
    _grow(api, calendar, clues=6, cases=2, round_code="r-few")
    few = {name: _statements(api, who, path.format(round="r-few")) for name, (who, path) in LISTS.items()}
    _grow(api, calendar, clues=300, cases=30, round_code="r-many")
    many = {name: _statements(api, who, path.format(round="r-many")) for name, (who, path) in LISTS.items()}
    for name in LISTS:
        assert len(many[name]) == len(few[name]), f"{name}:\n" + "\n".join(many[name])
        assert len(few[name]) <= 16, f"{name}:\n" + "\n".join(few[name])
    # and the lists did grow: a page of them now
    with api.client("off.a") as c:
        assert len(c.get("/api/v1/clues?limit=200").json()["items"]) == 200
    with api.client("insp.c") as c:
        assert len(c.get("/api/v1/rounds/r-many/checks?limit=200").json()["items"]) > 150
