"""The one persisted transition (docs/architecture.md decision 12), for every chart.

`fire_one` moves one row, `fire_set` a set of rows, and both are compiled
from the same chart: its sources and destination, its guards (a row guard's
SQL form comes from its `row_in` declaration or from the chart's persisted
definition, checked to exist when the definition is made), who may fire the
trigger (statemachine/authority.py and its SQL form) and what the trigger
writes. Both do the versioned write, refuse a stale one, and leave the audit
record in the unit of work. tests/integration/test_persisted_contract.py
proves, per chart, for every (state, trigger) and every relation of the actor
to the unit, that one row and a set agree, on SQLite and PostgreSQL.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping

from sqlalchemy import ClauseElement, ColumnElement, Table, bindparam, update

from statemachine.authority import SYSTEM_ACTOR, Relation, refusal
from statemachine.charts.table import Chart, Guard, Subject, Transition, check_guards
from statemachine.errors import ConflictError, PermissionDenied
from statemachine.time.calendar import local_time

from .authority_sql import rows_permitted
from .uow import UnitOfWork

__all__ = ["PersistedChart", "Fired", "Moved", "fire_one", "fire_set", "refuse_stale", "audit_record"]

# guard → its SQL form for a set: (trigger input, source state, the instant) → WHERE clause
RowSql = Callable[[Any, Any, datetime], ColumnElement[bool]]


def _value(state: Any) -> Any:
    return state.value if isinstance(state, enum.Enum) else state


@dataclass(frozen=True)
class PersistedChart:
    """How one chart's rows are stored: table, columns, what each trigger writes."""

    chart: Chart
    table: Table
    entity: str                     # the audit log's entity ('clue', 'case', ...)
    unit_column: str = "unit_id"    # the unit an audit record names
    state_column: str = "state"
    stamped: bool = True            # has updated_at / updated_by
    # (trigger, input, now, actor) → the columns the trigger writes besides the state
    writes: Callable[[str, Any, datetime, str], dict] = lambda trigger, data, now, actor: {}
    row_sql: Mapping[str, RowSql] = field(default_factory=dict)  # guard name → SQL form
    plural: str = ""
    state_shown: str = "({})"       # how a refused stale write shows the state now

    def __post_init__(self) -> None:
        for t in self.chart.transitions:
            for g in t.guards:
                if g.row_dependent and g.row_in is None and g.name not in self.row_sql:
                    raise ValueError(f"{self.chart.name}: row guard {g.name} has no SQL form")

    def guard_sql(self, g: Guard, data: Any, source: Any, now: datetime) -> ColumnElement[bool]:
        if g.row_in is not None:
            column, values = g.row_in
            return self.table.c[column].in_(sorted(values))
        return self.row_sql[g.name](data, source, now)

    def values(self, t: Transition, trigger: str, data: Any, *, now: datetime, actor: str,
               extra: Mapping | None = None) -> dict:
        v = {self.state_column: _value(t.dest), "version": self.table.c.version + 1}
        if self.stamped:
            v.update(updated_at=now, updated_by=actor)
        v.update(self.writes(trigger, data, now, actor))
        v.update(extra or {})
        return v


@dataclass(frozen=True)
class Fired:
    transition: Transition
    before: Any   # the row as read
    row: Any      # the row as written (RETURNING)


@dataclass(frozen=True)
class Moved:
    id: int
    unit_id: int | None
    from_state: str
    to_state: str
    row: Any


def audit_record(*, at: datetime, actor: str, unit_id: int | None, entity: str, entity_id: int,
                 from_state: str | None, to_state: str | None, trigger: str,
                 reason: str | None = None, detail: dict | None = None) -> dict:
    """One audit record's fields (services/core/audit.py chains them)."""
    return dict(at=at, actor=actor, unit_id=unit_id, entity=entity, entity_id=entity_id,
                from_state=from_state, to_state=to_state, trigger=trigger, reason=reason, detail=detail)


