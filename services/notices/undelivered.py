"""What of a campaign's delivery needs a person (issue 15): messages gone dead,
messages waiting for a channel this deployment does not have, and notices
issued while no channel they go by was configured (they got no message at
all, so no delivery run will ever send them).

The nightly run fails on these (flows/enforce.py) and `rectify status` lists
them: a run is green only when everything went out.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import Engine, and_, exists, func, select, true

from models.tables import Notice, OutboxMessage

__all__ = ["Undelivered", "undelivered", "NO_CHANNEL"]

O, N = OutboxMessage.__table__, Notice.__table__
NO_CHANNEL = "RECTIFY_SMTP_HOST, RECTIFY_WEBHOOK_URL or RECTIFY_FILE_DROP"


@dataclass(frozen=True)
class Undelivered:
    dead: int = 0                # messages that failed their last attempt (`rectify outbox retry`)
    unroutable: int = 0          # pending for a channel not configured here: they can only fail
    unsent_notices: int = 0      # notices with no message at all: no channel when they were issued
    first_error: str | None = None  # the oldest dead message's last error

    @property
    def any(self) -> bool:
        return bool(self.dead or self.unroutable or self.unsent_notices)

    def sentence(self) -> str:
        """One line naming each problem and what to do, '' when none."""
        parts = []
        if self.dead:
            parts.append(f"{self.dead} messages dead"
                         + (f" (last error: {self.first_error})" if self.first_error else "")
                         + ": see 'rectify outbox list --state dead', then 'rectify outbox retry --dead'")
        if self.unroutable:
            parts.append(f"{self.unroutable} messages wait for a channel not configured here ({NO_CHANNEL})")
        if self.unsent_notices:
            parts.append(f"{self.unsent_notices} notices never queued for delivery: no channel configured "
                         f"reaches their addressee ({NO_CHANNEL})")
        return "; ".join(parts)

    def as_dict(self) -> dict:
        return asdict(self)


def undelivered(engine: Engine, campaign_id: int, *, configured: Iterable[str],
                since: datetime | None = None) -> Undelivered:
    """The campaign's delivery problems now; `since` limits the unsent notices to
    those issued from then on (one night's), the messages are counted whenever they died."""
    configured = list(configured)
    mine = O.c.campaign_id == campaign_id
    with engine.connect() as conn:
        dead = conn.execute(select(func.count()).where(mine, O.c.state == "dead")).scalar_one()
        first = conn.execute(select(O.c.last_error).where(mine, O.c.state == "dead")
                             .order_by(O.c.id).limit(1)).scalar() if dead else None
        unroutable = conn.execute(select(func.count()).where(
            mine, O.c.state == "pending", O.c.channel.not_in(configured) if configured else true())).scalar_one()
        no_message = ~exists().where(O.c.notice_id == N.c.id)
        unsent = conn.execute(select(func.count()).select_from(N).where(and_(
            N.c.campaign_id == campaign_id, no_message,
            *([N.c.created_at >= since] if since is not None else [])))).scalar_one()
    if first and len(first) > 120:
        first = first[:119] + "…"
    return Undelivered(dead, unroutable, unsent, first)
