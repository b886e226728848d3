"""Sending the audit head to a witness outside the database, through the outbox.

The nightly job (flows/witness.py) queues one message per new head for the
channel RECTIFY_WITNESS_CHANNEL names (file drop, webhook or e-mail, to
RECTIFY_WITNESS_TO); the delivery drains it like any notice. Its text is a
witness file of one line (services/core/witness.py), so what the file-drop
channel writes, or what a webhook's receiver appends to a file, is what
`rectify audit verify --witness` reads.

The key names the head (`audit-head:CAMPAIGN:SEQ:HASH16`): a night without
new records queues nothing again, a changed head is always sent. The head is
checked against the newest record first (audit_head): a chain already broken
sends nothing, and its refusal is the job's message. Queueing leaves no audit
record: that would move the head it reports.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from models.db import transaction
from services.core.audit import Head, audit_head
from services.core.directory import campaign_row
from services.core.witness import witness_key, witness_text

from . import outbox

__all__ = ["Witnessed", "queue_head"]


@dataclass(frozen=True)
class Witnessed:
    head: Head
    key: str
    queued: bool   # False: this head was queued before (nothing new since)


def queue_head(engine: Engine, campaign: str, *, channel: str, recipient: str, now: datetime) -> Witnessed:
    """Queue the campaign's head for the witness, due at `now` (AuditBroken when the
    head does not hold)."""
    with transaction(engine) as conn:
        cid = campaign_row(conn, campaign).id
        head = audit_head(conn, cid)
        key = witness_key(campaign, head)
        queued = outbox.enqueue(conn, campaign_id=cid, key=key, channel=channel, recipient=recipient,
                                subject=f"审计链校验码 {campaign} {head.check_code}",
                                body_text=witness_text(campaign, head), now=now)
    return Witnessed(head, key, queued)
