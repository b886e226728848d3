"""The per-campaign hash-chained audit log: its start, verification and reading.

Records are appended by the unit of work when it commits (services/core/uow.py),
in the order they were collected; their fields are services.core.persisted.audit_record's.
"""
from __future__ import annotations

from dataclasses import dataclass
from sqlalchemy import Connection, Engine, insert, select

from models.tables import AuditHead, AuditRecord
from statemachine.audit import GENESIS, first_break

__all__ = ["start_chain", "verify", "VerifyResult", "history"]

A = AuditRecord.__table__
H = AuditHead.__table__


def start_chain(conn: Connection, campaign_id: int) -> None:
    conn.execute(insert(H).values(campaign_id=campaign_id, seq=0, hash=GENESIS))


@dataclass(frozen=True)
class VerifyResult:
    campaign_id: int
    records: int
    broken_at: int | None
    why: str | None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(engine: Engine, campaign_id: int, *, batch: int = 5000) -> VerifyResult:
    cols = [A.c[k] for k in ("campaign_id", "seq", "at", "actor", "unit_id", "entity", "entity_id",
                             "from_state", "to_state", "trigger", "reason", "detail",
                             "prev_hash", "hash")]
    with engine.connect() as conn:
        head = conn.execute(select(H.c.seq, H.c.hash).where(H.c.campaign_id == campaign_id)).one()
        result = conn.execution_options(yield_per=batch).execute(
            select(*cols).where(A.c.campaign_id == campaign_id).order_by(A.c.seq))
        rows = (r._mapping for r in result)
        count = 0

        def counted():
            nonlocal count
            for r in rows:
                count += 1
                yield r
        broken = first_break(counted())
    if broken:
        return VerifyResult(campaign_id, count, broken[0], broken[1])
    if count != head.seq:
        return VerifyResult(campaign_id, count, count + 1,
                            f"chain ends at seq {count} but the head says {head.seq} (rows deleted)")
    return VerifyResult(campaign_id, count, None, None)


def history(conn: Connection, *, entity: str, entity_id: int) -> list[dict]:
    rows = conn.execute(select(A).where(A.c.entity == entity, A.c.entity_id == entity_id)
                        .order_by(A.c.seq)).mappings().all()
    return [dict(r) for r in rows]
