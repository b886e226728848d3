"""Who an account is, what limits signing in has, and how account events are audited.

    Account     a person of a campaign's plan and the state of their credential
    Identity    who a request comes from once signed in: the directory's `Actor`
                (the object services/core/directory.py's `require` judges), with
                the campaign it belongs to and how it was proven
    Limits      expiry and lockout, from the one settings object
    record      an account event into the campaign's audit chain

Every account event (invited, reset, password set, signed in, failed, locked,
refused, signed out, token created or revoked, disabled, enabled) is an audit
record of entity 'account' whose entity_id is the person's users.id.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, func, select

from models.tables import Campaign, Credential, Unit, User, WebSession
from services.core.directory import Actor, campaign_row, unit_ref
from services.core.persisted import audit_record
from services.core.settings import Settings
from services.core.uow import UnitOfWork
from services.core.visibility import PERSONAL_ENTITY
from statemachine.errors import NotFound

__all__ = ["Account", "Identity", "Limits", "account", "account_by_id", "accounts_named",
           "account_states", "record", "ENTITY", "identity_columns", "identity_of"]

C, U, US, CR, S = (Campaign.__table__, Unit.__table__, User.__table__, Credential.__table__,
                   WebSession.__table__)
ENTITY = PERSONAL_ENTITY  # its records are the person's alone to read (services/core/visibility.py)


@dataclass(frozen=True)
class Limits:
    link_valid: timedelta = timedelta(hours=72)
    idle: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=12)
    lock_after: int = 5
    lock_for: timedelta = timedelta(minutes=15)
    token_days: int = 365

    @classmethod
    def of(cls, s: Settings) -> Limits:
        return cls(link_valid=timedelta(hours=s.link_hours), idle=timedelta(minutes=s.session_idle_minutes),
                   lifetime=timedelta(hours=s.session_hours), lock_after=s.lock_after,
                   lock_for=timedelta(minutes=s.lock_minutes), token_days=s.token_days)


@dataclass(frozen=True)
class Account:
    user_id: int
    campaign_id: int
    campaign: str
    username: str
    name: str
    role: str
    unit_id: int
    unit_name: str
    invited: bool         # a credential row exists
    has_password: bool
    disabled: bool
    failures: int
    locked_until: datetime | None

    @property
    def label(self) -> str:
        return f"{self.username} ({self.name}, {self.unit_name})"

    def state(self, now: datetime) -> str:
        """none (never invited) | invited | active | locked | disabled"""
        if self.disabled:
            return "disabled"
        if self.locked_until is not None and self.locked_until > now:
            return "locked"
        return "active" if self.has_password else "invited" if self.invited else "none"


@dataclass(frozen=True)
class Identity:
    actor: Actor           # what services' `require` judges: the same object as the CLI's --as
    user_id: int
    campaign_id: int
    campaign: str          # the campaign's code, as services take it
    campaign_title: str
    via: str               # "session" | "token"
    credential_id: int     # the session's or the token's id


def _account_query():
    return (select(US.c.id, US.c.campaign_id, C.c.code, US.c.username, US.c.name, US.c.role,
                   US.c.unit_id, U.c.name.label("unit_name"), CR.c.user_id.label("cred"),
                   CR.c.password_hash, CR.c.disabled, CR.c.failures, CR.c.locked_until)
            .join(C, C.c.id == US.c.campaign_id).join(U, U.c.id == US.c.unit_id)
            .join(CR, CR.c.user_id == US.c.id, isouter=True))


def _account(r) -> Account:
    return Account(r.id, r.campaign_id, r.code, r.username, r.name, r.role, r.unit_id, r.unit_name,
                   r.cred is not None, bool(r.password_hash), bool(r.disabled), r.failures or 0,
                   r.locked_until)


def account(conn: Connection, campaign: str, username: str) -> Account:
    """The account of `username` in `campaign` (a code); NotFound names the campaign."""
    cid = campaign_row(conn, campaign).id
    r = conn.execute(_account_query().where(US.c.campaign_id == cid, US.c.username == username)).first()
    if r is None:
        raise NotFound(f"unknown user '{username}' in campaign {campaign} (see 'rectify users')")
    return _account(r)


def account_by_id(conn: Connection, user_id: int) -> Account:
    return _account(conn.execute(_account_query().where(US.c.id == user_id)).one())


def accounts_named(conn: Connection, username: str, campaign: str | None = None) -> list[Account]:
    """Every account of that username (one per campaign it is in), or in one campaign."""
    q = _account_query().where(US.c.username == username)
    if campaign:
        q = q.where(C.c.code == campaign)
    return [_account(r) for r in conn.execute(q.order_by(C.c.code))]


def account_states(engine: Engine, campaign: str) -> list[tuple[Account, datetime | None]]:
    """Every person of the campaign with their account and when they last signed in."""
    last = (select(S.c.user_id, func.max(S.c.created_at).label("at")).group_by(S.c.user_id)).subquery()
    with engine.connect() as conn:
        cid = campaign_row(conn, campaign).id
        rows = conn.execute(_account_query().add_columns(last.c.at.label("last_sign_in"))
                            .join(last, last.c.user_id == US.c.id, isouter=True)
                            .where(US.c.campaign_id == cid).order_by(U.c.path, US.c.username)).all()
    return [(_account(r), r.last_sign_in) for r in rows]


def identity_columns():
    """The columns `identity_of` reads: a person with their unit and campaign."""
    return (US.c.id.label("user_id"), US.c.username, US.c.name.label("user_name"), US.c.role,
            US.c.campaign_id, C.c.code.label("campaign_code"), C.c.title.label("campaign_title"),
            U.c.id, U.c.code, U.c.name, U.c.path, U.c.participates, U.c.stage_key, U.c.version)


def identity_of(row, *, via: str, credential_id: int) -> Identity:
    actor = Actor(row.username, row.user_name, row.role, unit_ref(row))
    return Identity(actor, row.user_id, row.campaign_id, row.campaign_code, row.campaign_title, via,
                    credential_id)


def record(uow: UnitOfWork, acc: Account, trigger: str, *, actor: str, now: datetime,
           to_state: str | None = None, reason: str | None = None, detail: dict | None = None) -> None:
    uow.audit(acc.campaign_id, [audit_record(at=now, actor=actor, unit_id=acc.unit_id, entity=ENTITY,
                                             entity_id=acc.user_id, from_state=None, to_state=to_state,
                                             trigger=trigger, reason=reason, detail=detail)])
