"""Issuing a notice: a document number, the rendered document, the outbox messages.

All of it happens in the caller's transaction (ARCH decision 5): a rolled-back
escalation leaves no number used, no document and nothing to send. Numbers
are allocated per issuing unit (发文机关代字) and year from `doc_counters`,
whose row is locked by the UPDATE until commit, so concurrent issuers queue
and a number is never given twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Iterable, Mapping

from sqlalchemy import Connection, Engine, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from models.tables import Campaign, DocCounter, Notice, Unit
from statemachine.calendar import local_date
from statemachine.errors import NotFound

from . import outbox
from .directory import contact_of
from .deferred import active

__all__ = ["NoticeView", "issue_notice", "allocate_number", "get_notice", "notices_of_case", "unit_recipients",
           "chinese_date", "notices_between", "write_counter", "write_deferred"]

N, DC, U, C = Notice.__table__, DocCounter.__table__, Unit.__table__, Campaign.__table__


def chinese_date(d: date) -> str:
    """成文日期 as official documents write it: 2023年4月8日."""
    return f"{d.year}年{d.month}月{d.day}日"


def _dialect_insert(conn: Connection, table):
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


def allocate_number(conn: Connection, issuer: str, year: int) -> int:
    batch = active(conn)
    if batch is not None and (issuer, year) in batch.counters:
        batch.counters[(issuer, year)][1] += 1
        return batch.counters[(issuer, year)][1]
    conn.execute(_dialect_insert(conn, DC).values(issuer=issuer, year=year, last=0)
                 .on_conflict_do_nothing(index_elements=["issuer", "year"]))
    if batch is None:
        return conn.execute(update(DC).where(DC.c.issuer == issuer, DC.c.year == year)
                            .values(last=DC.c.last + 1).returning(DC.c.last)).scalar_one()
    key = (issuer, year)
    if key not in batch.counters:  # read once under lock; written once when the batch ends
        q = select(DC.c.last).where(DC.c.issuer == issuer, DC.c.year == year)
        last = conn.execute(q.with_for_update() if conn.dialect.name == "postgresql" else q).scalar_one()
        batch.counters[key] = [last, last]
    batch.counters[key][1] += 1
    return batch.counters[key][1]


def write_counter(conn: Connection, issuer: str, year: int, last: int) -> None:
    conn.execute(update(DC).where(DC.c.issuer == issuer, DC.c.year == year).values(last=last))


@dataclass(frozen=True)
class NoticeView:
    id: int
    case_id: int | None
    kind: str
    doc_number: str
    title: str
    addressee: str
    created_at: datetime
    html: str
    text: str


def unit_recipients(unit_row, channels: Iterable[str]) -> list[tuple[str, str]]:
    """(channel, recipient) pairs: the unit's liaison and leader by e-mail, the
    robot webhook once, a file per unit."""
    out: list[tuple[str, str]] = []
    for ch in channels:
        if ch == "email":
            emails = []
            for raw in (unit_row.liaison_json, unit_row.leader_json):
                contact = contact_of(raw)
                if contact.get("email") and contact["email"] not in emails:
                    emails.append(contact["email"])
            out += [("email", e) for e in emails]
        elif ch == "webhook":
            out.append(("webhook", unit_row.code))
        elif ch == "file":
            out.append(("file", unit_row.code))
    return out


def issue_notice(conn: Connection, *, campaign_id: int, case_id: int | None, kind: str, key: str,
                 issuer: str, unit_id: int, context: Mapping, now: datetime,
                 channels: Iterable[str] = (), template_dir: Path | None = None,
                 addressee: str | None = None) -> int | None:
    """Number, render and store one notice and queue its messages; returns its id,
    or None when a notice with this natural key already exists (a re-run) or
    when it waits in a deferred batch (services.deferred) to be written with it.
    `addressee` (主送) is the unit's name unless given (各有关单位)."""
    from notifications.render import render_notice

    batch = active(conn)
    if batch is not None and (campaign_id, key) in batch.notice_keys:
        return None
    if batch is None or case_id not in batch.cases_read:  # else read ahead with its chunk
        if conn.execute(select(N.c.id).where(N.c.campaign_id == campaign_id, N.c.key == key)).first():
            return None
    year = local_date(now).year
    seq = allocate_number(conn, issuer, year)
    doc_number = f"{issuer}〔{year}〕{seq}号"
    if batch is not None and unit_id in batch.units:
        unit = batch.units[unit_id]
    else:
        unit = conn.execute(select(U).where(U.c.id == unit_id)).one()
        if batch is not None:
            batch.units[unit_id] = unit
    rendered = render_notice(kind, {**context, "doc_number": doc_number, "addressee": addressee or unit.name,
                                    "date": chinese_date(local_date(now))},
                             override_dir=template_dir)
    values = dict(campaign_id=campaign_id, case_id=case_id, kind=kind, key=key, issuer=issuer, year=year,
                  seq=seq, doc_number=doc_number, addressee_unit_id=unit_id, title=rendered.title,
                  html=rendered.html, text=rendered.text, created_at=now)
    messages = [outbox.message_row(campaign_id=campaign_id, key=f"{key}:{channel}:{recipient}",
                                   channel=channel, recipient=recipient,
                                   subject=f"{rendered.title}（{doc_number}）", body_text=rendered.text,
                                   body_html=rendered.html, now=now)
                for channel, recipient in unit_recipients(unit, channels)]
    if batch is not None:  # written with the batch's others when it ends (services.deferred)
        batch.notices.append((values, messages))
        batch.notice_keys.add((campaign_id, key))
        return None
    notice_id = conn.execute(insert(N).values(**values).returning(N.c.id)).scalar_one()
    outbox.insert_rows(conn, [{**m, "notice_id": notice_id} for m in messages])
    return notice_id


