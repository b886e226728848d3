"""Who may fire a trigger: the actor's relation to the unit in the tree
(docs/architecture.md decision 8).

This is the one answer to "may this person do this to that item?". Each
transition of a chart names who may fire it (`Transition.by`); the relation
of an actor to the item's unit is computed here; `refusal` says yes or why
not. The set-based path filters rows with the SQL form of the same rule,
`services/core/authority_sql.py`, and a contract test proves the two agree
for every relation.

    Who.unit        the unit itself, or a supervisor of a unit above it
                    (a unit registers, verifies and rectifies its own items)
    Who.supervisor  only a supervisor of a unit strictly above
                    (销号 approve/reject, transfer, reopen; every step of a
                    督办 case but the unit's answer): nobody approves what
                    their own unit submitted
    Who.organiser   a supervisor of the unit itself or of a unit above
                    (a look-back round's organiser unit opens, closes,
                    cancels it and revises its checks)
    Who.inspector   an organiser, or a member of the team the item is
                    assigned to (recording a check)
    Who.member      a member of the unit itself, nobody above it (签收 and 退单:
                    only the unit says it has the item, or that it is not its own)
    Who.system      the nightly job only (a check missed at closing, a check
                    cancelled with its round, a chase)

The nightly job acts as SYSTEM_ACTOR, a name no person may have or give:
`reserved_identity` is the one test, applied to a plan's usernames, to
RECTIFY_USER / --as and to every actor a service looks up.
"""
from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass
from itertools import product

__all__ = ["Who", "Position", "Relation", "relation", "permits", "refusal", "ALL_RELATIONS",
           "SYSTEM_ACTOR", "RESERVED_IDENTITIES", "reserved_identity"]

SYSTEM_ACTOR = "system"
# names that audit records and `generated_by` use for Rectify's own work
RESERVED_IDENTITIES = frozenset({SYSTEM_ACTOR})


def reserved_identity(name: str | None) -> str | None:
    """Why `name` may not be a person's identity, when it would pass for a reserved
    one (case, width and surrounding space ignored: 'System', 'ｓｙｓｔｅｍ', ' system');
    None for any other name."""
    if not name:
        return None
    folded = unicodedata.normalize("NFKC", name).strip().casefold()
    if folded not in RESERVED_IDENTITIES:
        return None
    return f"'{name.strip()}' is reserved for Rectify's own jobs: act as a user of the plan"


class Who(str, enum.Enum):
    unit = "unit"
    supervisor = "supervisor"
    organiser = "organiser"
    inspector = "inspector"
    system = "system"
    member = "member"


class Position(str, enum.Enum):
    own = "own"          # the actor belongs to the item's unit
    above = "above"      # the actor's unit is a strict ancestor of it
    outside = "outside"  # anywhere else (a sibling, a unit below, another branch)


@dataclass(frozen=True)
class Relation:
    position: Position
    supervisor: bool = False
    team_member: bool = False
    system: bool = False


def relation(*, actor_role: str, actor_unit_path: str, unit_path: str, actor_unit_id: int,
             unit_id: int, team_member: bool = False) -> Relation:
    """The actor's relation to a unit, from materialised tree paths ('/1/4/9/')."""
    if actor_unit_id == unit_id:
        pos = Position.own
    elif unit_path.startswith(actor_unit_path):
        pos = Position.above
    else:
        pos = Position.outside
    return Relation(pos, supervisor=actor_role == "supervisor", team_member=team_member)


SYSTEM_RELATION = Relation(Position.outside, system=True)


def permits(who: Who, rel: Relation) -> bool:
    if rel.system:  # the nightly job acts on every item, within what the chart allows
        return True
    if who is Who.system:
        return False
    if who is Who.unit:
        return rel.position is Position.own or (rel.position is Position.above and rel.supervisor)
    if who is Who.member:
        return rel.position is Position.own
    if who is Who.supervisor:
        return rel.position is Position.above and rel.supervisor
    if who is Who.organiser:
        return rel.supervisor and rel.position in (Position.own, Position.above)
    if who is Who.inspector:
        return rel.team_member or (rel.supervisor and rel.position in (Position.own, Position.above))
    raise AssertionError(who)  # pragma: no cover - Who is closed


def refusal(who: Who, rel: Relation, *, actor: str, unit_name: str, what: str) -> str | None:
    """None when permitted, else the one line that says why not."""
    if permits(who, rel):
        return None
    if who is Who.unit:
        return f"{actor} may not {what} for {unit_name}: only that unit or a supervisor above it may"
    if who is Who.member:
        return f"{actor} may not {what} for {unit_name}: only a member of that unit may"
    if who is Who.supervisor:
        if rel.position is Position.own:
            return f"{actor} may not {what}: {unit_name} is their own unit"
        return f"{actor} may not {what} for {unit_name}: only a supervisor of a unit above it may"
    if who is Who.organiser:
        return (f"{actor} may not {what}: only a supervisor of {unit_name}, which organises it, "
                f"or of a unit above may")
    if who is Who.inspector:
        return (f"{actor} may not {what}: only a member of the item's team or a supervisor of "
                f"{unit_name}, which organises the round, may ({actor} is not in it)")
    return f"{actor} may not {what}: only the nightly job does that"


# every relation a test must try: positions × roles × team membership, and the system
ALL_RELATIONS: tuple[Relation, ...] = tuple(
    Relation(p, supervisor=s, team_member=m) for p, s, m in product(Position, (False, True), (False, True))
) + (SYSTEM_RELATION,)
