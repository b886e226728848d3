"""Are the evidence files still the ones attached? What `rectify audit verify` adds
to the chain's own check.

The audit chain (already verified by the caller) holds, for every file, an
`attach_evidence` record with the file's SHA-256: the truth. Against it:

- each record's `evidence_files` row must still exist, name the same digest
  and the same owner (a row pointed at another file, or moved to another
  item, shows);
- each row must have its record (a row slipped in behind the chain's back);
- the stored file of each digest must be there and hash to it (a file
  swapped or edited in the store, or deleted, shows).

Every problem is one line naming the file (its id, name, owner and digest).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import Connection, and_, select

from models.tables import AuditRecord, Clue, EvidenceFile
from statemachine.errors import AuditBroken

from .files import ATTACH_TRIGGER, ENTITIES
from .store import EvidenceStore

__all__ = ["FilesResult", "verify_files"]

A, EF, T = AuditRecord.__table__, EvidenceFile.__table__, Clue.__table__


@dataclass
class FilesResult:
    files: int = 0                      # rows checked
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _owner_label(kind: str, owner_id: int, number: str | None) -> str:
    if kind == "clue":
        return f"clue {number or owner_id}"
    return f"{'case' if kind == 'case' else 'report submission'} {owner_id}"


def verify_files(conn: Connection, campaign_id: int, store: EvidenceStore) -> FilesResult:
    """Hold the campaign's evidence rows and stored files against its audit records."""
    result = FilesResult()
    records = conn.execute(select(A.c.seq, A.c.entity, A.c.entity_id, A.c.detail)
                           .where(A.c.campaign_id == campaign_id, A.c.trigger == ATTACH_TRIGGER)
                           .order_by(A.c.seq)).all()
    rows = {r.id: r for r in conn.execute(
        select(EF, T.c.number).outerjoin(T, and_(EF.c.owner_kind == "clue", T.c.id == EF.c.owner_id))
        .where(EF.c.campaign_id == campaign_id).order_by(EF.c.id))}
    result.files = len(rows)
    checked: dict[str, str | None] = {}

    def stored(sha: str) -> str | None:
        if sha not in checked:
            try:
                checked[sha] = store.check(sha)
            except AuditBroken:  # not a digest: the record itself says nothing checkable
                checked[sha] = "its audit record names no SHA-256 digest"
        return checked[sha]

    for rec in records:
        d = json.loads(rec.detail or "{}")
        eid, sha, name = d.get("evidence"), str(d.get("sha256", "")), d.get("name", "?")
        row = rows.pop(eid, None)
        what = f"evidence file {eid} ('{name}', sha256 {sha[:12]}…)"
        if row is None:
            result.problems.append(f"{what}: its row is gone from the database (attached in audit record "
                                   f"{rec.seq})")
        else:
            what = (f"evidence file {eid} ('{name}' of {_owner_label(row.owner_kind, row.owner_id, row.number)}, "
                    f"sha256 {sha[:12]}…)")
            if row.sha256 != sha:
                result.problems.append(f"{what}: the database now names another file (sha256 "
                                       f"{row.sha256[:12]}…) than audit record {rec.seq}")
            elif (ENTITIES.get(row.owner_kind), row.owner_id) != (rec.entity, rec.entity_id):
                result.problems.append(f"{what}: the database moved it away from {rec.entity} {rec.entity_id} "
                                       f"(audit record {rec.seq})")
        why = stored(sha)
        if why:
            result.problems.append(f"{what}: {why}")
    for row in rows.values():
        result.problems.append(
            f"evidence file {row.id} ('{row.name}' of {_owner_label(row.owner_kind, row.owner_id, row.number)}, "
            f"sha256 {row.sha256[:12]}…): in the database but in no audit record (added behind the chain)")
    return result
