"""The audit head only moves forward, and the chain is held against it and
against a witness kept outside the database (SQLite and PostgreSQL).

Each attack is refused by the database (the head's triggers, migration 0007)
or named by `verify`; an attacker who may drop triggers can cut the tail and
lower the head consistently, which only the witness shows. Every attack runs
in a transaction the test rolls back, so one loaded campaign serves many
draws of where to cut.
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from models.tables import AuditHead, AuditRecord
from services.campaigns.load import campaign_id
from services.clues import lifecycle as clues
from services.core.audit import Head, audit_head, check_code, verify
from statemachine.audit import GENESIS, record_hash
from statemachine.errors import AuditBroken

from ..conftest import at

A, H = AuditRecord.__table__, AuditHead.__table__
FORGED = "f" * 64
RECORDS = 12  # load 1, enrol 3, two clues: add 2, verify 2, dismiss 1, substantiate 1, submit 1, approve 1
DRAWS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def cid(engine, campaign, calendar) -> int:
    for summary, path in (("罚款不开票", ("verify", "dismiss")),
                          ("设卡乱罚款", ("verify", "substantiate", "submit_evidence", "approve"))):
        n = clues.add_clues(engine, campaign, [clues.NewClue(channel="12345", aspect="profit", summary=summary,
                                                             unit="county-a")],
                            actor="sup.city", now=at("2023-03-20"), calendar=calendar)[0]
        for day, trigger in enumerate(path, 21):
            data = dict(dismiss=dict(reason="查无实据"), submit_evidence=dict(evidence="票据.pdf"),
                        substantiate=dict(measures="退还罚款", deadline=at("2023-04-28").date(),
                                          owner="赵书涵")).get(trigger, {})
            clues.transition(engine, campaign, n, trigger,
                             actor="sup.city" if trigger == "approve" else "off.a",
                             now=at(f"2023-03-{day}"), data=clues.ClueInput(**data))
    c = campaign_id(engine, campaign)
    assert verify(engine, c).records == RECORDS
    return c


@contextmanager
def attack(engine):
    """A connection in a transaction that is always rolled back."""
    with engine.connect() as conn:
        conn.begin()
        try:
            yield conn
        finally:
            conn.rollback()


def unguard(conn, *tables: str) -> None:
    """What an attacker with DDL rights does first: the tables' triggers out of the way."""
    for table in tables:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
                                 {"t": table}).scalars().all()
            assert names, f"no trigger on {table}"
            for name in names:
                conn.execute(text(f"DROP TRIGGER {name}"))


def head_of(conn, cid) -> Head:
    return Head(*conn.execute(select(H.c.seq, H.c.hash).where(H.c.campaign_id == cid)).one())


def hash_at(conn, cid, seq: int) -> str:
    if seq == 0:
        return GENESIS
    return conn.execute(select(A.c.hash).where(A.c.campaign_id == cid, A.c.seq == seq)).scalar_one()


def cut(conn, cid, keep: int) -> None:
    conn.execute(text("DELETE FROM audit_log WHERE campaign_id = :c AND seq > :k"), {"c": cid, "k": keep})


def lower_head(conn, cid, keep: int) -> None:
    conn.execute(text("UPDATE audit_heads SET seq = :k, hash = :h WHERE campaign_id = :c"),
                 {"k": keep, "h": hash_at(conn, cid, keep), "c": cid})


def refused(conn, statement: str, **params) -> str:
    """Run a statement the database must refuse; the refusal's text."""
    with pytest.raises(DBAPIError) as exc:
        with conn.begin_nested():
            conn.execute(text(statement), params)
    return str(exc.value.orig)


# -- what the application does still passes -------------------------------------------------
def test_the_head_is_the_newest_record_and_its_check_code_names_it(engine, cid):
    with engine.connect() as conn:
        head = audit_head(conn, cid)
        assert head == Head(RECORDS, hash_at(conn, cid, RECORDS)) == head_of(conn, cid)
        witness = {0: GENESIS, 4: hash_at(conn, cid, 4), RECORDS: head.hash}
    assert head.check_code == check_code(RECORDS, head.hash) == f"{RECORDS}-{head.hash[:8].upper()}"
    assert head.line() == f"{RECORDS} {head.hash}"
    result = verify(engine, cid, witness=witness)
    assert result.ok and result.head == head


def test_use_cases_move_the_head_forward_through_the_trigger(engine, campaign, calendar, cid):
    before = audit_head(engine, cid)
    numbers = clues.add_clues(engine, campaign, [clues.NewClue(channel="12345", aspect="profit", summary=s,
                                                               unit="county-b") for s in ("甲", "乙", "丙")],
                              actor="sup.city", now=at("2023-04-03"), calendar=calendar)
    after = audit_head(engine, cid)
    assert after.seq == before.seq + len(numbers) == RECORDS + 3
    assert verify(engine, cid, witness={before.seq: before.hash, after.seq: after.hash}).ok


