"""The outbox (ARCH decision 5): messages written in the transaction of the
change they announce, delivered later by the delivery flow.

Delivery: `drain` leases a batch of due messages (claimed_by/claimed_until,
SKIP LOCKED on PostgreSQL), sends each and records the outcome in its own
transaction right after the send. A message marked sent is never sent again.
A crash after a send but before its mark leaves a lease that expires; the
message is then sent again with the same idempotency key (Message-ID,
Idempotency-Key, file name), which the receiving side can recognise — no
channel here can make the send and the mark one atomic step.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Mapping

from sqlalchemy import Connection, Engine, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from models.db import transaction
from models.tables import OutboxMessage
from statemachine.errors import InvalidInput, NotFound

__all__ = ["enqueue", "drain", "DrainResult", "list_messages", "get_message", "retry", "retry_dead",
           "MessageView"]

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


@dataclass
class DrainResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    lines: list[tuple[int, str, str, str, str]] = field(default_factory=list)  # id, channel, to, outcome, error


def _claim(engine: Engine, *, now: datetime, holder: str, batch: int, lease: timedelta) -> list:
    with transaction(engine) as conn:
        q = (select(O).where(O.c.state == "pending", O.c.next_attempt_at <= now,
                             or_(O.c.claimed_until.is_(None), O.c.claimed_until < now))
             .order_by(O.c.id).limit(batch))
        if conn.dialect.name == "postgresql":  # a second drain takes the next rows
            q = q.with_for_update(skip_locked=True)
        rows = conn.execute(q).all()
        if rows:
            conn.execute(update(O).where(O.c.id.in_([r.id for r in rows]))
                         .values(claimed_by=holder, claimed_until=now + lease))
        return rows


def drain(engine: Engine, channels: Mapping[str, object], *, now: datetime, holder: str,
          batch: int = 100, max_attempts: int = 5, backoff_seconds: float = 60,
          lease_seconds: float = 300) -> DrainResult:
    """Send one batch of due messages; call again while it returns a full batch."""
    from notifications.channels import DeliveryError, OutboundMessage

    result = DrainResult()
    for row in _claim(engine, now=now, holder=holder, batch=batch, lease=timedelta(seconds=lease_seconds)):
        channel = channels.get(row.channel)
        try:
            if channel is None:
                raise DeliveryError(f"channel {row.channel} not configured")
            channel.send(OutboundMessage(row.key, row.channel, row.recipient, row.subject,
                                         row.body_text, row.body_html))
        except DeliveryError as e:
            attempts = row.attempts + 1
            dead = attempts >= max_attempts
            with transaction(engine) as conn:
                conn.execute(update(O).where(O.c.id == row.id).values(
                    attempts=attempts, last_error=str(e)[:1000], state="dead" if dead else "pending",
                    next_attempt_at=now + timedelta(seconds=backoff_seconds * 2 ** (attempts - 1)),
                    claimed_by=None, claimed_until=None))
            result.dead += dead
            result.failed += not dead
            result.lines.append((row.id, row.channel, row.recipient, "dead" if dead else "retry", str(e)))
            continue
        with transaction(engine) as conn:
            conn.execute(update(O).where(O.c.id == row.id).values(
                state="sent", sent_at=now, attempts=row.attempts + 1, last_error=None,
                claimed_by=None, claimed_until=None))
        result.sent += 1
        result.lines.append((row.id, row.channel, row.recipient, "sent", ""))
    return result


@dataclass(frozen=True)
class MessageView:
    id: int
    key: str
    channel: str
    recipient: str
    subject: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    body_text: str


def _view(r) -> MessageView:
    return MessageView(r.id, r.key, r.channel, r.recipient, r.subject, r.state, r.attempts,
                       r.next_attempt_at, r.last_error, r.created_at, r.sent_at, r.body_text)


def list_messages(engine: Engine, *, state: str | None = None, limit: int = 100) -> list[MessageView]:
    if state and state not in ("pending", "sent", "dead"):
        raise InvalidInput(f"--state: '{state}' is not one of pending, sent, dead")
    with engine.connect() as conn:
        q = select(O).order_by(O.c.id.desc()).limit(limit)
        if state:
            q = q.where(O.c.state == state)
        return [_view(r) for r in conn.execute(q)]


def _find(conn: Connection, ref: str):
    match = O.c.key == ref
    if str(ref).isdigit():
        match = or_(match, O.c.id == int(ref))
    row = conn.execute(select(O).where(match)).first()
    if row is None:
        raise NotFound(f"unknown message '{ref}' (see 'rectify outbox list')")
    return row


def get_message(engine: Engine, ref: str) -> MessageView:
    with engine.connect() as conn:
        return _view(_find(conn, ref))


def retry(engine: Engine, ref: str, *, now: datetime) -> MessageView:
    with transaction(engine) as conn:
        row = _find(conn, ref)
        if row.state == "sent":
            raise InvalidInput(f"message {row.id} was sent at {row.sent_at:%Y-%m-%d %H:%M} UTC; "
                               f"it is not sent twice")
        conn.execute(update(O).where(O.c.id == row.id).values(
            state="pending", attempts=0, next_attempt_at=now, claimed_by=None, claimed_until=None))
        return _view(_find(conn, ref))


def retry_dead(engine: Engine, *, now: datetime) -> int:
    with transaction(engine) as conn:
        return conn.execute(update(O).where(O.c.state == "dead").values(
            state="pending", attempts=0, next_attempt_at=now, claimed_by=None, claimed_until=None)).rowcount
