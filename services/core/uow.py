"""The unit of work (docs/architecture.md decision 11): one transaction per use case.

    with unit_of_work(db) as uow:      # db: an Engine, or the caller's UnitOfWork
        ...                            # reads and writes through uow.conn
        uow.audit(campaign_id, [record])
        n = uow.number("忻交督", 2023)
        uow.notice(values, messages)
        uow.commit()                   # without it, everything rolls back

A use case opens it, and it rolls back unless committed. It collects what
every change leaves behind (audit records, document numbers, notices with
their outbox messages) and writes them once, at commit: the head of the audit
chain and a document counter are one row each, and a batch that updated them
once per item paid for it on PostgreSQL (every update of a row already
updated in the transaction follows the chain of its earlier versions: the
escalation pass's superlinear 15 ms per case). One case and a chunk of 200
take the same path.

`uow.item()` wraps one item of a batch in a savepoint: if the item fails,
the database rolls back to the savepoint and what it collected (records,
numbers, notices) is dropped too, so a failed item leaves neither a record
nor a gap in the document numbers.

Given a UnitOfWork instead of an engine, `unit_of_work` joins it: a use case
called inside another one (a ledger import adding clues) writes into the
caller's transaction, and only the outermost `commit()` commits.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

from sqlalchemy import Connection, Engine, bindparam, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from models.tables import AuditHead, AuditRecord, DocCounter, Notice, OutboxMessage
from statemachine.audit import record_hash

from .audit import Head, read_head

__all__ = ["UnitOfWork", "unit_of_work", "Db"]

A, H, DC, N, O = (AuditRecord.__table__, AuditHead.__table__, DocCounter.__table__, Notice.__table__,
                  OutboxMessage.__table__)


@dataclass
class _Pending:
    records: dict[int, list[Mapping[str, Any]]] = field(default_factory=dict)  # campaign → records
    counters: dict[tuple[str, int], list[int]] = field(default_factory=dict)  # (issuer, year) → [read, last]
    notices: list[tuple[dict, list[dict]]] = field(default_factory=list)  # a notice and its messages
    notice_keys: set[tuple[int, str]] = field(default_factory=set)  # pending here, or read ahead

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
            else:  # first taken inside the item: read again, under lock, next time
                del self.counters[k]


# built once: every commit runs them (a statement's build and cache key cost about as
# much as its execution on SQLite)
_HEAD = select(H.c.seq, H.c.hash).where(H.c.campaign_id == bindparam("campaign_id")).with_for_update()
_INSERT_AUDIT = insert(A)
_NEXT_NOTICE_IDS = text("SELECT nextval(pg_get_serial_sequence('notices', 'id')) "
                        "FROM generate_series(1, :n)")
_MOVE_HEAD = update(H).where(H.c.campaign_id == bindparam("b_campaign")) \
    .values(seq=bindparam("b_seq"), hash=bindparam("b_hash"))


class UnitOfWork:
    """One transaction and what it leaves behind; see the module's docstring."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self._pending = _Pending()
        self._depth = 0
        self._committed = False
        # read ahead for a chunk (services/ladder/automatic.py): unit rows by id, each
        # case's lapses (first 21 rows, total), the cases whose notice keys were read
        self.units: dict[int, Any] = {}
        self.facts: dict[int, tuple[list, int]] = {}
        self.cases_read: set[int] = set()
        self._heads: dict[int, Head] = {}

    @property
    def dialect(self) -> str:
        return self.conn.dialect.name

    # -- what a change leaves behind ---------------------------------------------------
    def audit(self, campaign_id: int, records: Iterable[Mapping[str, Any]]) -> int:
        """Append records to the campaign's chain at commit (services/core/audit.py: fields)."""
        records = list(records)
        if records:
            self._pending.records.setdefault(campaign_id, []).extend(records)
        return len(records)

    def number(self, issuer: str, year: int) -> int:
        """The next document number of an issuer and year (never reused, never skipped).

        The counter row is read once under lock (SQLite: the writer's BEGIN
        IMMEDIATE) and written once, at commit, so concurrent issuers queue."""
        key = (issuer, year)
        if key not in self._pending.counters:
            self.conn.execute(self._insert(DC).values(issuer=issuer, year=year, last=0)
                              .on_conflict_do_nothing(index_elements=["issuer", "year"]))
            q = select(DC.c.last).where(DC.c.issuer == issuer, DC.c.year == year)
            last = self.conn.execute(q.with_for_update() if self.dialect == "postgresql" else q).scalar_one()
            self._pending.counters[key] = [last, last]
        self._pending.counters[key][1] += 1
        return self._pending.counters[key][1]

    def notice(self, values: dict, messages: list[dict]) -> None:
        """A numbered, rendered notice and its outbox messages, inserted at commit."""
        self._pending.notices.append((values, messages))
        self._pending.notice_keys.add((values["campaign_id"], values["key"]))

    def head_before(self, campaign_id: int) -> Head:
        """The campaign's audit head as this unit of work first read it: every record
        committed before it (and any it had written already, at a flush), never one
        it still collects. What a notice issued here prints as its check code (校验码):
        the notice's own record, written at commit, always comes after it. Read once
        per unit of work, without a lock: a chunk of 200 notices costs one read."""
        if campaign_id not in self._heads:
            self._heads[campaign_id] = read_head(self.conn, campaign_id)
        return self._heads[campaign_id]

    def has_notice_key(self, campaign_id: int, key: str) -> bool | None:
        """True when pending here or known from a read-ahead; None when not known."""
        return True if (campaign_id, key) in self._pending.notice_keys else None

    def know_notice_keys(self, campaign_id: int, keys: Iterable[str]) -> None:
        self._pending.notice_keys.update((campaign_id, k) for k in keys)

    # -- scope ----------------------------------------------------------------------------
    @contextmanager
    def item(self) -> Iterator["UnitOfWork"]:
        """One item of a batch: a savepoint whose rollback drops what it collected."""
        mark = self._pending.mark()
        try:
            with self.conn.begin_nested():
                yield self
        except BaseException:
            self._pending.restore(mark)
            raise

    def commit(self) -> None:
        """Write what was collected and commit; inside a joined use case, leave it to the outermost."""
        if self._depth:
            return
        self.flush()
        self.conn.commit()
        self._committed = True

    def flush(self) -> None:
        """Write what was collected so far (the transaction stays open)."""
        p, self._pending = self._pending, _Pending(notice_keys=self._pending.notice_keys)
        if p.notices and self.dialect == "postgresql" and len(p.notices) > 1:
            self._copy_notices(p.notices)
        elif p.notices:
            ids = self.conn.execute(insert(N).returning(N.c.id, sort_by_parameter_order=True),
                                    [values for values, _ in p.notices]).scalars().all()
            self._insert_messages([{**m, "notice_id": nid} for nid, (_, msgs) in zip(ids, p.notices)
                                   for m in msgs])
        for campaign_id, records in p.records.items():
            self._append_audit(campaign_id, records)
        for (issuer, year), (read, last) in p.counters.items():
            if last != read:
                self.conn.execute(update(DC).where(DC.c.issuer == issuer, DC.c.year == year)
                                  .values(last=last))

    # -- writers -------------------------------------------------------------------------
    def _insert(self, table):
        return postgresql.insert(table) if self.dialect == "postgresql" else sqlite.insert(table)

    def _insert_messages(self, rows: list[dict]) -> int:
        if not rows:
            return 0
        stmt = self._insert(O).on_conflict_do_nothing(index_elements=["key"]) \
            .execution_options(preserve_rowcount=True)
        if len(rows) == 1:
            return self.conn.execute(stmt.values(**rows[0])).rowcount  # psycopg 3: else -1
        # an executemany (psycopg 3 pipelines it); a multi-row VALUES built per chunk cost
        # far more in SQLAlchemy's compiler than it saved in round trips
        return self.conn.execute(stmt, rows).rowcount

    def _copy_notices(self, notices: list[tuple[dict, list[dict]]]) -> None:
        """PostgreSQL, a chunk of notices: ids drawn from the sequence in one statement,
        then notices and messages each written by one COPY. An INSERT … RETURNING of
        200 rendered documents is a 2 MB statement text that psycopg parses anew for
        every chunk, and an executemany is 200 statements for the server: COPY is
        neither (bench/escalation.py). A notice's messages are keyed by its natural key,
        which is new (issue_notice checked), so they need no conflict clause."""
        ids = self.conn.execute(_NEXT_NOTICE_IDS, {"n": len(notices)}).scalars().all()
        self._copy(N, [{**values, "id": nid} for nid, (values, _) in zip(ids, notices)])
        messages = {m["key"]: {**m, "notice_id": nid} for nid, (_, msgs) in zip(ids, notices) for m in msgs}
        self._copy(O, list(messages.values()))

    def _copy(self, table, rows: list[dict]) -> None:
        if not rows:
            return
        given = set().union(*rows)
        cols = [c for c in table.columns if c.name in given or c.default is not None]
        procs = [c.type.bind_processor(self.conn.dialect) for c in cols]
        defaults = [c.default.arg if c.default is not None and c.default.is_scalar else None for c in cols]
        names = ", ".join(c.name for c in cols)
        with self.conn.connection.dbapi_connection.cursor() as cur:
            with cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    values = [row.get(c.name, d) for c, d in zip(cols, defaults)]
                    copy.write_row([p(v) if p is not None and v is not None else v
                                    for p, v in zip(procs, values)])

    def _append_audit(self, campaign_id: int, records: list[Mapping[str, Any]]) -> None:
        # the head row is locked first (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE
        # already serialises writers) so concurrent appenders cannot fork a chain
        head = self.conn.execute(_HEAD, {"campaign_id": campaign_id}).one()
        seq, prev = head.seq, head.hash
        rows = []
        for r in records:
            seq += 1
            row = dict(r)
            row["campaign_id"], row["seq"] = campaign_id, seq
            detail = row.get("detail")
            row["detail"] = None if detail is None else (
                detail if isinstance(detail, str)
                else json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str))
            row.setdefault("reason", None)
            row["prev_hash"] = prev
            row["hash"] = prev = record_hash(prev, row)
            rows.append(row)
        if self.dialect == "postgresql" and len(rows) > 1:
            self._copy(A, rows)  # a chunk's records: one COPY, not one statement each
        else:
            self.conn.execute(_INSERT_AUDIT, rows)
        self.conn.execute(_MOVE_HEAD, {"b_campaign": campaign_id, "b_seq": seq, "b_hash": prev})


# what a use case takes: an engine (it opens its own unit of work) or a caller's
Db = Engine | UnitOfWork


@contextmanager
def unit_of_work(db: Engine | UnitOfWork) -> Iterator[UnitOfWork]:
    """Open a unit of work on an engine, or join the caller's (see the module's docstring)."""
    if isinstance(db, UnitOfWork):
        db._depth += 1
        try:
            with db.item():  # a failed inner use case leaves nothing of itself behind
                yield db
        finally:
            db._depth -= 1
        return
    with db.connect() as conn:
        conn.begin()
        uow = UnitOfWork(conn)
        try:
            yield uow
        finally:
            if not uow._committed:
                conn.rollback()
