"""`rectify clue transition … approve` is one transaction with a fixed, small number
of SQL statements (the schema check, the default campaign, the clue with its unit
and the actor, the versioned write, the audit chain's head and record), counted
on the real CLI run in this process, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import Engine, event

from app.cli import main
from services.clues import lifecycle as clues
from services.clues.lifecycle import ClueInput, NewClue

from ..conftest import at


@pytest.fixture
def rectified(engine, campaign, calendar) -> str:
    (n,) = clues.add_clues(engine, campaign, [NewClue(channel="12345", aspect="profit", summary="罚款不开票",
                                                      unit="county-a")], actor="off.a", now=at("2023-04-03"),
                           calendar=calendar)
    for trigger, data in [("verify", ClueInput()),
                          ("substantiate", ClueInput(measures="退还", deadline=at("2023-05-30").date(),
                                                     owner="赵书涵")),
                          ("submit_evidence", ClueInput(evidence="整改报告.pdf"))]:
        clues.transition(engine, campaign, n, trigger, actor="off.a", now=at("2023-04-04"), data=data)
    return n


class Counter:
    def __init__(self):
        self.statements: list[str] = []
        self.transactions = 0

    def __enter__(self):
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Engine, "begin", self._begin)
        return self

    def __exit__(self, *exc):
        event.remove(Engine, "before_cursor_execute", self._statement)
        event.remove(Engine, "begin", self._begin)

    def _statement(self, conn, cursor, statement, *rest):
        if not statement.lstrip().upper().startswith(("PRAGMA", "BEGIN")):  # connection set-up
            self.statements.append(" ".join(statement.split())[:80])

    def _begin(self, conn):
        self.transactions += 1


def test_approve_from_the_command_line_is_one_transaction_of_a_few_statements(engine, db_url, rectified,
                                                                               capsys):
    with Counter() as seen:
        rc = main(["--db", db_url, "--now", "2023-05-20", "clue", "transition", rectified, "approve",
                   "--as", "sup.city"])
    assert rc == 0, capsys.readouterr().err
    assert "办结/销号" in capsys.readouterr().out
    assert seen.transactions == 1, seen.statements
    # the schema's revision (PostgreSQL: and its table looked up in the catalog; SQLite: a
    # PRAGMA), the loaded campaigns, the clue with its unit and the actor, SAVEPOINT, the
    # versioned UPDATE … RETURNING, RELEASE, the audit head FOR UPDATE, its record, the head;
    # and what follows 销号 (services/clues/closing.py, issue 16): the plan's callback time, the
    # callback owed, the item and its sources for the reporters' feedback. Folding the callback
    # into the versioned UPDATE would save one: a known next step, pinned here so it cannot grow.
    expected = 13 + (engine.dialect.name == "postgresql")
    assert len(seen.statements) == expected, "\n".join(seen.statements)
    assert sum(s.startswith("UPDATE clues") for s in seen.statements) == 2
