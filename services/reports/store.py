"""The output store: report files kept in the database (the documents table).

Every worker, whatever its host, and the web app already share the database; a
folder would have to be mounted alike on all of them. A report's files are
written in the same transaction as its record, so no host ever sees a report
recorded without its files, and a backup of the database holds them (issue 17).

A stored file is named by a reference, `document:<name>` with the name
`reports/<campaign>/<unit>/<kind>-<period>.<format>`: what the record, the
artifact and `rectify report list` show, the same on every host. Reports recorded
before the store kept a host's path; those are still read from it while it exists.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, select, update

from models.tables import Document
from statemachine.errors import NotFound

__all__ = ["PREFIX", "MEDIA", "ref_of", "name_of", "put", "read", "present"]

D = Document.__table__
PREFIX = "document:"
MEDIA = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "pdf": "application/pdf"}


def ref_of(name: str) -> str:
    return PREFIX + name


def name_of(ref: str) -> str | None:
    """The store's name in a reference; None for a path recorded before the store."""
    return ref[len(PREFIX):] if ref.startswith(PREFIX) else None


def put(conn: Connection, *, campaign_id: int, name: str, content: bytes, fmt: str, now: datetime) -> str:
    """Store (or replace: a report regenerated keeps its name) one file; returns its reference."""
    values = dict(media_type=MEDIA.get(fmt, "application/octet-stream"), size=len(content),
                  sha256=hashlib.sha256(content).hexdigest(), content=content, stored_at=now)
    done = conn.execute(update(D).where(D.c.campaign_id == campaign_id, D.c.name == name).values(**values))
    if not done.rowcount:
        conn.execute(D.insert().values(campaign_id=campaign_id, name=name, **values))
    return ref_of(name)


def read(engine: Engine | Connection, campaign_id: int, ref: str) -> bytes:
    """A stored file's bytes (or, for a report recorded before the store, its file's)."""
    name = name_of(ref)
    if name is None:
        path = Path(ref)
        if not path.is_file():
            raise NotFound(f"{path.name} was written before reports were kept in the database and is "
                           f"not on this host: regenerate it")
        return path.read_bytes()
    q = select(D.c.content).where(D.c.campaign_id == campaign_id, D.c.name == name)
    if isinstance(engine, Connection):
        content = engine.execute(q).scalar()
    else:
        with engine.connect() as conn:
            content = conn.execute(q).scalar()
    if content is None:
        raise NotFound(f"no document {name} in the store: regenerate the report")
    return bytes(content)


def present(conn: Connection, campaign_id: int, ref: str) -> bool:
    name = name_of(ref)
    if name is None:
        return Path(ref).is_file()
    return conn.execute(select(D.c.id).where(D.c.campaign_id == campaign_id, D.c.name == name)).first() is not None
