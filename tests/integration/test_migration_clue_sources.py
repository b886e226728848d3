"""Migration 0017 (clue_sources, clue_callbacks) keeps every clue's source both ways, on
SQLite and PostgreSQL: up, every clue's channel, 工单号 and reporter are its one source; down,
they are the clue's own columns again and the 工单号 is unique per campaign once more (a
number two channels shared names its channel on the later clue)."""
from __future__ import annotations

from alembic import command
from sqlalchemy import func, insert, inspect, select

from models.db import _alembic_config, current_revision, head_revision, upgrade
from models.tables import Clue, ClueSource, ClueSuspension
from services.clues import lifecycle as clues

from ..conftest import at

T, CS, SP = Clue.__table__, ClueSource.__table__, ClueSuspension.__table__
ITEMS = [("12345", "GD-001", "韩雪松", "13800000101"), ("信访", "GD-001", "杜若溪", None),
         ("12345", "GD-002", None, None), ("自查自纠", None, None, None)]


def _clues(conn):
    return conn.execute(select(T.c.number, T.c.channel, T.c.source_ref, T.c.reporter_name, T.c.reporter_phone,
                               T.c.received_at).order_by(T.c.number)).all()


def test_up_and_down_keep_every_source(engine, campaign, calendar):
    clues.add_clues(engine, campaign, [clues.NewClue(channel=ch, aspect="profit", summary=f"事项{i}", unit="county-a",
                                                     source_ref=ref, reporter_name=name, reporter_phone=phone,
                                                     received_at=at("2023-03-20"))
                                       for i, (ch, ref, name, phone) in enumerate(ITEMS)],
                    actor="sup.city", now=at("2023-03-20"), calendar=calendar)
    with engine.connect() as conn:
        before = _clues(conn)
        sources = conn.execute(select(T.c.number, CS.c.channel, CS.c.source_ref, CS.c.reporter_name,
                                      CS.c.reporter_phone, CS.c.received_at).join(T, T.c.id == CS.c.clue_id)
                               .order_by(T.c.number)).all()
    assert [tuple(s) for s in sources] == [tuple(c) for c in before]  # each item's first source is its own

    with engine.begin() as conn:  # a child row of a clue survives the columns dropped
        conn.execute(insert(SP).values(campaign_id=conn.execute(select(T.c.campaign_id)).scalars().first(),
                                       clue_id=conn.execute(select(T.c.id)).scalars().first(), reason="汛期",
                                       started_at=at("2023-03-21"), started_by="sup.city"))
    command.downgrade(_alembic_config(engine), "0016")
    with engine.connect() as conn:
        assert current_revision(conn) == "0016"
        assert conn.execute(select(func.count()).select_from(SP)).scalar_one() == 1
        # two channels' work orders of one number: the later one's number names its channel
        assert _clues(conn) == [c if c.number != "XS-2023-00002" else (*c[:2], "信访投诉:GD-001", *c[3:])
                                for c in before]
        assert not inspect(conn).has_table("clue_sources")
        unique = {i["name"]: i["unique"] for i in inspect(conn).get_indexes("clues")}
        assert unique.get("uq_clues_source_ref")
        assert "callback" not in {c["name"] for c in inspect(conn).get_columns("clues")}

    upgrade(engine)
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        again = conn.execute(select(T.c.number, CS.c.channel, CS.c.source_ref, CS.c.reporter_name,
                                    CS.c.reporter_phone, CS.c.received_at).join(T, T.c.id == CS.c.clue_id)
                             .order_by(T.c.number)).all()
        assert [tuple(s) for s in again] == [tuple(s) if s.number != "XS-2023-00002" else
                                             (*s[:2], "信访投诉:GD-001", *s[3:]) for s in sources]
        assert set(conn.execute(select(T.c.callback)).scalars()) == {"none"}
