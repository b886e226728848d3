"""Look-back rounds (回头看) and field inspections (实地督察): planning, cancelling,
reading. Opening and closing are flow steps (services/lookback/opening.py,
services/lookback/closing.py); checks are recorded in services/lookback/checks.py.

Who may do what (docs/architecture.md decision 8): a supervisor plans a
round over a subtree of their own unit and is its organiser; the organiser
unit's supervisors (and those above) open, assign, close and cancel it.
Items of the organiser's own unit are never re-checked by it.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, Engine, func, insert, select, update

from models.tables import InspectionCheck, InspectionRound, InspectionTeam, RoundUnit, Unit, User
from statemachine.time.calendar import end_of_day, local_date
from statemachine.errors import ConflictError, InvalidInput, NotFound, PermissionDenied
from statemachine.limits import COLUMNS, clean_text
from statemachine.authority import Who
from statemachine.charts.lookback import RoundContext
from statemachine.lookback.spec import RoundSpec

from services.core.persisted import audit_record
from services.core.uow import UnitOfWork, unit_of_work
from services.core.directory import Actor, UnitRef, actor as lookup_actor, campaign_row, require, \
    unit_by_code, unit_by_id
from services.core.persisted import fire_one, fire_set
from services.core.visibility import sees
from .charts import CHECKS, ROUNDS

__all__ = ["plan_round", "cancel_round", "get_round", "list_rounds", "RoundView", "TeamView",
           "load_round", "require_organiser", "spec_of", "fire_round", "preflight", "organised_round",
           "sees_round"]

RD, TM, RU, CK, U, US = (InspectionRound.__table__, InspectionTeam.__table__, RoundUnit.__table__,
                         InspectionCheck.__table__, Unit.__table__, User.__table__)


@dataclass(frozen=True)
class TeamView:
    code: str
    name: str
    leader: str | None
    members: list[str]
    units: list[tuple[str, str, date | None, int]] = field(default_factory=list)  # code, name, visit, items


@dataclass(frozen=True)
class RoundView:
    code: str
    title: str
    kind: str
    state: str
    scope: str
    scope_name: str
    organiser: str
    seed: str
    deadline: date
    visit_from: date | None
    visit_to: date | None
    candidates: int
    selected: int
    digest: str | None
    created_by: str
    opened_at: datetime | None
    closed_at: datetime | None
    version: int
    checks: dict[str, int] = field(default_factory=dict)  # state → count
    teams: list[TeamView] = field(default_factory=list)
    tally: dict | None = None
    spec: dict | None = None


def spec_of(row) -> RoundSpec:
    return RoundSpec.model_validate_json(row.spec_json)


def load_round(conn: Connection, campaign_id: int, code: str, *, lock: bool = False):
    q = select(RD).where(RD.c.campaign_id == campaign_id, RD.c.code == code)
    if lock and conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None:
        raise NotFound(f"unknown round '{code}' (see 'rectify round list')")
    return row


def require_organiser(who: Actor, organiser: UnitRef, what: str) -> None:
    """A supervisor of the organising unit or of a unit above it."""
    require(who, Who.organiser, organiser, what)


def organised_round(conn: Connection, campaign: str, code: str, actor: str, what: str, *,
                    lock: bool = True):
    """(campaign, round, actor) for an organiser's action; refused for anyone else."""
    camp = campaign_row(conn, campaign)
    row = load_round(conn, camp.id, code, lock=lock)
    who = lookup_actor(conn, camp.id, actor)
    require_organiser(who, unit_by_id(conn, row.organiser_unit_id), f"{what} round {code}")
    return camp, row, who


def fire_round(uow: UnitOfWork, row, trigger: str, *, actor: Actor, now: datetime,
               reason: str | None = None, detail: dict | None = None, **values) -> str:
    """Move a round through its chart (the one persisted transition); returns the new state."""
    fired = fire_one(uow, ROUNDS, row, trigger, actor=actor, now=now, campaign_id=row.campaign_id,
                     ctx=RoundContext(reason=reason), unit=unit_by_id(uow.conn, row.organiser_unit_id),
                     label=f"round {row.code}", what=f"{trigger} round {row.code}", values=values,
                     reason=reason, detail=detail)
    return fired.row.state


