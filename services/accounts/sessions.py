"""Signing in with a password, and the server-side sessions it opens.

    sign_in     username and password → a new session, or a refusal; failures in a
                row lock the account (Limits.lock_after, for Limits.lock_for)
    session_identity  the Identity of a session key while the session lives
    sign_out    ends the session on the server: its key is worthless from then on

A session ends when unused for Limits.idle, in any case Limits.lifetime after
sign-in, at sign-out, when its account is disabled and when a new password is
set. The browser holds only the key; the database only its digest.

Every attempt is audited in the account's campaign: a success (sign_in), a wrong
password (sign_in_failed), the failure that locks (locked), an attempt on a
locked or disabled account (sign_in_refused). An unknown username has no
campaign to be audited in; the web logs it and counts it against the address.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select, update

from models.tables import Campaign, Credential, Unit, User, WebSession
from services.core.uow import unit_of_work
from statemachine.limits import KEY, text_problem
from statemachine.errors import InvalidInput, NotSignedIn, TooManyAttempts
from statemachine.time.calendar import TZ

from .accounts import (Account, Identity, Limits, account_by_id, accounts_named, identity_columns,
                       identity_of, record)
from .keys import digest, new_key
from .passwords import check_password, waste_time

__all__ = ["Opened", "sign_in", "session_identity", "sign_out", "WRONG"]

C, U, US, CR, S = (Campaign.__table__, Unit.__table__, User.__table__, Credential.__table__,
                   WebSession.__table__)
WRONG = "用户名或密码错误"
# last_seen_at is written at most this often per session: not one write per request
_TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Opened:
    key: str             # for the browser's cookie, never stored
    session_id: int
    account: Account
    expires_at: datetime


def _until(at: datetime) -> str:
    return at.astimezone(TZ).strftime("%H:%M")


def _retry_after(until: datetime, now: datetime) -> int:
    return max(1, int((until - now).total_seconds()) + 1)


def sign_in(engine: Engine, username: str, password: str, *, now: datetime, limits: Limits,
            campaign: str | None = None, address: str = "") -> Opened:
    username = username.strip()
    if text_problem(username, KEY):  # NUL, a control character or too long: no such account
        waste_time(password)          # (PostgreSQL refuses a NUL in a query: a 500, not an answer)
        raise NotSignedIn(WRONG)
    with unit_of_work(engine) as uow:
        conn = uow.conn
        found = [a for a in accounts_named(conn, username, campaign or None) if a.has_password]
        if len(found) > 1:
            waste_time(password)
            raise InvalidInput(f"{username} 属于多个专项行动（{', '.join(a.campaign for a in found)}）："
                               f"请选择专项行动")
        if not found:
            waste_time(password)
            raise NotSignedIn(WRONG)
        acc = found[0]
        where = {"address": address}
        if acc.locked_until is not None and acc.locked_until > now:
            # the password is not even checked: a lock stops guessing, not just succeeding
            record(uow, acc, "sign_in_refused", actor=acc.username, now=now, reason="locked", detail=where)
            uow.commit()
            raise TooManyAttempts(f"多次登录失败，账户已锁定至 {_until(acc.locked_until)}，请稍后再试",
                                  retry_after=_retry_after(acc.locked_until, now))
        stored = conn.execute(select(CR.c.password_hash).where(CR.c.user_id == acc.user_id)).scalar_one()
        ok, rehashed = check_password(stored, password)
        if not ok:
            failures = conn.execute(update(CR).where(CR.c.user_id == acc.user_id)
                                    .values(failures=CR.c.failures + 1).returning(CR.c.failures)).scalar_one()
            record(uow, acc, "sign_in_failed", actor=acc.username, now=now, reason="wrong password",
                   detail={**where, "failures": failures})
            if failures >= limits.lock_after:
                until = now + limits.lock_for
                conn.execute(update(CR).where(CR.c.user_id == acc.user_id)
                             .values(failures=0, locked_until=until))
                record(uow, acc, "locked", actor=acc.username, now=now, to_state="locked",
                       reason=f"{failures} failed sign-ins in a row",
                       detail={**where, "until": until.isoformat()})
                uow.commit()
                raise TooManyAttempts(f"{WRONG}；多次登录失败，账户已锁定至 {_until(until)}",
                                      retry_after=_retry_after(until, now))
            uow.commit()
            raise NotSignedIn(WRONG)
        if acc.disabled:  # told only to whoever knows the password
            record(uow, acc, "sign_in_refused", actor=acc.username, now=now, reason="disabled", detail=where)
            uow.commit()
            raise NotSignedIn("该账户已停用：请联系管理员")
        values = {"failures": 0, "locked_until": None}
        if rehashed:
            values["password_hash"] = rehashed
        conn.execute(update(CR).where(CR.c.user_id == acc.user_id).values(**values))
        key = new_key()
        expires = now + limits.lifetime
        sid = conn.execute(insert(S).values(user_id=acc.user_id, token_hash=digest(key), created_at=now,
                                            last_seen_at=now, expires_at=expires, address=address[:64])
                           .returning(S.c.id)).scalar_one()
        record(uow, acc, "sign_in", actor=acc.username, now=now, detail={**where, "session": sid})
        uow.commit()
    return Opened(key, sid, acc, expires)


_SESSION = (select(S.c.id.label("session_id"), S.c.last_seen_at, S.c.expires_at, S.c.ended_at,
                   CR.c.disabled, *identity_columns())
            .join(US, US.c.id == S.c.user_id).join(CR, CR.c.user_id == US.c.id)
            .join(U, U.c.id == US.c.unit_id).join(C, C.c.id == US.c.campaign_id))


def session_identity(engine: Engine, key: str, *, now: datetime, limits: Limits) -> Identity:
    """Who holds this session key, while the session lives (else NotSignedIn saying why)."""
    with engine.connect() as conn:
        row = conn.execute(_SESSION.where(S.c.token_hash == digest(key))).first()
        if row is None or row.ended_at is not None or row.disabled:
            raise NotSignedIn("未登录或会话已结束：请登录")
        if now >= row.expires_at:
            raise NotSignedIn("会话已到期：请重新登录")
        if now - row.last_seen_at >= limits.idle:
            raise NotSignedIn("长时间未操作，会话已过期：请重新登录")
        if now - row.last_seen_at >= min(_TOUCH_EVERY, limits.idle / 4):
            conn.execute(update(S).where(S.c.id == row.session_id).values(last_seen_at=now))
        conn.commit()
    return identity_of(row, via="session", credential_id=row.session_id)


def sign_out(engine: Engine, key: str, *, now: datetime, address: str = "") -> bool:
    """End the session of this key; False when it had ended already (nothing to do)."""
    with unit_of_work(engine) as uow:
        row = uow.conn.execute(select(S.c.id, S.c.user_id).where(S.c.token_hash == digest(key),
                                                                 S.c.ended_at.is_(None))).first()
        if row is None:
            return False
        uow.conn.execute(update(S).where(S.c.id == row.id).values(ended_at=now))
        acc = account_by_id(uow.conn, row.user_id)
        record(uow, acc, "sign_out", actor=acc.username, now=now,
               detail={"address": address, "session": row.id})
        uow.commit()
    return True
