"""The SQL form of statemachine/authority.py, for the set-based path.

`rows_permitted(who, actor, unit_id)` is the WHERE clause that keeps the rows
whose unit the actor may act on for `who`; it raises PermissionDenied when no
row could ever be permitted (a unit officer asking for a supervisor's step),
as the single path would for any of them. tests/integration/test_authority_sql.py
proves, for every relation of statemachine.authority.ALL_RELATIONS, that this
filter and `authority.permits` agree.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, and_, literal, select

from models.tables import Unit
from statemachine.authority import Position, Relation, Who, permits
from statemachine.errors import PermissionDenied

__all__ = ["rows_permitted"]

U = Unit.__table__


def rows_permitted(who: Who, actor, unit_id: ColumnElement, *, what: str) -> ColumnElement[bool]:
    """`actor`: a services.core.directory.Actor, or None for the nightly job."""
    if actor is None:
        return literal(True)
    supervisor = actor.role == "supervisor"
    below_or_own = unit_id.in_(select(U.c.id).where(U.c.path.startswith(actor.unit.path)))
    # the best relation this actor can have to any row, for the refusal before any row is read
    best = Relation(Position.above if supervisor else Position.own, supervisor=supervisor)
    if who in (Who.supervisor, Who.organiser, Who.system, Who.inspector) and not permits(who, best):
        raise PermissionDenied(f"{actor.username} ({actor.unit.name}, {actor.role}) may not {what}: "
                               f"{_ONLY[who]}")
    if who is Who.unit:
        return below_or_own if supervisor else unit_id == actor.unit.id
    if who is Who.member:
        return unit_id == actor.unit.id
    if who is Who.supervisor:
        return and_(below_or_own, unit_id != actor.unit.id)
    if who is Who.organiser:
        return below_or_own
    # an inspector's team is not in the tree: the set path is given the relation instead
    raise PermissionDenied(f"{actor.username} may not {what} as a set: record each check")


_ONLY = {Who.supervisor: "only a supervisor of a unit above the owner may",
         Who.organiser: "only a supervisor of the organising unit or of a unit above it may",
         Who.inspector: "only a member of the item's team or a supervisor of the organising unit may",
         Who.system: "only the nightly job does that"}