def _check_people(conn: Connection, campaign_id: int, spec: RoundSpec) -> dict[str, int]:
    """username → unit id of every team member; unknown names are refused."""
    names = [m for t in spec.teams for m in t.members]
    if not names:
        return {}
    known = dict(conn.execute(select(US.c.username, US.c.unit_id)
                              .where(US.c.campaign_id == campaign_id, US.c.username.in_(names))).all())
    for i, t in enumerate(spec.teams):
        for m in t.members:
            if m not in known:
                raise InvalidInput(f"teams[{i}].members: unknown user '{m}' (see 'rectify users')")
    return known


def plan_round(engine: Engine, campaign: str, spec: RoundSpec, *, actor: str, now: datetime) -> RoundView:
    """Record a round as planned: scope, selection rule and seed, teams, deadline."""
    with unit_of_work(engine) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        who = lookup_actor(conn, camp.id, actor)
        try:
            scope = unit_by_code(conn, camp.id, spec.scope)
        except NotFound:
            raise InvalidInput(f"scope: unknown unit '{spec.scope}' (see 'rectify units')") from None
        if who.role != "supervisor" or not who.is_within(scope):
            raise PermissionDenied(f"{who.username} ({who.unit.name}, {who.role}) may not plan a round "
                                   f"over {scope.name}: only a supervisor of it or of a unit above may")
        if conn.execute(select(RD.c.id).where(RD.c.campaign_id == camp.id, RD.c.code == spec.code)).first():
            raise ConflictError(f"round '{spec.code}' exists already; choose another code")
        if end_of_day(spec.deadline) <= now:
            raise InvalidInput(f"deadline: {spec.deadline} has passed already")
        if spec.closed and spec.closed.start > local_date(now):
            raise InvalidInput(f"closed: the period starts {spec.closed.start}, in the future")
        members = _check_people(conn, camp.id, spec)
        team_units = {}
        for i, t in enumerate(spec.teams):
            try:
                team_units[t.code] = unit_by_code(conn, camp.id, t.unit).id if t.unit else who.unit.id
            except NotFound:
                raise InvalidInput(f"teams[{i}].unit: unknown unit '{t.unit}'") from None
        seed = spec.selection.seed if spec.selection.seed is not None else secrets.randbelow(2 ** 53)
        fixed = spec.model_copy(update={"selection": spec.selection.model_copy(update={"seed": seed})})
        rid = conn.execute(insert(RD).values(
            campaign_id=camp.id, code=spec.code, title=spec.title, kind=spec.kind, state="planned",
            organiser_unit_id=who.unit.id, scope_unit_id=scope.id, spec_json=fixed.model_dump_json(),
            seed=str(seed), deadline=spec.deadline, deadline_at=end_of_day(spec.deadline),
            visit_from=spec.visits.start if spec.visits else None,
            visit_to=spec.visits.end if spec.visits else None, candidates=0, selected=0,
            created_by=who.username, created_at=now, updated_at=now, updated_by=who.username,
            version=1).returning(RD.c.id)).scalar_one()
        for t in spec.teams:
            conn.execute(insert(TM).values(round_id=rid, code=t.code, name=t.name, unit_id=team_units[t.code],
                                           leader=t.leader, members_json=json.dumps(t.members)))
        uow.audit(camp.id, [audit_record(
            at=now, actor=who.username, unit_id=who.unit.id, entity="round", entity_id=rid,
            from_state=None, to_state="planned", trigger="plan", reason=spec.title,
            detail={"code": spec.code, "scope": scope.code, "seed": seed,
                    "selection": fixed.selection.model_dump(mode="json"),
                    "teams": {t.code: t.members for t in spec.teams}, "members": members})])
        view = _view(conn, load_round(conn, camp.id, spec.code))
        uow.commit()
        return view


