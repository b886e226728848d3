"""A clue's history as `clue show` lists it: the clue's own audit records with those of its
clock (挂账), its signing (签收), its 延期 requests and its returns (退单 / 改派), in order."""
from __future__ import annotations

from sqlalchemy import Connection, and_, or_, select

from models.tables import AuditRecord, ClueReturn, ExtensionRequest

__all__ = ["clue_history", "ENTITY_KINDS"]

A, ER, CR = AuditRecord.__table__, ExtensionRequest.__table__, ClueReturn.__table__
# an audit entity → the vocabulary its triggers and states are named in (statemachine/charts/labels.py)
ENTITY_KINDS = {"clue": "clue", "clue_clock": "clock", "clue_signing": "signing", "extension": "extension",
                "clue_return": "return", "clue_callback": "clue_callback"}


def clue_history(conn: Connection, clue_id: int) -> list[dict]:
    rows = conn.execute(select(A).where(or_(
        and_(A.c.entity.in_(("clue", "clue_clock", "clue_signing")), A.c.entity_id == clue_id),
        and_(A.c.entity == "extension", A.c.entity_id.in_(select(ER.c.id).where(ER.c.clue_id == clue_id))),
        and_(A.c.entity == "clue_return", A.c.entity_id.in_(select(CR.c.id).where(CR.c.clue_id == clue_id))),
    )).order_by(A.c.seq)).mappings().all()
    return [dict(r) for r in rows]