# -- refused by the database while its triggers are there -----------------------------------
HEAD_REWRITES = {
    "lowered": "UPDATE audit_heads SET seq = seq - 1 WHERE campaign_id = :c",
    "lowered-onto-a-real-record": "UPDATE audit_heads SET seq = :s - 2, hash = :h2 WHERE campaign_id = :c",
    "back-to-genesis": "UPDATE audit_heads SET seq = 0, hash = :genesis WHERE campaign_id = :c",
    "hash-rewritten": "UPDATE audit_heads SET hash = :forged WHERE campaign_id = :c",
    "ahead-of-the-log": "UPDATE audit_heads SET seq = seq + 1 WHERE campaign_id = :c",
    "deleted": "DELETE FROM audit_heads WHERE campaign_id = :c",
    "restarted": "INSERT INTO audit_heads (campaign_id, seq, hash) VALUES (:c, 0, :genesis)",
}


@pytest.mark.parametrize("statement", list(HEAD_REWRITES.values()), ids=list(HEAD_REWRITES))
def test_the_database_refuses_to_rewrite_the_head(engine, cid, statement):
    with attack(engine) as conn:
        head = head_of(conn, cid)
        why = refused(conn, statement, c=cid, s=head.seq, h2=hash_at(conn, cid, head.seq - 2),
                      genesis=GENESIS, forged=FORGED)
        assert "audit_heads only moves forward, to the newest audit record" in why
        assert head_of(conn, cid) == head and verify(conn, cid).ok


def test_the_head_cannot_jump_over_a_missing_record(engine, cid):
    with attack(engine) as conn:  # INSERT stays allowed: a record forged two places ahead
        head = head_of(conn, cid)
        row = dict(conn.execute(select(A).where(A.c.campaign_id == cid, A.c.seq == head.seq)).mappings().one())
        row.update(seq=head.seq + 2, prev_hash=FORGED)
        row.pop("id")
        row["hash"] = record_hash(FORGED, row)
        conn.execute(A.insert().values(**row))
        why = refused(conn, "UPDATE audit_heads SET seq = :s, hash = :h WHERE campaign_id = :c",
                      s=head.seq + 2, h=row["hash"], c=cid)
        assert "only moves forward" in why
        result = verify(conn, cid)
        assert result.broken_at == head.seq + 2 and "gap" in result.why


def test_a_new_campaign_still_starts_its_chain_at_genesis(engine, cid):
    with attack(engine) as conn:  # what load_plan does (start_chain), beside a campaign with records
        conn.execute(text("INSERT INTO campaigns (code, title, doc_number, issuing_unit, start_date, end_date, "
                          "timezone, sweep_cron, plan_json, plan_file, loaded_at, clue_seq, version) "
                          "SELECT 'other', title, doc_number, issuing_unit, start_date, end_date, timezone, "
                          "sweep_cron, plan_json, plan_file, loaded_at, 0, 1 FROM campaigns WHERE id = :c"),
                     {"c": cid})
        other = conn.execute(text("SELECT id FROM campaigns WHERE code = 'other'")).scalar_one()
        refused(conn, "INSERT INTO audit_heads (campaign_id, seq, hash) VALUES (:o, 1, :forged)",
                o=other, forged=FORGED)
        conn.execute(text("INSERT INTO audit_heads (campaign_id, seq, hash) VALUES (:o, 0, :g)"),
                     {"o": other, "g": GENESIS})
        assert head_of(conn, other) == Head(0, GENESIS)


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["audit_log", "audit_heads"])
def test_postgresql_refuses_truncate_which_fires_no_row_trigger(pg_template, table):
    from models.db import make_engine

    from ..conftest import SMALL_PLAN, fresh_pg_url
    from services.campaigns.load import load_plan
    from services.campaigns.plans import read_plan

    engine = make_engine(fresh_pg_url(pg_template))
    try:
        load_plan(engine, read_plan(SMALL_PLAN), source=str(SMALL_PLAN), now=at("2023-03-15"))
        with attack(engine) as conn:
            for statement in (f"TRUNCATE {table}", f"TRUNCATE {table} CASCADE", "TRUNCATE campaigns CASCADE"):
                assert "is append-only" in refused(conn, statement)
            assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 4
    finally:
        engine.dispose()


