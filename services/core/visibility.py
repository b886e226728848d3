"""What a person sees: the items of their own unit and, as a supervisor, of the units
below it (docs/architecture.md decision 8). It is the rule of `Who.unit` in
statemachine/authority.py, the same that lets a unit act on its own items, so a
person sees exactly what they could act on as the unit, and lists are filtered by
its SQL form (services/core/authority_sql.py), in the query, not after it.

Two kinds of reading go beyond a unit's items:
    an audit record about a person's account (signing in, failures from an address,
    tokens made and revoked) is that person's alone, never their colleagues' nor
    their supervisors' (`seen_records`); the operator reads them all with the CLI
    the whole campaign at once (walking the audit chain end to end) is for those who
    see every unit of it: a supervisor of the root unit (`require_sees_campaign`)
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, Table, and_, or_, select

from models.tables import User
from statemachine.authority import Who, permits, refusal
from statemachine.errors import PermissionDenied

from .authority_sql import rows_permitted
from .directory import Actor, UnitRef

__all__ = ["sees", "require_sees", "seen", "seen_records", "PERSONAL_ENTITY", "sees_campaign",
           "require_sees_campaign"]

PERSONAL_ENTITY = "account"  # services/accounts/accounts.py records a person's account events as this
US = User.__table__


def sees(actor: Actor, unit: UnitRef) -> bool:
    return permits(Who.unit, actor.relation_to(unit))


def require_sees(actor: Actor, unit: UnitRef, what: str) -> None:
    """PermissionDenied, saying why, unless `actor` sees `unit`'s items; `what` as in
    'see clue SM-2023-00001'."""
    why = refusal(Who.unit, actor.relation_to(unit), actor=actor.label, unit_name=unit.name, what=what)
    if why:
        raise PermissionDenied(why)


def seen(actor: Actor, unit_id: ColumnElement) -> ColumnElement[bool]:
    """The WHERE clause keeping the rows whose unit (`unit_id`) `actor` sees."""
    return rows_permitted(Who.unit, actor, unit_id, what="see items")


def seen_records(actor: Actor, records: Table) -> ColumnElement[bool]:
    """The WHERE clause keeping the audit records (`records`: the audit table) `actor` may
    read: those of the units they see, but of an account only their own."""
    own = select(US.c.id).where(US.c.username == actor.username)  # a record's campaign picks the one
    return and_(seen(actor, records.c.unit_id),
                or_(records.c.entity != PERSONAL_ENTITY, records.c.entity_id.in_(own)))


def sees_campaign(actor: Actor, root: UnitRef) -> bool:
    """Whether `actor` sees every unit of the campaign whose root unit is `root`: a
    supervisor sees the subtree of their unit, so the root's supervisors see all of it
    (statemachine/authority.py `Who.organiser`: a supervisor of the unit itself or above)."""
    return permits(Who.organiser, actor.relation_to(root))


def require_sees_campaign(actor: Actor, root: UnitRef, what: str) -> None:
    """PermissionDenied, saying why, unless `actor` sees the whole campaign."""
    if not sees_campaign(actor, root):
        raise PermissionDenied(f"{actor.label} may not {what}: it spans the whole campaign, which only a "
                               f"supervisor of {root.name} sees")
