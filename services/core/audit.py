"""The per-campaign hash-chained audit log: its start, its head, verification and reading.

Records are appended by the unit of work when it commits (services/core/uow.py),
in the order they were collected; their fields are services.core.persisted.audit_record's.

The head (audit_heads) is where the chain ends: the database lets it move only
forward, to the newest record (migration 0007). Whoever can drop that trigger
can still cut the tail and lower the head consistently; only a copy of the head
kept elsewhere shows it: a witness, the `seq hash` lines `rectify audit head
--append FILE` writes (services/core/witness.py), which `verify` compares.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from sqlalchemy import Connection, Engine, insert, select

from models.tables import AuditHead, AuditRecord
from statemachine.audit import GENESIS, first_break
from statemachine.errors import AuditBroken

from .visibility import seen_records

__all__ = ["start_chain", "Head", "check_code", "read_head", "audit_head", "verify", "VerifyResult", "history",
           "log"]

A = AuditRecord.__table__
H = AuditHead.__table__


def start_chain(conn: Connection, campaign_id: int) -> None:
    conn.execute(insert(H).values(campaign_id=campaign_id, seq=0, hash=GENESIS))


def check_code(seq: int, hash_: str) -> str:
    """The head as a person reads it aloud or a notice prints it (校验码): '123-3F2A9C01'.

    The sequence number and the first 32 bits of the hash: anyone holding a
    copy of the log finds the record and compares."""
    return f"{seq}-{hash_[:8].upper()}"


@dataclass(frozen=True)
class Head:
    """Where a campaign's chain ends: what a witness keeps."""

    seq: int
    hash: str

    @property
    def check_code(self) -> str:
        return check_code(self.seq, self.hash)

    def line(self) -> str:
        """The witness file's line for this head."""
        return f"{self.seq} {self.hash}"


def read_head(conn: Connection, campaign_id: int) -> Head:
    """The head row as it stands, unchecked (one indexed read): what a notice or a
    report prints as its check code. Whether it still holds is verify's question."""
    return Head(*conn.execute(select(H.c.seq, H.c.hash).where(H.c.campaign_id == campaign_id)).one())


def audit_head(db: Engine | Connection, campaign_id: int, *,
               witness: Mapping[int, str] | None = None) -> Head:
    """The campaign's head, checked against its newest record and, if given, the
    newest line of a witness (indexed reads, not a walk of the chain);
    AuditBroken when they disagree.

    What the nightly job sends out and a notice prints (its check code)."""
    if isinstance(db, Engine):
        with db.connect() as conn:
            return audit_head(conn, campaign_id, witness=witness)
    head = read_head(db, campaign_id)
    last = db.execute(select(A.c.seq, A.c.hash).where(A.c.campaign_id == campaign_id)
                      .order_by(A.c.seq.desc()).limit(1)).first()
    broken = _head_disagrees(head, Head(*last) if last else Head(0, GENESIS))
    if not broken and witness:
        seq = max(witness)
        found = GENESIS if seq == 0 else db.execute(
            select(A.c.hash).where(A.c.campaign_id == campaign_id, A.c.seq == seq)).scalar()
        broken = _witness_disagrees({seq: witness[seq]}, {seq: found} if found else {}, head.seq)
    if broken:
        raise AuditBroken(f"audit chain BROKEN at record {broken[0]}: {broken[1]}")
    return head


def _head_disagrees(head: Head, last: Head) -> tuple[int, str] | None:
    """(first bad record, why) when the head is not the newest record."""
    if last.seq < head.seq:
        return last.seq + 1, f"chain ends at seq {last.seq} but the head says {head.seq} (rows deleted)"
    if last.seq > head.seq:
        return head.seq + 1, f"records after the head: the chain runs to seq {last.seq}, the head says {head.seq}"
    if last.hash != head.hash:
        return last.seq, f"the head's hash is not record {last.seq}'s (head rewritten)"
    if last.seq == 0:
        return 1, "no records: a loaded campaign's chain starts with its load record (wiped back to genesis)"
    return None


@dataclass(frozen=True)
class VerifyResult:
    campaign_id: int
    records: int
    broken_at: int | None
    why: str | None
    head: Head | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(db: Engine | Connection, campaign_id: int, *, witness: Mapping[int, str] | None = None,
           batch: int = 5000) -> VerifyResult:
    """Walk the chain, then hold it against its head and, if given, a witness
    ({seq: hash} of heads seen earlier): the first record that does not hold."""
    if isinstance(db, Engine):
        with db.connect() as conn:
            return verify(conn, campaign_id, witness=witness, batch=batch)
    conn = db
    cols = [A.c[k] for k in ("campaign_id", "seq", "at", "actor", "unit_id", "entity", "entity_id",
                             "from_state", "to_state", "trigger", "reason", "detail",
                             "prev_hash", "hash")]
    wanted = dict(witness or {})
    seen: dict[int, str] = {0: GENESIS}
    head = Head(*conn.execute(select(H.c.seq, H.c.hash).where(H.c.campaign_id == campaign_id)).one())
    result = conn.execute(select(*cols).where(A.c.campaign_id == campaign_id).order_by(A.c.seq),
                          execution_options={"yield_per": batch})
    count, last = 0, GENESIS

    def counted():
        nonlocal count, last
        for r in result:
            r = r._mapping
            count, last = count + 1, r["hash"]
            if r["seq"] in wanted:
                seen[r["seq"]] = r["hash"]
            yield r
    try:
        broken = first_break(counted())
    finally:
        result.close()  # a break leaves the rest unread
    if broken:
        return VerifyResult(campaign_id, count, broken[0], broken[1], head)
    broken = _head_disagrees(head, Head(count, last)) or _witness_disagrees(wanted, seen, count)
    if broken:
        return VerifyResult(campaign_id, count, broken[0], broken[1], head)
    return VerifyResult(campaign_id, count, None, None, head)


def _witness_disagrees(witness: Mapping[int, str], seen: Mapping[int, str],
                       count: int) -> tuple[int, str] | None:
    for seq in sorted(witness):
        if seq > count:
            return count + 1, (f"record {count + 1} is missing: the chain ends at seq {count}, the witness "
                               f"saw seq {max(witness)} ({check_code(max(witness), witness[max(witness)])})")
        if seen.get(seq) != witness[seq]:
            return seq, (f"record {seq} is not the one the witness saw ({check_code(seq, witness[seq])}): "
                         f"the chain was rewritten")
    return None


def history(conn: Connection, *, entity: str, entity_id: int) -> list[dict]:
    rows = conn.execute(select(A).where(A.c.entity == entity, A.c.entity_id == entity_id)
                        .order_by(A.c.seq)).mappings().all()
    return [dict(r) for r in rows]


def log(conn: Connection, campaign_id: int, *, seen_by=None, entity: str | None = None,
        entity_id: int | None = None, before: int | None = None, limit: int = 50) -> list[dict]:
    """The newest records first, those before sequence number `before` (the next page);
    `seen_by` (an Actor): only the records that person may read
    (services/core/visibility.py `seen_records`)."""
    q = select(A).where(A.c.campaign_id == campaign_id)
    if seen_by is not None:
        q = q.where(seen_records(seen_by, A))
    if entity is not None:
        q = q.where(A.c.entity == entity)
    if entity_id is not None:
        q = q.where(A.c.entity_id == entity_id)
    if before is not None:
        q = q.where(A.c.seq < before)
    return [dict(r) for r in conn.execute(q.order_by(A.c.seq.desc()).limit(limit)).mappings()]
