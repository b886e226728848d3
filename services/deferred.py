"""Writes to single hot rows, deferred to the end of a batch transaction.

The audit chain's head (`audit_heads`) and a document counter
(`doc_counters`) are one row each. A batch that acts on 200 cases in one
transaction used to update each of them 200 times: on PostgreSQL every
update of a row already updated in the same transaction follows the chain
of its earlier versions, so the cost per case grew with the chunk and with
the table's history (the escalation benchmark's superlinear 15 ms per case).

Inside `deferred_writes(conn)`, `audit.append` keeps its records in memory
and `notices.allocate_number` hands out numbers from the counter read once
(under lock); at the end the records are chained and inserted in one
statement and each counter is written once. Notices and their outbox
messages wait likewise and go in as two statements per batch (a round of
10,000 cases spent most of its time on one small INSERT after another). `savepoint(conn)` wraps one
item's work: if it fails, the database rolls back to the savepoint and the
deferred records and numbers taken since are dropped too, so a rolled-back
item leaves neither an audit record nor a gap in the document numbers.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from sqlalchemy import Connection

__all__ = ["deferred_writes", "savepoint", "active"]

_KEY = "rectify.deferred"


@dataclass
class _Batch:
    records: dict[int, list[Mapping[str, Any]]] = field(default_factory=dict)  # campaign → records
    counters: dict[tuple[str, int], list[int]] = field(default_factory=dict)  # (issuer, year) → [start, last]
    # notices with their outbox rows, inserted two statements per batch (services.notices)
    notices: list[tuple[dict, list[dict]]] = field(default_factory=list)
    notice_keys: set[tuple[int, str]] = field(default_factory=set)  # pending here or read ahead
    units: dict[int, Any] = field(default_factory=dict)  # unit rows read once per batch
    # read ahead for a chunk of cases (services.escalation_round.prefetch): their lapses
    # (first 21 rows, total); the keys of the notices they have join notice_keys
    facts: dict[int, tuple[list, int]] = field(default_factory=dict)
    cases_read: set[int] = field(default_factory=set)

    def mark(self):
        return ({k: len(v) for k, v in self.records.items()},
                {k: v[1] for k, v in self.counters.items()}, len(self.notices))

    def restore(self, mark) -> None:
        lengths, lasts, notices = mark
        for values, _ in self.notices[notices:]:
            self.notice_keys.discard((values["campaign_id"], values["key"]))
        del self.notices[notices:]
        for k in list(self.records):
            del self.records[k][lengths.get(k, 0):]
        for k in list(self.counters):
            if k in lasts:
                self.counters[k][1] = lasts[k]
            else:
                del self.counters[k]


def active(conn: Connection) -> _Batch | None:
    return conn.info.get(_KEY)


@contextmanager
def deferred_writes(conn: Connection) -> Iterator[None]:
    """Defer audit appends and document-number updates on `conn` to the end of the block."""
    if active(conn) is not None:  # nested: the outermost block writes
        yield
        return
    batch = _Batch()
    conn.info[_KEY] = batch
    try:
        yield
    finally:
        conn.info.pop(_KEY, None)
    from . import audit, notices  # the writers themselves

    notices.write_deferred(conn, batch.notices)
    for campaign_id, records in batch.records.items():
        audit.append(conn, campaign_id, records)
    for (issuer, year), (start, last) in batch.counters.items():
        if last != start:
            notices.write_counter(conn, issuer, year, last)


@contextmanager
def savepoint(conn: Connection) -> Iterator[None]:
    """A nested transaction whose rollback also drops what was deferred inside it."""
    batch = active(conn)
    mark = batch.mark() if batch else None
    try:
        with conn.begin_nested():
            yield
    except BaseException:
        if batch:
            batch.restore(mark)
        raise