# -- the log's trigger dropped: the tail goes, the head stays, verify names the gap ---------
@DRAWS
@given(keep=st.integers(0, RECORDS - 1))
def test_a_cut_tail_cannot_take_the_head_down_with_it(engine, cid, keep):
    with attack(engine) as conn:
        unguard(conn, "audit_log")
        head = head_of(conn, cid)
        cut(conn, cid, keep)
        why = refused(conn, "UPDATE audit_heads SET seq = :k, hash = :h WHERE campaign_id = :c",
                      k=keep, h=hash_at(conn, cid, keep) if keep else GENESIS, c=cid)
        assert "only moves forward" in why and head_of(conn, cid) == head
        result = verify(conn, cid)
        assert not result.ok and result.broken_at == keep + 1
        assert "rows deleted" in result.why and f"the head says {RECORDS}" in result.why
        with pytest.raises(AuditBroken, match=f"BROKEN at record {keep + 1}: chain ends at seq {keep}"):
            audit_head(conn, cid)


# -- every trigger dropped: only the witness shows the cut ----------------------------------
@DRAWS
@given(keep=st.integers(1, RECORDS - 1))
def test_a_cut_tail_behind_a_lowered_head_is_named_by_the_witness(engine, cid, keep):
    with attack(engine) as conn:
        witness = {4: hash_at(conn, cid, 4), RECORDS: head_of(conn, cid).hash}
        unguard(conn, "audit_log", "audit_heads")
        cut(conn, cid, keep)
        lower_head(conn, cid, keep)
        assert verify(conn, cid).ok  # the database alone cannot tell
        result = verify(conn, cid, witness=witness)
        assert not result.ok and result.broken_at == keep + 1
        if keep < 4:  # the earlier witness line is already past the end
            assert result.why.startswith(f"record {keep + 1} is missing: the chain ends at seq {keep}")
        else:
            assert result.why == (f"record {keep + 1} is missing: the chain ends at seq {keep}, the witness "
                                  f"saw seq {RECORDS} ({check_code(RECORDS, witness[RECORDS])})")
        with pytest.raises(AuditBroken, match=f"BROKEN at record {keep + 1}: record {keep + 1} is missing"):
            audit_head(conn, cid, witness=witness)


def test_wiping_everything_back_to_genesis_is_named_even_without_a_witness(engine, cid):
    with attack(engine) as conn:
        unguard(conn, "audit_log", "audit_heads")
        cut(conn, cid, 0)
        lower_head(conn, cid, 0)
        result = verify(conn, cid)
        assert not result.ok and result.broken_at == 1 and "wiped back to genesis" in result.why
        assert verify(conn, cid, witness={RECORDS: FORGED}).broken_at == 1


@pytest.mark.parametrize("start", [1, 7, RECORDS])
def test_a_chain_rewritten_from_a_record_on_is_named_by_the_witness(engine, cid, start):
    with attack(engine) as conn:
        witness = {RECORDS: head_of(conn, cid).hash}
        unguard(conn, "audit_log", "audit_heads")
        prev = hash_at(conn, cid, start - 1)
        for row in conn.execute(select(A).where(A.c.campaign_id == cid, A.c.seq >= start)
                                .order_by(A.c.seq)).mappings().all():
            row = dict(row, reason="篡改" if row["seq"] == start else row["reason"])
            new = record_hash(prev, row)
            conn.execute(text("UPDATE audit_log SET reason = :r, prev_hash = :p, hash = :h WHERE id = :i"),
                         {"r": row["reason"], "p": prev, "h": new, "i": row["id"]})
            prev = new
        conn.execute(text("UPDATE audit_heads SET hash = :h WHERE campaign_id = :c"), {"h": prev, "c": cid})
        assert verify(conn, cid).ok  # consistent from end to end: only a copy kept elsewhere differs
        result = verify(conn, cid, witness=witness)
        assert result.broken_at == RECORDS and "rewritten" in result.why


@pytest.mark.parametrize("statement, broken_at, why", [
    ("UPDATE audit_heads SET hash = :forged WHERE campaign_id = :c", RECORDS, "head rewritten"),
    ("UPDATE audit_heads SET seq = seq + 2 WHERE campaign_id = :c", RECORDS + 1, "rows deleted"),
    ("UPDATE audit_heads SET seq = seq - 2 WHERE campaign_id = :c", RECORDS - 1, "records after the head"),
], ids=["hash", "raised", "lowered"])
def test_a_head_changed_behind_the_trigger_is_named_by_verify(engine, cid, statement, broken_at, why):
    with attack(engine) as conn:
        unguard(conn, "audit_heads")
        conn.execute(text(statement), {"c": cid, "forged": FORGED})
        result = verify(conn, cid)
        assert result.broken_at == broken_at and why in result.why
        with pytest.raises(AuditBroken, match=why):
            audit_head(conn, cid)


def test_a_modified_record_is_named_before_the_head_or_the_witness(engine, cid):
    with attack(engine) as conn:
        witness = {RECORDS: head_of(conn, cid).hash}
        unguard(conn, "audit_log")
        conn.execute(text("UPDATE audit_log SET actor = 'someone.else' WHERE campaign_id = :c AND seq = 6"),
                     {"c": cid})
        result = verify(conn, cid, witness=witness)
        assert result.broken_at == 6 and "altered" in result.why
