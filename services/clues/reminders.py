"""Reminders through the outbox: the liaison (联络员) of a unit with an item it has not signed
for in time (签收, statemachine/charts/signing.py), once per lapse the sweep found."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select

from models.db import transaction
from models.tables import Clue, Lapse, Unit
from services.campaigns.load import plan_of
from services.core.directory import contact_of
from services.notices import outbox
from statemachine.time.calendar import local_time

from .signing import SIGN_FOR_OVERDUE

__all__ = ["remind_unsigned"]

T, L, U = Clue.__table__, Lapse.__table__, Unit.__table__


def _liaison_targets(unit_row, channels) -> list[tuple[str, str]]:
    """The unit's liaison (联络员) by e-mail; the unit's webhook and file as its notices go."""
    out = []
    for ch in channels:
        if ch == "email":
            email = contact_of(unit_row.liaison_json).get("email")
            if email:
                out.append(("email", email))
        elif ch in ("webhook", "file"):
            out.append((ch, unit_row.code))
    return out


def remind_unsigned(engine: Engine, *, campaign_id: int, run_key: str, now: datetime) -> int:
    """Queue a reminder to the liaison of each unit with a sign-for lapse this sweep run found
    (a re-run finds none new, and a message key queued before is not queued again)."""
    with transaction(engine) as conn:
        channels = plan_of(conn, campaign_id).escalation.channels
        rows = conn.execute(
            select(L.c.key, L.c.due_at, T.c.number, T.c.summary, U.c.code, U.c.name, U.c.liaison_json)
            .join(T, T.c.id == L.c.clue_id).join(U, U.c.id == L.c.unit_id)
            .where(L.c.campaign_id == campaign_id, L.c.run_key == run_key, L.c.kind == SIGN_FOR_OVERDUE)
            .order_by(U.c.code, T.c.number)).all()
        messages = []
        for r in rows:
            liaison = contact_of(r.liaison_json).get("name") or "联络员"
            body = (f"{r.name}{liaison}：\n    问题线索{r.number}（{r.summary[:60]}）应于"
                    f"{local_time(r.due_at):%Y年%m月%d日%H:%M}前签收，至今未按时签收。"
                    f"请及时签收办理；如非你单位职责，请在退单时限内申请退单。")
            for channel, recipient in _liaison_targets(r, channels):
                messages.append(outbox.message_row(
                    campaign_id=campaign_id, key=f"remind:{r.key}:{channel}:{recipient}"[:200], channel=channel,
                    recipient=recipient, subject=f"签收提醒：{r.number}", body_text=body, now=now))
        return outbox.insert_rows(conn, messages)
