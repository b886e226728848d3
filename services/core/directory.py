"""Who is who: campaigns, units and users looked up by their keys, and the
organisation-tree permission rules (docs/architecture.md decision 8)."""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, select

from models.tables import Campaign, Unit, User
from statemachine.authority import Relation, Who, permits, refusal, relation
from statemachine.errors import NotFound, PermissionDenied
from statemachine.limits import shown

__all__ = ["Actor", "UnitRef", "campaign_row", "unit_by_code", "unit_by_id", "actor",
           "require_acts_for", "require_supervises", "require", "SYSTEM", "unit_ref", "contact_of"]

C, U, US = Campaign.__table__, Unit.__table__, User.__table__
SYSTEM = "system"


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


# every column but the plan document, which is large and read only by plan_of()
_CAMPAIGN_COLS = [c for c in C.c if c.name != "plan_json"]


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


def unit_by_code(conn: Connection, campaign_id: int, code: str) -> UnitRef:
    row = conn.execute(select(U).where(U.c.campaign_id == campaign_id,
                                       (U.c.code == code) | (U.c.name == code))).first()
    if row is None:
        raise NotFound(f"unknown unit {shown(code)} in this campaign (see 'rectify units')")
    return unit_ref(row)


def unit_by_id(conn: Connection, unit_id: int) -> UnitRef:
    return unit_ref(conn.execute(select(U).where(U.c.id == unit_id)).one())


def actor(conn: Connection, campaign_id: int, username: str | None) -> Actor:
    if not username:
        raise PermissionDenied("say who you are: --as USER (or RECTIFY_USER)")
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
