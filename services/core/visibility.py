"""What a person sees: the items of their own unit and, as a supervisor, of the units
below it (docs/architecture.md decision 8). It is the rule of `Who.unit` in
statemachine/authority.py, the same that lets a unit act on its own items, so a
person sees exactly what they could act on as the unit, and lists are filtered by
its SQL form (services/core/authority_sql.py), in the query, not after it.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement

from statemachine.authority import Who, permits, refusal
from statemachine.errors import PermissionDenied

from .authority_sql import rows_permitted
from .directory import Actor, UnitRef

__all__ = ["sees", "require_sees", "seen"]


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