_UPDATES: dict[tuple, Any] = {}


def _versioned_update(T: Table, written: Mapping) -> tuple[Any, dict]:
    """`UPDATE T SET … WHERE id = :_id AND version = :_version RETURNING *`, built once per
    table and shape of what is written (plain values become bind parameters): the one-row
    path runs per person's click, and building and hashing the statement each time cost
    about as much as executing it."""
    plain = {k: v for k, v in written.items() if not isinstance(v, ClauseElement)}
    exprs = {k: v for k, v in written.items() if k not in plain}
    key = (T.name, tuple(sorted(plain)), tuple(sorted((k, str(v)) for k, v in exprs.items())))
    stmt = _UPDATES.get(key)
    if stmt is None:
        stmt = _UPDATES[key] = (update(T).where(T.c.id == bindparam("_id"), T.c.version == bindparam("_version"))
                                .values({**{k: bindparam(f"b_{k}", type_=T.c[k].type) for k in plain}, **exprs})
                                .returning(*T.c))
    return stmt, {f"b_{k}": v for k, v in plain.items()}


def _name(actor) -> str:
    return SYSTEM_ACTOR if actor is None else actor.username


def refuse_stale(pc: PersistedChart, row, expected_version: int | None, label: str) -> None:
    """ConflictError, in one line saying what the row is now, when the caller expected
    another version of it (a form or an If-Match read before someone else's write)."""
    if expected_version is None or expected_version == row.version:
        return
    now_in = f"now version {row.version} " + pc.state_shown.format(_value(getattr(row, pc.state_column)))
    if pc.stamped:
        # stored in UTC, shown as every other time is: Asia/Shanghai
        now_in += f", last changed by {row.updated_by} at {local_time(row.updated_at):%Y-%m-%d %H:%M}"
    raise ConflictError(f"{label} changed since version {expected_version}: {now_in}; reload and retry")


def fire_one(uow: UnitOfWork, pc: PersistedChart, row, trigger: str, *, actor, now: datetime,
             campaign_id: int, ctx: Any = None, data: Any = None, unit=None,
             relation: Relation | None = None, label: str | None = None, what: str | None = None,
             expected_version: int | None = None, values: Mapping | None = None,
             reason: str | None = None, detail: dict | None = None,
             check: Callable[[], None] | None = None) -> Fired:
    """Fire `trigger` on one row read by the caller.

    `actor` is a services.core.directory.Actor, or None for the nightly job; who
    may fire is judged by the actor's relation to `unit` (a UnitRef), or by
    `relation` when the caller knows it (a team member). Refusals, in this
    order: the actor (PermissionDenied), a stale `expected_version`
    (ConflictError: only one who may act learns what the row is now), the
    chart (InvalidTransition, GuardRefused), a concurrent write (ConflictError). `check` runs after the chart allowed the
    trigger and before the write: a refusal of the use case's own (a date
    outside the visit window) that only makes sense for an allowed step."""
    label = label or f"{pc.entity} {row.id}"
    if actor is not None:
        rel = relation or actor.relation_to(unit)
        why = refusal(pc.chart.who(trigger), rel, actor=actor.label,
                      unit_name=unit.name if unit is not None else label,
                      what=what or f"'{trigger}' {pc.plural or pc.entity + 's'}")
        if why:
            raise PermissionDenied(why)
    # after the actor: a stale write's refusal says what the row is now, only to one who may act on it
    refuse_stale(pc, row, expected_version, label)
    state = getattr(row, pc.state_column)
    t = pc.chart.fire(Subject(state=state, ctx=ctx, entity=label), trigger)
    if check is not None:
        check()
    written = pc.values(t, trigger, data, now=now, actor=_name(actor), extra=values)
    stmt, params = _versioned_update(pc.table, written)
    fresh = uow.conn.execute(stmt, {**params, "_id": row.id, "_version": row.version}).first()
    if fresh is None:  # someone committed between our read and our write
        raise ConflictError(f"{label} was changed by someone else meanwhile; reload and retry")
    uow.audit(campaign_id, [audit_record(
        at=now, actor=_name(actor), unit_id=getattr(row, pc.unit_column), entity=pc.entity,
        entity_id=row.id, from_state=_value(state), to_state=_value(t.dest), trigger=trigger,
        reason=reason, detail=detail)])
    return Fired(t, row, fresh)


