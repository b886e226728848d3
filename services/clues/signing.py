"""签收: a member of the item's unit signs for it (statemachine/charts/signing.py); the
SQL form of when an item's signing is a lapse; and the reminder its unit's liaison gets
through the outbox when the sweep finds one."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, and_, exists, or_, select

from models.db import transaction
from models.tables import Clue, ClueReturn, Lapse, Unit
from statemachine.charts.signing import OPEN_VALUES, SIGNING_CHART, UNSIGNED, SigningContext
from statemachine.errors import NotFound
from statemachine.limits import shown
from statemachine.time.calendar import local_time

from services.core.directory import actor as lookup_actor, campaign_row, contact_of, unit_by_id
from services.core.persisted import PersistedChart, fire_one
from services.core.uow import Db, unit_of_work

__all__ = ["SIGNINGS", "SignView", "sign", "sign_for_overdue_sql", "remind_unsigned", "SIGN_FOR_OVERDUE"]

T, CR, L, U = Clue.__table__, ClueReturn.__table__, Lapse.__table__, Unit.__table__
SIGN_FOR_OVERDUE = "sign_for_overdue"


def _writes(trigger: str, data, now: datetime, actor: str) -> dict:
    return {"signed_at": now, "signed_by": actor}


SIGNINGS = PersistedChart(chart=SIGNING_CHART, table=T, entity="clue_signing", state_column="signing",
                          writes=_writes, plural="clues' signings")


@dataclass(frozen=True)
class SignView:
    number: str
    unit: str
    signed_at: datetime
    signed_by: str
    late: bool  # signed after the plan's sign_for ran out


def sign(db: Db, campaign: str, number: str, *, actor: str, now: datetime) -> SignView:
    """A member of the item's unit signs for it."""
    with unit_of_work(db) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        row = conn.execute(select(T).where(T.c.campaign_id == camp.id, T.c.number == number)).first()
        if row is None:
            raise NotFound(f"unknown clue {shown(number)} (see 'rectify clue list')")
        who = lookup_actor(conn, camp.id, actor)
        unit = unit_by_id(conn, row.unit_id)
        late = row.sign_due_at is not None and now > row.sign_due_at
        fired = fire_one(uow, SIGNINGS, row, "sign", actor=who, now=now, campaign_id=camp.id,
                         ctx=SigningContext(clue_state=row.state), unit=unit, label=f"clue {number}",
                         what="sign for (签收) clues",
                         detail={"number": number, "late": late,
                                 "due": row.sign_due_at.isoformat() if row.sign_due_at else None})
        uow.commit()
        return SignView(number, unit.name, fired.row.signed_at, fired.row.signed_by, late)


# -- statemachine.charts.signing.sign_for_overdue as a WHERE clause --------------------------
# (tests/integration/test_sign_for_rule_sql.py proves the two agree)
def sign_for_overdue_sql(as_of: datetime, table=T) -> ColumnElement[bool]:
    excused = exists().where(CR.c.clue_id == table.c.id, CR.c.state == "requested",
                             CR.c.requested_at <= table.c.sign_due_at)
    return and_(table.c.sign_due_at.is_not(None), table.c.sign_due_at < as_of,
                or_(table.c.signed_at > table.c.sign_due_at,
                    and_(table.c.signed_at.is_(None), table.c.signing == UNSIGNED,
                         table.c.state.in_(sorted(OPEN_VALUES)), ~excused)))


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
    from services.campaigns.load import plan_of
    from services.notices import outbox

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
