"""An item's sources (clue_sources): every channel, 工单号 and reporter it came by, merged
duplicates' too; the 工单号 is unique per (campaign, channel), so a work order imported
twice is found here and left out. Feedback to reporters when their item is 办结."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import and_, or_, select

from models.tables import Clue, ClueSource
from statemachine.masking import masked_phone
from statemachine.time.calendar import local_date

from services.notices import outbox

__all__ = ["SourceView", "known_refs", "source_rows", "sources_of", "feedback", "FEEDBACK_CHANNEL"]

T, CS = Clue.__table__, ClueSource.__table__
# a reporter's feedback goes to the file drop the hotline platform reads (it texts the reporter);
# the outbox has no SMS channel of its own
FEEDBACK_CHANNEL = "file"


@dataclass(frozen=True)
class SourceView:
    channel: str
    source_ref: str | None
    reporter_name: str | None
    reporter_phone: str | None   # masked (statemachine/masking.py): shown and logged this way
    received_at: datetime
    merged_from: str | None      # the number of the duplicate it came with


def known_refs(conn, campaign_id: int, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(channel, 工单号) → the number of the item holding that source already."""
    pairs = sorted(set(pairs))
    found: dict[tuple[str, str], str] = {}
    for start in range(0, len(pairs), 200):  # bounded statements
        chunk = pairs[start:start + 200]
        found.update(((r.channel, r.source_ref), r.number) for r in conn.execute(
            select(CS.c.channel, CS.c.source_ref, T.c.number).join(T, T.c.id == CS.c.clue_id)
            .where(CS.c.campaign_id == campaign_id,
                   or_(*(and_(CS.c.channel == ch, CS.c.source_ref == ref) for ch, ref in chunk)))))
    return found


def source_rows(rows: Sequence[dict], ids: Sequence[int]) -> list[dict]:
    """The first source of each new item, from the item's own row."""
    return [dict(campaign_id=r["campaign_id"], clue_id=i, channel=r["channel"], source_ref=r["source_ref"],
                 reporter_name=r["reporter_name"], reporter_phone=r["reporter_phone"],
                 received_at=r["received_at"]) for r, i in zip(rows, ids, strict=True)]


def sources_of(conn, clue_id: int) -> list[SourceView]:
    dup = T.alias("dup")
    rows = conn.execute(select(CS, dup.c.number.label("dup_number"))
                        .outerjoin(dup, dup.c.id == CS.c.merged_from_id)
                        .where(CS.c.clue_id == clue_id)  # its own first, then the merged ones
                        .order_by(CS.c.merged_from_id.is_not(None), CS.c.received_at, CS.c.id)).all()
    return [SourceView(r.channel, r.source_ref, r.reporter_name, masked_phone(r.reporter_phone),
                       r.received_at, r.dup_number) for r in rows]


_OUTCOME = {"approved": "已整改到位并销号", "dismissed": "经核查，反映的问题不属实（查无实据）"}


def feedback(conn, *, campaign_id: int, clue_id: int, now: datetime) -> list[str]:
    """Queue the outcome for each reporter of each source with a contact (one message per
    reporter, per time the item is closed: a 重办 closed again tells them again); returns
    the masked telephone numbers newly queued, for the audit and the output."""
    clue = conn.execute(select(T.c.number, T.c.summary, T.c.resolution, T.c.reopen_count, T.c.closed_at)
                        .where(T.c.id == clue_id)).one()
    told: list[str] = []
    seen: set[str] = set()
    for s in conn.execute(select(CS).where(CS.c.clue_id == clue_id, CS.c.reporter_phone.is_not(None))
                          .order_by(CS.c.id)).all():
        phone = s.reporter_phone.strip()
        if not phone or phone in seen:  # the same person by two channels hears once
            continue
        seen.add(phone)
        ref = f"（工单号 {s.source_ref}）" if s.source_ref else ""
        closed = local_date(clue.closed_at or now)
        body = (f"{s.reporter_name or '反映人'}（{phone}）：\n    您于{local_date(s.received_at):%Y年%m月%d日}"
                f"通过{s.channel}反映的问题{ref}已办结（{closed:%Y年%m月%d日}，编号 {clue.number}）："
                f"{_OUTCOME.get(clue.resolution, '已办结')}。\n    问题：{clue.summary[:200]}")
        if outbox.enqueue(conn, campaign_id=campaign_id,
                          key=f"feedback:{clue_id}:{clue.reopen_count}:{s.id}"[:200], channel=FEEDBACK_CHANNEL,
                          recipient=f"feedback-{clue.number}",
                          subject=f"办结反馈 {clue.number} → {masked_phone(phone)}", body_text=body, now=now):
            told.append(masked_phone(phone))
    return told
