"""Claiming a scheduled fire time, so that two schedulers never both fire it.

Each scheduler that wakes up for (job, scheduled instant) inserts that pair;
the primary key lets exactly one insert win (docs/architecture.md decision 4).
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from models.db import transaction
from models.tables import JobFiring

__all__ = ["claim", "holder_of"]

F = JobFiring.__table__


def claim(engine: Engine, *, job: str, scheduled: datetime, holder: str, now: datetime) -> bool:
    key = scheduled.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S%z")
    with transaction(engine) as conn:
        ins = postgresql.insert(F) if conn.dialect.name == "postgresql" else sqlite.insert(F)
        res = conn.execute(ins.values(job=job, fire_key=key, holder=holder, fired_at=now)
                           .on_conflict_do_nothing(index_elements=["job", "fire_key"])
                           .execution_options(preserve_rowcount=True))  # psycopg 3: else -1
        return res.rowcount == 1


def holder_of(engine: Engine, *, job: str, scheduled: datetime) -> str | None:
    key = scheduled.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S%z")
    with engine.connect() as conn:
        return conn.execute(select(F.c.holder).where(F.c.job == job, F.c.fire_key == key)).scalar()