def _in_safe_order(sources: dict) -> dict:
    """Sources ordered so that no row is moved twice by one set: a state that another
    source's rows move into is updated before them (record_interview takes issued
    and awaiting_response cases to awaiting_response; updating issued first would let
    the second UPDATE take those rows again)."""
    pending, ordered = dict(sources), {}
    while pending:
        # a source is ready when its rows move into no state still waiting to be updated
        ready = [s for s, t in pending.items() if t.dest == s or t.dest not in pending]
        if not ready:  # pragma: no cover - no chart of ours has a cycle within one trigger
            raise ValueError("a trigger whose sources and destinations form a cycle cannot run as a set")
        for s in ready:
            ordered[s] = pending.pop(s)
    return ordered


def fire_set(uow: UnitOfWork, pc: PersistedChart, trigger: str, *, actor, now: datetime,
             campaign_id: int, where: list, ctx: Any = None, data: Any = None,
             relation: Relation | None = None, unit=None, what: str | None = None,
             authority_unit: ColumnElement | None = None, returning: tuple = (),
             values: Mapping | None = None,
             reason: str | None = None, detail: Callable[[Any], dict | None] | dict | None = None
             ) -> list[Moved]:
    """Fire `trigger` on every row matching `where` that it applies to: one
    `UPDATE … WHERE state = source AND <row guards> AND <authority> RETURNING`
    per source state. Rows in another state, refused by a row guard or out of
    the actor's reach are left alone; a guard on the actor's input or an actor
    who could act on no row at all refuses the whole set before any write."""
    chart, T = pc.chart, pc.table
    who = chart.who(trigger)
    what = what or f"'{trigger}' {pc.plural or pc.entity + 's'}"
    if relation is not None:  # the same relation to every row (`unit`: a round's organiser)
        if actor is not None:
            why = refusal(who, relation, actor=actor.label, unit_name=unit.name, what=what)
            if why:
                raise PermissionDenied(why)
        permitted = None
    else:
        permitted = rows_permitted(who, actor, authority_unit if authority_unit is not None
                                   else T.c[pc.unit_column], what=what)
    sources = _in_safe_order(chart.sources_for(trigger))
    # guards on the actor's input first, for every source: a refusal comes before any write
    for t in {id(t): t for t in sources.values()}.values():
        check_guards([g for g in t.guards if not g.row_dependent], ctx, entity=trigger, trigger=trigger)
    moved: list[Moved] = []
    records = []
    state_col, unit_col = T.c[pc.state_column], T.c[pc.unit_column]
    for source, t in sources.items():
        clauses = [*where, state_col == _value(source),
                   *(pc.guard_sql(g, data, source, now) for g in t.guards if g.row_dependent)]
        if permitted is not None:
            clauses.append(permitted)
        written = pc.values(t, trigger, data, now=now, actor=_name(actor), extra=values)
        extra_cols = [c for c in returning if c is not T.c.id and c is not unit_col]
        rows = uow.conn.execute(update(T).where(*clauses).values(**written)
                                .returning(T.c.id, unit_col, *extra_cols)).all()
        for r in sorted(rows, key=lambda r: r.id):
            m = Moved(r.id, r[1], _value(source), _value(t.dest), r)
            moved.append(m)
            records.append(audit_record(
                at=now, actor=_name(actor), unit_id=m.unit_id, entity=pc.entity, entity_id=m.id,
                from_state=m.from_state, to_state=m.to_state, trigger=trigger, reason=reason,
                detail=detail(r) if callable(detail) else detail))
    uow.audit(campaign_id, records)
    return moved
