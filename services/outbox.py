"""The outbox (ARCH decision 5): messages written in the transaction of the
change they announce, delivered later by the delivery flow."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from models.tables import OutboxMessage

__all__ = ["enqueue"]

O = OutboxMessage.__table__


def enqueue(conn: Connection, *, campaign_id: int | None, key: str, channel: str, recipient: str,
            subject: str, body_text: str, body_html: str | None = None, notice_id: int | None = None,
            now: datetime) -> bool:
    """Queue one message in the caller's transaction; False if its key was queued before."""
    ins = postgresql.insert(O) if conn.dialect.name == "postgresql" else sqlite.insert(O)
    res = conn.execute(ins.values(
        campaign_id=campaign_id, key=key, notice_id=notice_id, channel=channel, recipient=recipient,
        subject=subject, body_text=body_text, body_html=body_html, state="pending", attempts=0,
        next_attempt_at=now, created_at=now).on_conflict_do_nothing(index_elements=["key"])
        .execution_options(preserve_rowcount=True))
    return res.rowcount == 1