def write_deferred(conn: Connection, pending: list[tuple[dict, list[dict]]]) -> None:
    """A batch's notices in one INSERT, then their messages in another."""
    if not pending:
        return
    ids = conn.execute(insert(N).returning(N.c.id, sort_by_parameter_order=True),
                       [values for values, _ in pending]).scalars().all()
    outbox.insert_rows(conn, [{**m, "notice_id": nid} for nid, (_, messages) in zip(ids, pending)
                              for m in messages])


def _view(r) -> NoticeView:
    return NoticeView(r.id, r.case_id, r.kind, r.doc_number, r.title, r.unit_name, r.created_at,
                      r.html, r.text)


def _select():
    return select(N, U.c.name.label("unit_name")).join(U, U.c.id == N.c.addressee_unit_id)


def get_notice(engine: Engine, campaign: str, ref: str) -> NoticeView:
    """By id or by document number (忻交督〔2023〕3号)."""
    from .directory import campaign_row

    with engine.connect() as conn:
        cid = campaign_row(conn, campaign).id
        match = N.c.doc_number == ref
        if ref.isdigit():
            match = or_(match, N.c.id == int(ref))
        row = conn.execute(_select().where(N.c.campaign_id == cid, match)).first()
    if row is None:
        raise NotFound(f"unknown notice '{ref}' (see 'rectify notice list')")
    return _view(row)


def notices_of_case(conn: Connection, case_id: int) -> list[NoticeView]:
    return [_view(r) for r in conn.execute(_select().where(N.c.case_id == case_id).order_by(N.c.id))]


def notices_between(engine: Engine, campaign: str, *, kind: str | None = None) -> list[NoticeView]:
    from .directory import campaign_row

    with engine.connect() as conn:
        cid = campaign_row(conn, campaign).id
        q = _select().where(N.c.campaign_id == cid)
        if kind:
            q = q.where(N.c.kind == kind)
        return [_view(r) for r in conn.execute(q.order_by(N.c.id))]
