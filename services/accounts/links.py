"""What the administrator does to accounts, and the one-time links it hands out.

    invite / reset   a one-time link (invite: the first password; reset: a new one),
                     valid for Limits.link_valid; a newer link voids the older ones
    disable/enable   a disabled account signs nothing in: its sessions end, its
                     tokens and unused links are void
    link_holder      whose link this is, while it can still be used
    set_password     the password the rule allows, through a link, used once

Links are issued from the server's command line (`rectify user …`), the
operator's trusted administration, so the administrator is named as given.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, insert, select, update

from models.tables import AccessToken, Credential, SignInLink, WebSession
from services.core.uow import unit_of_work
from statemachine.errors import ConflictError, InvalidInput, NotFound

from .accounts import Account, account, account_by_id, record
from .keys import digest, new_key
from .passwords import hash_password, password_problem

__all__ = ["IssuedLink", "Disabled", "invite", "reset", "disable", "enable", "link_holder",
           "set_password", "LINK_PATH"]

CR, L, S, T = Credential.__table__, SignInLink.__table__, WebSession.__table__, AccessToken.__table__
# where a link leads in the web app (app/web/pages/account.py serves it)
LINK_PATH = "/set-password"
_BAD_LINK = "此链接无效、已使用或已过期：请联系管理员重新发送"


@dataclass(frozen=True)
class IssuedLink:
    account: Account
    purpose: str
    token: str           # shown once, never stored
    expires_at: datetime

    def url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}{LINK_PATH}?token={self.token}"


@dataclass(frozen=True)
class Disabled:
    account: Account
    sessions_ended: int
    tokens_revoked: int


def _ensure_credential(conn: Connection, acc: Account) -> None:
    if not acc.invited:
        conn.execute(insert(CR).values(user_id=acc.user_id, password_hash=None, disabled=False,
                                       failures=0, locked_until=None))


def _issue(engine: Engine, campaign: str, username: str, purpose: str, *, by: str, now: datetime,
           valid_for: timedelta, detail: dict | None) -> IssuedLink:
    with unit_of_work(engine) as uow:
        acc = account(uow.conn, campaign, username)
        if acc.disabled:
            raise ConflictError(f"{acc.label} is disabled: 'rectify user enable {username}' first")
        if purpose == "invite" and acc.has_password:
            raise ConflictError(f"{acc.label} has a password already: "
                                f"'rectify user reset {username}' sends a new link")
        _ensure_credential(uow.conn, acc)
        voided = _void_links(uow.conn, acc.user_id, now)
        token = new_key()
        expires = now + valid_for
        uow.conn.execute(insert(L).values(user_id=acc.user_id, token_hash=digest(token), purpose=purpose,
                                          created_at=now, created_by=by, expires_at=expires))
        record(uow, acc, purpose, actor=by, now=now, to_state="invited" if purpose == "invite" else None,
               detail={"expires_at": expires.isoformat(), "links_voided": voided, **(detail or {})})
        uow.commit()
    return IssuedLink(acc, purpose, token, expires)


def _void_links(conn: Connection, user_id: int, now: datetime) -> int:
    return conn.execute(update(L).where(L.c.user_id == user_id, L.c.used_at.is_(None))
                        .values(used_at=now)).rowcount


def invite(engine: Engine, campaign: str, username: str, *, by: str, now: datetime, valid_for: timedelta,
           detail: dict | None = None) -> IssuedLink:
    """A link to set the first password; refused once a password is set (reset is for that)."""
    return _issue(engine, campaign, username, "invite", by=by, now=now, valid_for=valid_for, detail=detail)


def reset(engine: Engine, campaign: str, username: str, *, by: str, now: datetime, valid_for: timedelta,
          detail: dict | None = None) -> IssuedLink:
    """A link to set a new password. The old one keeps working until the new one is set
    (a forgotten password locks nobody else out); using the link ends every session."""
    return _issue(engine, campaign, username, "reset", by=by, now=now, valid_for=valid_for, detail=detail)


def disable(engine: Engine, campaign: str, username: str, *, by: str, now: datetime,
            detail: dict | None = None) -> Disabled:
    with unit_of_work(engine) as uow:
        acc = account(uow.conn, campaign, username)
        if acc.disabled:
            raise ConflictError(f"{acc.label} is disabled already")
        _ensure_credential(uow.conn, acc)
        conn = uow.conn
        conn.execute(update(CR).where(CR.c.user_id == acc.user_id).values(disabled=True))
        ended = conn.execute(update(S).where(S.c.user_id == acc.user_id, S.c.ended_at.is_(None))
                             .values(ended_at=now)).rowcount
        revoked = conn.execute(update(T).where(T.c.user_id == acc.user_id, T.c.revoked_at.is_(None))
                               .values(revoked_at=now)).rowcount
        voided = _void_links(conn, acc.user_id, now)
        record(uow, acc, "disable", actor=by, now=now, to_state="disabled",
               detail={"sessions_ended": ended, "tokens_revoked": revoked, "links_voided": voided,
                       **(detail or {})})
        uow.commit()
    return Disabled(acc, ended, revoked)


def enable(engine: Engine, campaign: str, username: str, *, by: str, now: datetime,
           detail: dict | None = None) -> Account:
    with unit_of_work(engine) as uow:
        acc = account(uow.conn, campaign, username)
        if not acc.disabled:
            raise ConflictError(f"{acc.label} is not disabled")
        uow.conn.execute(update(CR).where(CR.c.user_id == acc.user_id)
                         .values(disabled=False, failures=0, locked_until=None))
        record(uow, acc, "enable", actor=by, now=now, to_state="enabled", detail=detail)
        uow.commit()
    return acc


def _link(conn: Connection, token: str, now: datetime):
    row = conn.execute(select(L).where(L.c.token_hash == digest(token or ""))).first()
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise NotFound(_BAD_LINK)
    return row


def link_holder(engine: Engine, token: str, *, now: datetime) -> Account:
    """Whose password this link sets, while it can be used."""
    with engine.connect() as conn:
        acc = account_by_id(conn, _link(conn, token, now).user_id)
    if acc.disabled:
        raise NotFound(_BAD_LINK)
    return acc


def set_password(engine: Engine, token: str, password: str, *, now: datetime, address: str = "") -> Account:
    """Set the password through a link, which is then used up; a password the rule
    refuses leaves the link as it was. Every session of the account ends."""
    with unit_of_work(engine) as uow:
        conn = uow.conn
        link = _link(conn, token, now)
        acc = account_by_id(conn, link.user_id)
        if acc.disabled:
            raise NotFound(_BAD_LINK)
        problem = password_problem(password, username=acc.username)
        if problem:
            raise InvalidInput(problem)
        # used once even when two requests race with the same link: only one updates it
        used = conn.execute(update(L).where(L.c.id == link.id, L.c.used_at.is_(None))
                            .values(used_at=now)).rowcount
        if used != 1:
            raise NotFound(_BAD_LINK)
        conn.execute(update(CR).where(CR.c.user_id == acc.user_id).values(
            password_hash=hash_password(password), password_set_at=now, failures=0, locked_until=None))
        ended = conn.execute(update(S).where(S.c.user_id == acc.user_id, S.c.ended_at.is_(None))
                             .values(ended_at=now)).rowcount
        record(uow, acc, "set_password", actor=acc.username, now=now, to_state="active",
               detail={"link": link.purpose, "address": address, "sessions_ended": ended})
        uow.commit()
    return acc
