"""Who is who: campaigns, units and users looked up by their keys, and the
organisation-tree permission rules (docs/architecture.md decision 8)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Iterable

from sqlalchemy import Connection, select

from models.tables import Campaign, Unit, User
from statemachine.authority import SYSTEM_ACTOR, Relation, Who, permits, refusal, relation, reserved_identity
from statemachine.errors import InvalidInput, NotFound, PermissionDenied
from statemachine.limits import shown

__all__ = ["Actor", "UnitRef", "campaign_row", "unit_by_code", "resolve_unit", "unit_by_id", "actor",
           "require_acts_for", "require_supervises", "require", "SYSTEM", "unit_ref", "contact_of"]

C, U, US = Campaign.__table__, Unit.__table__, User.__table__
SYSTEM = SYSTEM_ACTOR  # the nightly job's name in records; never a person's (reserved_identity)


@dataclass(frozen=True)
class UnitRef:
    id: int
    code: str
    name: str
    path: str
    participates: bool
    stage_key: str | None
    version: int


@dataclass(frozen=True)
class Actor:
    username: str
    name: str
    role: str
    unit: UnitRef

    def is_within(self, unit: UnitRef) -> bool:
        return unit.path.startswith(self.unit.path)

    def relation_to(self, unit: UnitRef, *, team_member: bool = False) -> Relation:
        """Where this actor stands to `unit` in the tree (statemachine/authority.py)."""
        return relation(actor_role=self.role, actor_unit_path=self.unit.path, unit_path=unit.path,
                        actor_unit_id=self.unit.id, unit_id=unit.id, team_member=team_member)

    def may(self, who: Who, unit: UnitRef) -> bool:
        return permits(who, self.relation_to(unit))

    @property
    def label(self) -> str:
        """How a refusal names the actor: 'off.b (乙县)'."""
        return f"{self.username} ({self.unit.name})"


# every column but the plan document and the notice templates, which are large and
# read only by plan_of() and notice_templates_of()
_CAMPAIGN_COLS = [c for c in C.c if c.name not in ("plan_json", "notice_templates_json")]


def campaign_row(conn: Connection, code: str):
    row = conn.execute(select(*_CAMPAIGN_COLS).where(C.c.code == code)).first()
    if row is None:
        known = conn.execute(select(C.c.code).order_by(C.c.code)).scalars().all()
        hint = f" (loaded: {', '.join(known)})" if known else " (none loaded: run 'rectify load PLAN')"
        raise NotFound(f"unknown campaign {shown(code)}{hint}")
    return row


def contact_of(raw: str | None) -> dict:
    """A unit's leader_json / liaison_json as a dict ({} when none is given)."""
    return json.loads(raw or "null") or {}


def unit_ref(row) -> UnitRef:
    """A units row (or any row with its columns) as a UnitRef."""
    return UnitRef(row.id, row.code, row.name, row.path, row.participates, row.stage_key, row.version)


def resolve_unit(key: str, units: Iterable[UnitRef],
                 same_name: Callable[[str, str], bool] = str.__eq__) -> UnitRef:
    """Which of `units` (a campaign's) `key` means. Codes identify; a name only when
    exactly one unit bears it and no unit has it as its code. Two 城区 in one province
    is real, so a plan may repeat a name, and then the name alone is refused, listing
    the codes to give instead: the first row found is never taken for the unit meant.
    The one rule of every command, import and round file that names a unit."""
    units = list(units)
    coded = next((u for u in units if u.code == key), None)
    if coded is not None:
        return coded
    named = [u for u in units if same_name(u.name, key)]
    if len(named) == 1:
        return named[0]
    if not named:
        raise NotFound(f"unknown unit {shown(key)} in this campaign (see 'rectify units')")
    raise InvalidInput(f"unit name {shown(key)} is shared by {len(named)} units: give the code "
                       f"({', '.join(sorted(u.code for u in named))})")


def unit_by_code(conn: Connection, campaign_id: int, code: str) -> UnitRef:
    """The unit a code, or an unambiguous name, means (resolve_unit)."""
    rows = conn.execute(select(U).where(U.c.campaign_id == campaign_id,
                                        (U.c.code == code) | (U.c.name == code))).all()
    return resolve_unit(code, map(unit_ref, rows))


def unit_by_id(conn: Connection, unit_id: int) -> UnitRef:
    return unit_ref(conn.execute(select(U).where(U.c.id == unit_id)).one())


def actor(conn: Connection, campaign_id: int, username: str | None) -> Actor:
    """The person acting; never a reserved identity, whatever the database holds."""
    if not username:
        raise PermissionDenied("say who you are: --as USER (or RECTIFY_USER)")
    why = reserved_identity(username)
    if why:
        raise PermissionDenied(f"{why} (--as USER)")
    row = conn.execute(select(US.c.username, US.c.name.label("user_name"), US.c.role, U)
                       .join(U, U.c.id == US.c.unit_id)
                       .where(US.c.campaign_id == campaign_id, US.c.username == username)).first()
    if row is None:
        raise NotFound(f"unknown user {shown(username)} in this campaign (see 'rectify users')")
    return Actor(row.username, row.user_name, row.role, unit_ref(row))


def require(who: Actor, may: Who, unit: UnitRef, what: str, *, team_member: bool = False) -> None:
    """Refuse unless `who` may act as `may` on `unit` (statemachine/authority.py)."""
    why = refusal(may, who.relation_to(unit, team_member=team_member), actor=who.label,
                  unit_name=unit.name, what=what)
    if why:
        raise PermissionDenied(why)


def require_acts_for(who: Actor, unit: UnitRef, what: str) -> None:
    """The unit itself, or a supervisor of an ancestor unit."""
    require(who, Who.unit, unit, what)


def require_supervises(who: Actor, unit: UnitRef, what: str) -> None:
    """A supervisor of a strict ancestor unit; never the unit itself."""
    require(who, Who.supervisor, unit, what)
