"""Personal access tokens: what a machine client sends as `Authorization: Bearer`.

Its owner makes one (a name, an expiry within Limits.token_days), sees it
once, and may revoke it; it stops working at its expiry, at revocation and
while its account is disabled (disabling revokes them all). Only the digest
is stored, with the first characters as a hint to tell tokens apart.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select, update

from models.tables import AccessToken, Campaign, Credential, Unit, User
from services.core.uow import unit_of_work
from statemachine.limits import NAME, text_problem
from statemachine.errors import InvalidInput, NotFound, NotSignedIn

from .accounts import Identity, Limits, account_by_id, identity_columns, identity_of, record
from .keys import digest, new_key

__all__ = ["PREFIX", "TokenView", "Created", "create_token", "list_tokens", "revoke_token",
           "token_identity", "NAME_MAX"]

C, U, US, CR, T = (Campaign.__table__, Unit.__table__, User.__table__, Credential.__table__,
                   AccessToken.__table__)
PREFIX = "rct_"  # recognisable in a leaked log or a secret scanner's rules
NAME_MAX = NAME.chars  # statemachine/limits.py: the column's one limit
_HINT = len(PREFIX) + 6
_TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class TokenView:
    id: int
    name: str
    hint: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True)
class Created:
    token: str         # shown once
    view: TokenView


def _view(r) -> TokenView:
    return TokenView(r.id, r.name, r.hint, r.created_at, r.expires_at, r.last_used_at, r.revoked_at)


def create_token(engine: Engine, user_id: int, *, name: str, days: int, now: datetime,
                 limits: Limits) -> Created:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("请为令牌起个名字（用在哪里）")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"令牌名称至多 {NAME_MAX} 个字符")
    if text_problem(name, NAME):  # a control character: refused like any text at the door
        raise InvalidInput("令牌名称含有不可见的控制字符")
    if not 1 <= days <= limits.token_days:
        raise InvalidInput(f"有效期须在 1 到 {limits.token_days} 天之间")
    with unit_of_work(engine) as uow:
        acc = account_by_id(uow.conn, user_id)
        token = new_key(PREFIX)
        values = dict(user_id=user_id, name=name, token_hash=digest(token), hint=token[:_HINT],
                      created_at=now, expires_at=now + timedelta(days=days))
        tid = uow.conn.execute(insert(T).values(**values).returning(T.c.id)).scalar_one()
        record(uow, acc, "token_created", actor=acc.username, now=now,
               detail={"token": tid, "name": name, "hint": values["hint"],
                       "expires_at": values["expires_at"].isoformat()})
        uow.commit()
    return Created(token, TokenView(tid, name, values["hint"], now, values["expires_at"], None, None))


def list_tokens(engine: Engine, user_id: int) -> list[TokenView]:
    with engine.connect() as conn:
        rows = conn.execute(select(T).where(T.c.user_id == user_id).order_by(T.c.created_at.desc(), T.c.id.desc()))
        return [_view(r) for r in rows]


def revoke_token(engine: Engine, user_id: int, token_id: int, *, now: datetime) -> TokenView:
    """Revoke one of the person's own tokens (another's is not found: whose it is stays unsaid)."""
    with unit_of_work(engine) as uow:
        row = uow.conn.execute(select(T).where(T.c.id == token_id, T.c.user_id == user_id)).first()
        if row is None:
            raise NotFound(f"没有编号为 {token_id} 的令牌")
        if row.revoked_at is None:
            uow.conn.execute(update(T).where(T.c.id == token_id).values(revoked_at=now))
            acc = account_by_id(uow.conn, user_id)
            record(uow, acc, "token_revoked", actor=acc.username, now=now,
                   detail={"token": token_id, "name": row.name, "hint": row.hint})
            uow.commit()
            return TokenView(row.id, row.name, row.hint, row.created_at, row.expires_at,
                             row.last_used_at, now)
    return _view(row)


_TOKEN = (select(T.c.id.label("token_id"), T.c.expires_at, T.c.revoked_at, T.c.last_used_at,
                 CR.c.disabled, *identity_columns())
          .join(US, US.c.id == T.c.user_id).join(CR, CR.c.user_id == US.c.id)
          .join(U, U.c.id == US.c.unit_id).join(C, C.c.id == US.c.campaign_id))


def token_identity(engine: Engine, token: str, *, now: datetime) -> Identity:
    """Who holds this token, while it is valid (else NotSignedIn saying why)."""
    with engine.connect() as conn:
        row = conn.execute(_TOKEN.where(T.c.token_hash == digest(token))).first()
        if row is None or row.revoked_at is not None or row.disabled:
            raise NotSignedIn("访问令牌无效或已撤销")
        if now >= row.expires_at:
            raise NotSignedIn("访问令牌已过期")
        if row.last_used_at is None or now - row.last_used_at >= _TOUCH_EVERY:
            conn.execute(update(T).where(T.c.id == row.token_id).values(last_used_at=now))
        conn.commit()
    return identity_of(row, via="token", credential_id=row.token_id)

