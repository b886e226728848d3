"""Issuing a notice: a document number, the rendered document, the outbox messages.

All of it happens in the caller's unit of work (docs/architecture.md
decision 5): a rolled-back escalation leaves no number used, no document and
nothing to send. Numbers are allocated per issuing unit (发文机关代字) and
year (services/core/uow.py `number`: the counter row is locked until commit, so
concurrent issuers queue and a number is never given twice).

Every notice prints the check code (校验码) of the campaign's audit head as its
unit of work first read it (`uow.head_before`): the records committed before
the notice's transaction, never the notice's own, which are written when it
commits. So the record the code names exists exactly when the notice does
(a rolled-back notice takes nothing with it), and anyone holding the printed
notice can later hold it against the chain: record N's hash must begin with
the code's eight hex digits (`rectify audit log`, the witness files).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Mapping

from sqlalchemy import Connection, Engine, or_, select

from models.tables import Campaign, Notice, Unit
from statemachine.errors import InvalidInput, NotFound
from statemachine.time.calendar import TZ, local_date

from services.core.directory import contact_of
from services.core.refs import as_id
from services.core.uow import UnitOfWork
from services.core.visibility import require_sees, seen
from . import outbox

__all__ = ["NoticeView", "issue_notice", "get_notice", "notices_of_case", "unit_recipients",
           "chinese_date", "notices_between", "combined_key"]

N, U, C = Notice.__table__, Unit.__table__, Campaign.__table__


def chinese_date(d: date) -> str:
    """成文日期 as official documents write it: 2023年4月8日."""
    return f"{d.year}年{d.month}月{d.day}日"


def combined_key(unit_id: int, level: int, step: str, at: datetime | None) -> str:
    """The natural key of the one notice a unit gets for all its cases of a level that one
    step of one night issued or chased (the plan's `combine_causes`); a case finds it from
    its own unit, level and the instant of the step."""
    stamp = at.astimezone(TZ).strftime("%Y%m%dT%H%M%S") if at is not None else "-"
    return f"unit:{unit_id}:L{level}:{step}:{stamp}"


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


def issue_notice(uow: UnitOfWork, *, campaign_id: int, case_id: int | None, kind: str, key: str,
                 issuer: str, unit_id: int, context: Mapping, now: datetime,
                 channels: Iterable[str] = (), templates: Mapping[str, str] | None = None,
                 addressee: str | None = None) -> bool:
    """Number, render and queue one notice with its messages, written when the unit
    of work commits; False when a notice with this natural key exists (a re-run).
    `addressee` (主送) is the unit's name unless given (各有关单位); `templates`: the
    campaign's overrides as stored at load (services/campaigns/notice_templates.py)."""
    from notifications.documents.notices import render_notice

    if uow.has_notice_key(campaign_id, key):
        return False
    if case_id not in uow.cases_read:  # else its keys were read ahead with its chunk
        if uow.conn.execute(select(N.c.id).where(N.c.campaign_id == campaign_id, N.c.key == key)).first():
            return False
    year = local_date(now).year
    seq = uow.number(issuer, year)
    doc_number = f"{issuer}〔{year}〕{seq}号"
    unit = uow.units.get(unit_id)
    if unit is None:
        unit = uow.units[unit_id] = uow.conn.execute(select(U).where(U.c.id == unit_id)).one()
    rendered = render_notice(kind, {**context, "doc_number": doc_number, "addressee": addressee or unit.name,
                                    "date": chinese_date(local_date(now))},
                             overrides=templates, check_code=uow.head_before(campaign_id).check_code)
    values = dict(campaign_id=campaign_id, case_id=case_id, kind=kind, key=key, issuer=issuer, year=year,
                  seq=seq, doc_number=doc_number, addressee_unit_id=unit_id, title=rendered.title,
                  html=rendered.html, text=rendered.text, created_at=now)
    messages = [outbox.message_row(campaign_id=campaign_id, key=f"{key}:{channel}:{recipient}",
                                   channel=channel, recipient=recipient,
                                   subject=f"{rendered.title}（{doc_number}）", body_text=rendered.text,
                                   body_html=rendered.html, now=now)
                for channel, recipient in unit_recipients(unit, channels)]
    uow.notice(values, messages)
    return True


def _view(r) -> NoticeView:
    return NoticeView(r.id, r.case_id, r.kind, r.doc_number, r.title, r.unit_name, r.created_at,
                      r.html, r.text)


def _select():
    return select(N, U.c.name.label("unit_name")).join(U, U.c.id == N.c.addressee_unit_id)


def get_notice(engine: Engine, campaign: str, ref: str, *, seen_by=None) -> NoticeView:
    """By id or by document number (忻交督〔2023〕3号); `seen_by` (an Actor): refused
    (PermissionDenied) unless that person sees the unit it is addressed to."""
    from services.core.directory import campaign_row, unit_by_id

    with engine.connect() as conn:
        cid = campaign_row(conn, campaign).id
        match = N.c.doc_number == ref
        if (notice_id := as_id(ref)) is not None:
            match = or_(match, N.c.id == notice_id)
        row = conn.execute(_select().where(N.c.campaign_id == cid, match)).first()
        if row is not None and seen_by is not None:
            require_sees(seen_by, unit_by_id(conn, row.addressee_unit_id), f"see notice {row.doc_number}")
    if row is None:
        raise NotFound(f"unknown notice '{ref}' (see 'rectify notice list')")
    return _view(row)


def notices_of_case(conn: Connection, case_id: int) -> list[NoticeView]:
    """The case's notices, and the ones it shares with its unit's other cases of that night."""
    from models.tables import EscalationCase

    E = EscalationCase.__table__
    case = conn.execute(select(E.c.unit_id, E.c.level, E.c.issued_at, E.c.chased_at)
                        .where(E.c.id == case_id)).first()
    keys = [combined_key(case.unit_id, case.level, step, at)
            for step, at in (("issue", case.issued_at), ("chase", case.chased_at)) if at is not None] \
        if case is not None else []
    match = or_(N.c.case_id == case_id, N.c.key.in_(keys)) if keys else N.c.case_id == case_id
    return [_view(r) for r in conn.execute(_select().where(match).order_by(N.c.id))]


def notices_between(engine: Engine, campaign: str, *, kind: str | None = None, limit: int | None = None,
                    offset: int = 0, seen_by=None) -> list[NoticeView]:
    """`seen_by` (an Actor): only the notices addressed to units that person sees. An
    unknown `kind` is refused (InvalidInput), not answered with an empty list."""
    from notifications.documents.notices import KINDS
    from services.core.directory import campaign_row
    from statemachine.limits import shown

    if kind and kind not in KINDS:
        raise InvalidInput(f"kind: unknown notice kind {shown(kind)} (one of {', '.join(KINDS)})")
    with engine.connect() as conn:
        cid = campaign_row(conn, campaign).id
        q = _select().where(N.c.campaign_id == cid)
        if kind:
            q = q.where(N.c.kind == kind)
        if seen_by is not None:
            q = q.where(seen(seen_by, N.c.addressee_unit_id))
        return [_view(r) for r in conn.execute(q.order_by(N.c.id).limit(limit).offset(offset))]
