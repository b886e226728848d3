"""The unit of work (services/core/uow.py): it rolls back unless committed, writes what
it collected (audit records, document numbers, notices and their messages) once,
at commit, and an item rolled back to its savepoint leaves neither a record nor
a gap in the numbers; a joined use case commits with its caller."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models.tables import AuditRecord, DocCounter, Notice, OutboxMessage, Unit
from services.campaigns.load import campaign_id
from services.core import audit
from services.core.persisted import audit_record
from services.core.uow import unit_of_work
from services.notices.issue import issue_notice

from ..conftest import at

CONTEXT = {"issuer_name": "示例市交通运输局", "campaign_title": "专项整治", "grounds": "根据方案",
           "facts": ["逾期未整改"], "required_action": "立即整改", "deadline": "2023年5月10日"}


def record(n: int) -> dict:
    return audit_record(at=at("2023-05-01"), actor="system", unit_id=None, entity="case", entity_id=n,
                        from_state="proposed", to_state="issued", trigger="issue")


def case_records(engine, cid) -> list[int]:
    with engine.connect() as conn:
        return conn.execute(select(AuditRecord.entity_id).where(AuditRecord.campaign_id == cid,
                                                                AuditRecord.entity == "case")
                            .order_by(AuditRecord.seq)).scalars().all()


def test_numbers_in_sequence_and_a_failed_item_gives_back_what_it_took(engine, campaign):
    cid = campaign_id(engine, campaign)
    with unit_of_work(engine) as uow:
        assert uow.number("示交督", 2023) == 1
        uow.audit(cid, [record(1)])
        with pytest.raises(RuntimeError):
            with uow.item():
                assert uow.number("示交督", 2023) == 2
                uow.audit(cid, [record(2)])
                raise RuntimeError("this item conflicts")
        assert uow.number("示交督", 2023) == 2  # the number given back is used again
        uow.audit(cid, [record(3)])
        with uow.item():
            assert uow.number("示交督", 2023) == 3
            uow.audit(cid, [record(4)])
        # nothing written yet: the counter row says 0 until commit
        assert uow.conn.execute(select(DocCounter.last)).scalar() == 0
        uow.commit()
    with engine.connect() as conn:
        assert conn.execute(select(DocCounter.last)).scalar() == 3
    assert case_records(engine, cid) == [1, 3, 4]
    assert audit.verify(engine, cid).ok


def test_without_commit_nothing_is_written(engine, campaign):
    cid = campaign_id(engine, campaign)
    with unit_of_work(engine) as uow:
        uow.number("示交督", 2023)
        uow.audit(cid, [record(7)])
    with pytest.raises(ValueError):
        with unit_of_work(engine) as uow:
            uow.audit(cid, [record(8)])
            raise ValueError("boom")
    with engine.connect() as conn:
        assert conn.execute(select(DocCounter.last)).scalar() is None
    assert case_records(engine, cid) == []
    assert audit.verify(engine, cid).ok


def test_a_joined_unit_of_work_commits_with_its_caller_and_fails_alone(engine, campaign):
    cid = campaign_id(engine, campaign)
    with unit_of_work(engine) as outer:
        outer.audit(cid, [record(1)])
        with unit_of_work(outer) as inner:
            inner.audit(cid, [record(2)])
            inner.commit()  # the caller's commit decides
        assert outer.conn.execute(select(func.count()).select_from(AuditRecord)
                                  .where(AuditRecord.entity == "case")).scalar() == 0
        with pytest.raises(RuntimeError):
            with unit_of_work(outer) as inner:
                inner.audit(cid, [record(3)])
                raise RuntimeError("the inner use case refuses")
        outer.commit()
    assert case_records(engine, cid) == [1, 2]


def test_notices_and_messages_are_written_at_commit_without_a_failed_items(engine, campaign):
    cid = campaign_id(engine, campaign)
    with engine.connect() as conn:
        unit = conn.execute(select(Unit.id).where(Unit.code == "county-a")).scalar_one()

    def issue(uow, key):
        return issue_notice(uow, campaign_id=cid, case_id=None, kind="criticism", key=key, issuer="示交督",
                            unit_id=unit, context=CONTEXT, now=at("2023-05-02"), channels=("file",))

    with unit_of_work(engine) as uow:
        assert issue(uow, "k1") is True
        with pytest.raises(RuntimeError):
            with uow.item():
                issue(uow, "k2")
                raise RuntimeError("this item conflicts")
        assert issue(uow, "k1") is False and issue(uow, "k3") is True  # k1 once only
        assert uow.conn.execute(select(Notice.id)).first() is None
        uow.commit()
    with engine.connect() as conn:
        rows = conn.execute(select(Notice.key, Notice.doc_number).order_by(Notice.id)).all()
        sent = conn.execute(select(OutboxMessage.key, OutboxMessage.notice_id).order_by(OutboxMessage.id)).all()
        ids = dict(conn.execute(select(Notice.key, Notice.id)).all())
    assert rows == [("k1", "示交督〔2023〕1号"), ("k3", "示交督〔2023〕2号")]  # no gap for k2
    assert sent == [("k1:file:county-a", ids["k1"]), ("k3:file:county-a", ids["k3"])]
    with engine.connect() as conn:  # a chunk's notices take PostgreSQL's COPY path: same rows
        assert set(conn.execute(select(OutboxMessage.state, OutboxMessage.attempts,
                                       OutboxMessage.next_attempt_at, OutboxMessage.created_at,
                                       OutboxMessage.sent_at, OutboxMessage.channel)).all()) \
            == {("pending", 0, at("2023-05-02"), at("2023-05-02"), None, "file")}
        assert set(conn.execute(select(Notice.created_at, Notice.addressee_unit_id, Notice.year)).all()) \
            == {(at("2023-05-02"), unit, 2023)}
    with unit_of_work(engine) as uow:  # a later unit of work knows the key from the table
        assert issue(uow, "k1") is False
        assert issue(uow, "k4") is True  # one notice alone: an INSERT, its id after the chunk's
        uow.commit()
    with engine.connect() as conn:
        assert conn.execute(select(Notice.key).order_by(Notice.id)).scalars().all() == ["k1", "k3", "k4"]