def cancel_round(engine: Engine, campaign: str, code: str, *, reason: str | None, actor: str,
                 now: datetime) -> RoundView:
    """Call a planned or open round off: its pending checks are cancelled, nothing is reopened."""
    reason = clean_text(reason, COLUMNS["inspection_rounds.reason"], what="reason")
    with unit_of_work(engine) as uow:
        conn = uow.conn
        camp, row, who = organised_round(conn, campaign, code, actor, "cancel")
        fire_round(uow, row, "cancel", actor=who, now=now, reason=reason, closed_at=now)
        conn.execute(update(RD).where(RD.c.id == row.id).values(reason=reason))
        # its pending checks go with it, each through the check chart
        fire_set(uow, CHECKS, "cancel", actor=who, now=now, campaign_id=camp.id,
                 where=[CK.c.round_id == row.id],
                 relation=who.relation_to(organiser := unit_by_id(conn, row.organiser_unit_id)),
                 unit=organiser,
                 what=f"cancel the checks of round {code}", reason=reason, detail={"round": code})
        view = _view(conn, load_round(conn, camp.id, code))
        uow.commit()
        return view


def _teams(conn: Connection, round_id: int) -> list[TeamView]:
    teams = conn.execute(select(TM).where(TM.c.round_id == round_id).order_by(TM.c.code)).all()
    units = conn.execute(select(RU.c.team_id, U.c.code, U.c.name, RU.c.visit_on, RU.c.selected)
                         .join(U, U.c.id == RU.c.unit_id).where(RU.c.round_id == round_id)
                         .order_by(RU.c.visit_on, U.c.code)).all()
    return [TeamView(t.code, t.name, t.leader, json.loads(t.members_json),
                     [(u.code, u.name, u.visit_on, u.selected) for u in units if u.team_id == t.id])
            for t in teams]


def _view(conn: Connection, row, *, full: bool = True) -> RoundView:
    scope = unit_by_id(conn, row.scope_unit_id)
    organiser = unit_by_id(conn, row.organiser_unit_id)
    checks = dict(conn.execute(select(CK.c.state, func.count()).where(CK.c.round_id == row.id)
                               .group_by(CK.c.state)).all()) if full else {}
    return RoundView(row.code, row.title, row.kind, row.state, scope.code, scope.name, organiser.code,
                     row.seed, row.deadline, row.visit_from, row.visit_to, row.candidates, row.selected,
                     row.digest, row.created_by, row.opened_at, row.closed_at, row.version,
                     checks, _teams(conn, row.id) if full else [],
                     json.loads(row.tally_json) if row.tally_json else None,
                     json.loads(row.spec_json) if full else None)


def sees_round(conn: Connection, who: Actor, row) -> bool:
    """Who sees a round: its organising unit and the supervisors above it, the units in its
    scope, and the members of its teams (services/core/visibility.py for the rest)."""
    if sees(who, unit_by_id(conn, row.organiser_unit_id)):
        return True
    if who.unit.path.startswith(unit_by_id(conn, row.scope_unit_id).path):  # a unit it inspects
        return True
    return any(who.username in json.loads(m) for m in
               conn.execute(select(TM.c.members_json).where(TM.c.round_id == row.id)).scalars())


def get_round(engine: Engine, campaign: str, code: str, *, seen_by: Actor | None = None) -> RoundView:
    """`seen_by`: refused (PermissionDenied) unless that person sees the round (`sees_round`)."""
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        row = load_round(conn, camp.id, code)
        if seen_by is not None and not sees_round(conn, seen_by, row):
            raise PermissionDenied(f"{seen_by.label} may not see round {code}: only its organisers, the units "
                                   f"it inspects and its teams may")
        return _view(conn, row)


def list_rounds(engine: Engine, campaign: str, *, seen_by: Actor | None = None) -> list[RoundView]:
    """`seen_by`: only the rounds that person sees (`sees_round`)."""
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        rows = conn.execute(select(RD).where(RD.c.campaign_id == camp.id).order_by(RD.c.created_at, RD.c.id))
        return [_view(conn, r, full=False) for r in rows
                if seen_by is None or sees_round(conn, seen_by, r)]


def preflight(engine: Engine, campaign: str, code: str, *, actor: str, action: str) -> None:
    """Refuse, before a flow runs, what the flow would refuse: an unknown round, an
    actor who is not its organiser, a round in a state the action does not apply to.
    Re-running an action that is done is allowed (the flow changes nothing)."""
    allowed = {"open": ("planned", "open"), "close": ("open", "closing", "closed")}[action]
    with engine.connect() as conn:
        _, row, _ = organised_round(conn, campaign, code, actor, action, lock=False)
        if row.state not in allowed:
            raise InvalidInput(f"round {code} is {row.state}; it cannot be {action}ed "
                               f"(only when {' or '.join(allowed)})")
