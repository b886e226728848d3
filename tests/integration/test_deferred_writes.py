"""Deferred writes of a batch transaction: audit records chained once at the end,
document numbers in sequence and written once, and an item rolled back to its
savepoint leaves neither a record nor a gap."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from models.db import transaction
from models.tables import AuditRecord, DocCounter
from services import audit
from services.campaigns import campaign_id
from services.deferred import deferred_writes, savepoint
from services.notices import allocate_number

from ..conftest import at


def record(n: int) -> dict:
    return audit.now_record(at=at("2023-05-01"), actor="system", unit_id=None, entity="case", entity_id=n,
                            from_state="proposed", to_state="issued", trigger="issue")


def test_a_batch_numbers_in_sequence_and_drops_what_a_failed_item_took(engine, campaign):
    cid = campaign_id(engine, campaign)
    with transaction(engine) as conn:
        assert allocate_number(conn, "示交督", 2023) == 1  # outside a batch: written at once
        with deferred_writes(conn):
            assert allocate_number(conn, "示交督", 2023) == 2
            audit.append(conn, cid, [record(1)])
            with pytest.raises(RuntimeError):
                with savepoint(conn):
                    assert allocate_number(conn, "示交督", 2023) == 3
                    audit.append(conn, cid, [record(2)])
                    raise RuntimeError("this item conflicts")
            assert allocate_number(conn, "示交督", 2023) == 3  # the number given back is used again
            audit.append(conn, cid, [record(3)])
            with savepoint(conn):
                assert allocate_number(conn, "示交督", 2023) == 4
                audit.append(conn, cid, [record(4)])
            # nothing written yet: the counter row still says 1
            assert conn.execute(select(DocCounter.last)).scalar() == 1
        assert conn.execute(select(DocCounter.last)).scalar() == 4
        ids = conn.execute(select(AuditRecord.entity_id).where(AuditRecord.campaign_id == cid,
                                                                AuditRecord.entity == "case")
                           .order_by(AuditRecord.seq)).scalars().all()
    assert ids == [1, 3, 4]
    assert audit.verify(engine, cid).ok


def test_a_failed_batch_writes_nothing(engine, campaign):
    cid = campaign_id(engine, campaign)
    with pytest.raises(ValueError):
        with transaction(engine) as conn:
            with deferred_writes(conn):
                allocate_number(conn, "示交督", 2023)
                audit.append(conn, cid, [record(7)])
                raise ValueError("boom")
    with engine.connect() as conn:
        assert conn.execute(select(DocCounter.last)).scalar() in (None, 0)
        assert conn.execute(select(AuditRecord.id).where(AuditRecord.entity == "case")).first() is None
    assert audit.verify(engine, cid).ok


def test_a_batch_writes_its_notices_and_messages_at_the_end_without_a_failed_items(engine, campaign):
    from models.tables import Notice, OutboxMessage, Unit
    from services.notices import issue_notice

    CONTEXT = {"issuer_name": "示例市交通运输局", "campaign_title": "专项整治", "grounds": "根据方案",
               "facts": ["逾期未整改"], "required_action": "立即整改", "deadline": "2023年5月10日"}
    cid = campaign_id(engine, campaign)
    with engine.connect() as conn:
        unit = conn.execute(select(Unit.id).where(Unit.code == "county-a")).scalar_one()

    def issue(conn, key):
        return issue_notice(conn, campaign_id=cid, case_id=None, kind="criticism", key=key, issuer="示交督",
                            unit_id=unit, context=CONTEXT, now=at("2023-05-02"),
                            channels=("file",))

    with transaction(engine) as conn:
        with deferred_writes(conn):
            assert issue(conn, "k1") is None                    # waits for the batch
            with pytest.raises(RuntimeError):
                with savepoint(conn):
                    issue(conn, "k2")
                    raise RuntimeError("this item conflicts")
            assert issue(conn, "k1") is None and issue(conn, "k3") is None  # k1 once only
            assert conn.execute(select(Notice.id)).first() is None
        rows = conn.execute(select(Notice.key, Notice.doc_number).order_by(Notice.id)).all()
        sent = conn.execute(select(OutboxMessage.key, OutboxMessage.notice_id)
                            .order_by(OutboxMessage.id)).all()
        ids = dict(conn.execute(select(Notice.key, Notice.id)).all())
    assert rows == [("k1", "示交督〔2023〕1号"), ("k3", "示交督〔2023〕2号")]  # no gap for k2
    assert sent == [("k1:file:county-a", ids["k1"]), ("k3:file:county-a", ids["k3"])]
    with transaction(engine) as conn:  # outside a batch: written at once, its id returned
        assert issue(conn, "k4") == conn.execute(select(Notice.id).where(Notice.key == "k4")).scalar_one()
        assert issue(conn, "k4") is None
