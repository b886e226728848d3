"""Appending to and verifying the per-campaign hash-chained audit log."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping

from sqlalchemy import Connection, Engine, insert, select, update

from models.tables import AuditHead, AuditRecord
from statemachine.audit import GENESIS, first_break, record_hash

__all__ = ["append", "start_chain", "verify", "VerifyResult", "history"]

A = AuditRecord.__table__
H = AuditHead.__table__


def start_chain(conn: Connection, campaign_id: int) -> None:
    conn.execute(insert(H).values(campaign_id=campaign_id, seq=0, hash=GENESIS))


def append(conn: Connection, campaign_id: int, records: Iterable[Mapping[str, Any]]) -> int:
    """Chain and insert records in order; returns how many were written.

    Each record needs at, actor, unit_id, entity, entity_id, from_state,
    to_state, trigger, reason and optionally detail (a dict). The head row
    is locked first (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE
    already serializes writers) so concurrent appenders cannot fork a chain.
    """
    from .deferred import active

    batch = active(conn)
    if batch is not None:  # a batch transaction chains its records once, at its end
        records = list(records)
        batch.records.setdefault(campaign_id, []).extend(records)
        return len(records)
    head = conn.execute(
        select(H.c.seq, H.c.hash).where(H.c.campaign_id == campaign_id).with_for_update()
    ).one()
    seq, prev = head.seq, head.hash
    rows = []
    for r in records:
        seq += 1
        row = dict(r)
        row["campaign_id"] = campaign_id
        row["seq"] = seq
        detail = row.get("detail")
        row["detail"] = None if detail is None else (
            detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False, sort_keys=True,
                                                              default=str))
        row.setdefault("reason", None)
        row["prev_hash"] = prev
        row["hash"] = prev = record_hash(prev, row)
        rows.append(row)
    if rows:
        conn.execute(insert(A), rows)
        conn.execute(update(H).where(H.c.campaign_id == campaign_id).values(seq=seq, hash=prev))
    return len(rows)


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


def now_record(*, at: datetime, actor: str, unit_id: int | None, entity: str, entity_id: int,
               from_state: str | None, to_state: str | None, trigger: str,
               reason: str | None = None, detail: dict | None = None) -> dict:
    return dict(at=at, actor=actor, unit_id=unit_id, entity=entity, entity_id=entity_id,
                from_state=from_state, to_state=to_state, trigger=trigger, reason=reason,
                detail=detail)
