"""The outbox (docs/architecture.md decision 5): messages written in the
transaction of the change they announce, delivered later by the delivery flow.

Queueing: `enqueue(conn, …)` inside the caller's transaction. A rolled-back
change leaves no message; a key queued before is not queued again.

Delivery: `drain` leases a batch of due messages (claimed_by/claimed_until;
SKIP LOCKED on PostgreSQL, SQLite's BEGIN IMMEDIATE serialises the claim),
then sends them one by one and records each outcome in its own transaction
right after its send. What that guarantees, and what it cannot:

- a message recorded `sent` is never sent again (claims take only pending
  rows; a late failure report cannot turn it back to pending; `retry`
  refuses it);
- a drain that dies leaves its claims until the lease expires, then the
  next drain takes them: nothing is lost;
- a drain that dies after a send completed and before its outcome was
  recorded will have that one message sent again once the lease expires,
  with the same idempotency key (Message-ID, Idempotency-Key header, file
  name) so the receiver can drop the repeat. No channel here can make "send"
  and "record" one atomic step, so this is at-least-once delivery with
  exactly-once intent, not exactly-once.
- a drain that takes longer than half its lease (slow peers) stops sending,
  gives the rest of its batch back and returns, so another drain never takes
  over a message this one is still about to send.

Failures back off: the n-th failed attempt waits backoff·2^(n-1); at
max_attempts the message is `dead` until someone retries it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Mapping

from sqlalchemy import Connection, Engine, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from models.db import transaction
from models.tables import OutboxMessage
from notifications.delivery.channels import Channel, DeliveryError, OutboundMessage
from services.core.refs import as_id
from statemachine.errors import InvalidInput, NotFound
from statemachine.masking import mask_secrets
from statemachine.time.calendar import TZ

__all__ = ["enqueue", "message_row", "insert_rows", "drain", "DrainResult", "DeliveryLine", "list_messages", "get_message", "retry",
           "retry_dead", "MessageView", "STATES", "counts"]

O = OutboxMessage.__table__
STATES = ("pending", "sent", "dead")
_KEY_MAX, _SUBJECT_MAX, _RECIPIENT_MAX = 200, 300, 500  # the columns' lengths


def message_row(*, campaign_id: int | None, key: str, channel: str, recipient: str, subject: str,
                body_text: str, body_html: str | None = None, notice_id: int | None = None,
                now: datetime) -> dict:
    """One outbox row, checked against the columns (a batch inserts many at once)."""
    if not key or len(key) > _KEY_MAX:
        raise InvalidInput(f"outbox key must be 1 to {_KEY_MAX} characters (got {len(key or '')})")
    if not recipient or len(recipient) > _RECIPIENT_MAX:
        raise InvalidInput(f"outbox message {key}: recipient must be 1 to {_RECIPIENT_MAX} characters")
    if len(subject) > _SUBJECT_MAX:  # the subject only labels the message; the body is whole
        subject = subject[:_SUBJECT_MAX - 1] + "…"
    return dict(campaign_id=campaign_id, key=key, notice_id=notice_id, channel=channel, recipient=recipient,
                subject=subject, body_text=body_text, body_html=body_html, state="pending", attempts=0,
                next_attempt_at=now, created_at=now)


def insert_rows(conn: Connection, rows: list[dict]) -> int:
    """Insert message rows, skipping keys queued before; returns how many were new."""
    if not rows:
        return 0
    ins = postgresql.insert(O) if conn.dialect.name == "postgresql" else sqlite.insert(O)
    stmt = ins.on_conflict_do_nothing(index_elements=["key"]).execution_options(preserve_rowcount=True)
    if len(rows) == 1:
        return conn.execute(stmt.values(**rows[0])).rowcount  # psycopg 3: else -1
    return conn.execute(stmt, rows).rowcount


def enqueue(conn: Connection, *, campaign_id: int | None, key: str, channel: str, recipient: str,
            subject: str, body_text: str, body_html: str | None = None, notice_id: int | None = None,
            now: datetime) -> bool:
    """Queue one message in the caller's transaction, due at `now`.

    `key` is its idempotency key (one per notice, channel and recipient);
    returns False, changing nothing, when that key was queued before.
    """
    return insert_rows(conn, [message_row(
        campaign_id=campaign_id, key=key, channel=channel, recipient=recipient, subject=subject,
        body_text=body_text, body_html=body_html, notice_id=notice_id, now=now)]) == 1


@dataclass(frozen=True)
class DeliveryLine:
    id: int
    key: str
    channel: str
    recipient: str
    outcome: str          # sent | retry | dead | released
    error: str = ""


@dataclass
class DrainResult:
    sent: int = 0
    failed: int = 0       # failed, to be retried after the backoff
    dead: int = 0         # failed for the last time
    released: int = 0     # claimed but given back unsent (the lease was running out)
    lines: list[DeliveryLine] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        return self.sent + self.failed + self.dead + self.released

    def add(self, other: "DrainResult") -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.dead += other.dead
        self.released += other.released
        self.lines += other.lines


def _claim(engine: Engine, *, now: datetime, holder: str, batch: int, lease: timedelta) -> list:
    with transaction(engine) as conn:
        q = (select(O).where(O.c.state == "pending", O.c.next_attempt_at <= now,
                             or_(O.c.claimed_until.is_(None), O.c.claimed_until < now))
             .order_by(O.c.id).limit(batch))
        if conn.dialect.name == "postgresql":  # a concurrent drain takes the next rows, not these
            q = q.with_for_update(skip_locked=True)
        rows = conn.execute(q).all()
        if rows:
            conn.execute(update(O).where(O.c.id.in_([r.id for r in rows]))
                         .values(claimed_by=holder, claimed_until=now + lease))
        return rows


def _mine(row_id: int, holder: str):
    # only the holder of the claim reports a failure: after its lease expired
    # another drain may have sent the message and marked it sent meanwhile
    return and_(O.c.id == row_id, O.c.state == "pending", O.c.claimed_by == holder)


def drain(engine: Engine, channels: Mapping[str, Channel], *, now: datetime, holder: str,
          batch: int = 100, max_attempts: int = 5, backoff_seconds: float = 60,
          lease_seconds: float = 300) -> DrainResult:
    """Send one batch of messages due at `now` through `channels` (by channel
    name); call again while it returns a full batch. `holder` names this
    drain in the claims (host:pid)."""
    if batch < 1 or max_attempts < 1 or lease_seconds <= 0 or backoff_seconds < 0:
        raise InvalidInput("drain: batch, max_attempts and lease_seconds must be positive")
    result = DrainResult()
    started = time.monotonic()
    rows = _claim(engine, now=now, holder=holder, batch=batch, lease=timedelta(seconds=lease_seconds))
    for i, row in enumerate(rows):
        if time.monotonic() - started > lease_seconds / 2:
            _release(engine, [r.id for r in rows[i:]], holder)
            result.released += len(rows) - i
            result.lines += [DeliveryLine(r.id, r.key, r.channel, r.recipient, "released",
                                          "lease running out; left for the next drain") for r in rows[i:]]
            break
        line = _send_one(engine, channels, row, now=now, holder=holder, max_attempts=max_attempts,
                         backoff_seconds=backoff_seconds)
        result.lines.append(line)
        if line.outcome == "sent":
            result.sent += 1
        elif line.outcome == "dead":
            result.dead += 1
        else:
            result.failed += 1
    return result


def _send_one(engine: Engine, channels: Mapping[str, Channel], row, *, now: datetime, holder: str,
              max_attempts: int, backoff_seconds: float) -> DeliveryLine:
    channel = channels.get(row.channel)
    try:
        if channel is None:
            raise DeliveryError(f"channel {row.channel} not configured")
        channel.send(OutboundMessage(row.key, row.channel, row.recipient, row.subject,
                                     row.body_text, row.body_html))
    except Exception as e:  # noqa: BLE001 - a faulty channel fails its message, not the batch
        error = str(e) if isinstance(e, DeliveryError) else f"{type(e).__name__}: {e}"
        # stored, listed, shown and published as an artifact: never a URL's password or token
        error = mask_secrets(" ".join(error.split()))[:1000] or type(e).__name__
        attempts = row.attempts + 1
        dead = attempts >= max_attempts
        with transaction(engine) as conn:
            conn.execute(update(O).where(_mine(row.id, holder)).values(
                attempts=attempts, last_error=error, state="dead" if dead else "pending",
                next_attempt_at=now + timedelta(seconds=backoff_seconds * 2 ** (attempts - 1)),
                claimed_by=None, claimed_until=None))
        return DeliveryLine(row.id, row.key, row.channel, row.recipient, "dead" if dead else "retry", error)
    # BaseException (the process being stopped) passes: the claim stays until its lease expires
    with transaction(engine) as conn:
        conn.execute(update(O).where(O.c.id == row.id, O.c.state != "sent").values(
            state="sent", sent_at=now, attempts=row.attempts + 1, last_error=None,
            claimed_by=None, claimed_until=None))
    return DeliveryLine(row.id, row.key, row.channel, row.recipient, "sent")


def _release(engine: Engine, ids: list[int], holder: str) -> None:
    with transaction(engine) as conn:
        conn.execute(update(O).where(O.c.id.in_(ids), O.c.state == "pending", O.c.claimed_by == holder)
                     .values(claimed_by=None, claimed_until=None))


# -- what operators see and do -------------------------------------------------------
@dataclass(frozen=True)
class MessageView:
    id: int
    key: str
    campaign_id: int | None
    notice_id: int | None
    channel: str
    recipient: str
    subject: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    claimed_by: str | None
    claimed_until: datetime | None
    created_at: datetime
    sent_at: datetime | None
    body_text: str
    body_html: str | None


def _view(r) -> MessageView:
    return MessageView(r.id, r.key, r.campaign_id, r.notice_id, r.channel, r.recipient, r.subject,
                       r.state, r.attempts, r.next_attempt_at,
                       # a row stored before errors were masked is shown masked
                       mask_secrets(r.last_error) if r.last_error else r.last_error, r.claimed_by,
                       r.claimed_until, r.created_at, r.sent_at, r.body_text, r.body_html)


def _check_state(state: str | None) -> None:
    if state is not None and state not in STATES:
        raise InvalidInput(f"--state: '{state}' is not one of {', '.join(STATES)}")


def list_messages(engine: Engine, *, state: str | None = None, limit: int = 100) -> list[MessageView]:
    """The newest first."""
    _check_state(state)
    if limit < 1:
        raise InvalidInput(f"--limit: {limit} is not a positive number")
    with engine.connect() as conn:
        q = select(O).order_by(O.c.id.desc()).limit(limit)
        if state:
            q = q.where(O.c.state == state)
        return [_view(r) for r in conn.execute(q)]


def counts(engine: Engine) -> dict[str, int]:
    """Messages per state (every state present, zero when none)."""
    with engine.connect() as conn:
        got = dict(conn.execute(select(O.c.state, func.count()).group_by(O.c.state)).all())
    return {s: got.get(s, 0) for s in STATES}


def _find(conn: Connection, ref: str):
    ref = str(ref).strip()
    row = conn.execute(select(O).where(O.c.key == ref)).first()
    if row is None and (message_id := as_id(ref)) is not None:
        row = conn.execute(select(O).where(O.c.id == message_id)).first()
    if row is None:
        raise NotFound(f"unknown message '{ref}' (see 'rectify outbox list')")
    return row


def get_message(engine: Engine, ref: str) -> MessageView:
    """By id or by key."""
    with engine.connect() as conn:
        return _view(_find(conn, ref))


def retry(engine: Engine, ref: str, *, now: datetime) -> MessageView:
    """A dead (or waiting) message due again at `now`, its attempts reset."""
    with transaction(engine) as conn:
        row = _find(conn, ref)
        if row.state == "sent":
            raise InvalidInput(f"message {row.id} was sent at {row.sent_at.astimezone(TZ):%Y-%m-%d %H:%M}; "
                               f"it is not sent twice")
        if row.claimed_until is not None and row.claimed_until > now:
            raise InvalidInput(f"message {row.id} is being delivered by {row.claimed_by} (claimed until "
                               f"{row.claimed_until.astimezone(TZ):%Y-%m-%d %H:%M}); try again after that")
        conn.execute(update(O).where(O.c.id == row.id).values(
            state="pending", attempts=0, next_attempt_at=now, claimed_by=None, claimed_until=None))
        return _view(conn.execute(select(O).where(O.c.id == row.id)).one())


def retry_dead(engine: Engine, *, now: datetime) -> int:
    """Every dead message due again at `now`; returns how many."""
    with transaction(engine) as conn:
        return conn.execute(update(O).where(O.c.state == "dead").values(
            state="pending", attempts=0, next_attempt_at=now, claimed_by=None, claimed_until=None)
            .execution_options(preserve_rowcount=True)).rowcount
