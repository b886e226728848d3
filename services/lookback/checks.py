"""Recording checks of an open round, and moving a unit to another team.

An inspector records a check of an item assigned to their team; a
supervisor of the organising unit may record any check of the round and
revise a recorded one while the round is open. Every change is audited.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine, or_, select, update

from models.tables import Clue, InspectionCheck, InspectionTeam, RoundUnit, Unit
from statemachine.charts.lookback import CHECK_CHART, METHODS, OUTCOMES, CheckContext, method_key
from statemachine.errors import InvalidInput, NotFound, PermissionDenied
from statemachine import limits
from statemachine.time.deadlines import deadline_refusal
from statemachine.lookback.assignment import may_inspect
from statemachine.time.calendar import WorkingCalendar, local_date

from services.core.persisted import audit_record
from services.core.refs import as_id
from services.core.uow import unit_of_work
from services.core.directory import Actor, actor as lookup_actor, campaign_row, unit_by_code, unit_by_id
from services.core.persisted import fire_one
from services.clues.lifecycle import deadline_limit_on
from .charts import CHECKS
from .opening import team_slots
from services.core.visibility import seen, sees
from .rounds import load_round, organised_round, sees_round, spec_of

__all__ = ["CheckInput", "CheckView", "record_check", "revise_check", "reassign_unit", "list_checks",
           "get_check"]

T, U, TM, RU, CK = (Clue.__table__, Unit.__table__, InspectionTeam.__table__, RoundUnit.__table__,
                    InspectionCheck.__table__)


@dataclass(frozen=True)
class CheckInput:
    method: str | None = None
    inspector: str | None = None   # who checked; the recording user by default
    findings: str | None = None
    checked_on: date | None = None  # the recording day by default
    attachment: str | None = None
    deadline: date | None = None    # a relapsed item's new deadline (default: the round's rule)
    reason: str | None = None       # for a revision

    def __post_init__(self) -> None:
        limits.clean_fields(self, {"method": limits.LABEL, "reason": limits.TEXT, **{
            f: limits.COLUMNS[f"inspection_checks.{f}"] for f in ("inspector", "findings", "attachment")}})


@dataclass(frozen=True)
class CheckView:
    id: int
    number: str
    summary: str
    unit: str
    unit_name: str
    team: str | None
    state: str
    method: str | None
    inspector: str | None
    findings: str | None
    checked_on: date | None
    new_deadline: date | None
    applied_note: str | None
    version: int


def _select():
    return (select(CK, T.c.number, T.c.summary, U.c.code.label("unit_code"), U.c.name.label("unit_name"),
                   TM.c.code.label("team_code"))
            .join(T, T.c.id == CK.c.clue_id).join(U, U.c.id == CK.c.unit_id)
            .outerjoin(TM, TM.c.id == CK.c.team_id))


def _view(r) -> CheckView:
    return CheckView(r.id, r.number, r.summary, r.unit_code, r.unit_name, r.team_code, r.state, r.method,
                     r.inspector, r.findings, r.checked_on, r.new_deadline, r.applied_note, r.version)


def _load_check(conn: Connection, round_row, ref: str):
    """A check by its id or by the item's number."""
    match = T.c.number == ref
    if (check_id := as_id(ref)) is not None:
        match = match | (CK.c.id == check_id)
    row = conn.execute(_select().where(CK.c.round_id == round_row.id, match)).first()
    if row is None:
        raise NotFound(f"round {round_row.code} has no check of '{ref}' (see 'rectify round checks')")
    return row


def _inspector(conn: Connection, who: Actor, check):
    """The actor's relation to the round's organiser, and whether they are in the item's team."""
    member = False
    if check.team_id is not None:
        members = json.loads(conn.execute(select(TM.c.members_json).where(TM.c.id == check.team_id))
                             .scalar_one())
        member = who.username in members
    return member


def _open_check(conn: Connection, campaign: str, code: str, ref: str, actor: str):
    """(campaign, round, check, actor) for a step on a check; the round must be open."""
    camp = campaign_row(conn, campaign)
    rnd = load_round(conn, camp.id, code)
    if rnd.state != "open":
        raise InvalidInput(f"round {rnd.code} is {rnd.state}; checks are recorded while it is open")
    return camp, rnd, _load_check(conn, rnd, ref), lookup_actor(conn, camp.id, actor)


def record_check(engine: Engine, campaign: str, code: str, ref: str, outcome: str, *, actor: str,
                 now: datetime, calendar: WorkingCalendar, data: CheckInput,
                 expected_version: int | None = None) -> CheckView:
    """Record what a check found: confirmed, relapsed or faked."""
    if outcome not in OUTCOMES:
        raise InvalidInput(f"unknown outcome '{outcome}' (one of {', '.join(OUTCOMES)})")
    trigger = OUTCOMES[outcome]
    with unit_of_work(engine) as uow:
        conn = uow.conn
        camp, rnd, check, who = _open_check(conn, campaign, code, ref, actor)
        organiser = unit_by_id(conn, rnd.organiser_unit_id)
        spec = spec_of(rnd)
        checked_on = data.checked_on or local_date(now)
        method = method_key(data.method) if data.method else None
        ctx = CheckContext(method=data.method, inspector=data.inspector or who.name or who.username,
                           findings=data.findings, checked_on=checked_on)
        new_deadline = None
        if outcome in ("relapsed", "faked"):  # the item is reopened when the round closes
            new_deadline = data.deadline or calendar.add_working_days(checked_on, spec.reopen_working_days)

        def allowed_here() -> None:
            if spec.methods and method not in spec.methods:
                raise InvalidInput(f"--method: this round uses {'、'.join(METHODS[m] for m in spec.methods)}, "
                                   f"not {METHODS[method]}")
            if checked_on > local_date(now):
                raise InvalidInput(f"--on: {checked_on} is in the future")
            if rnd.opened_at and checked_on < local_date(rnd.opened_at):
                raise InvalidInput(f"--on: {checked_on} is before the round opened ({local_date(rnd.opened_at)})")
            if rnd.visit_from and rnd.visit_to and check.team_id is not None \
                    and not rnd.visit_from <= checked_on <= rnd.visit_to:
                raise InvalidInput(f"--on: {checked_on} is outside the visit window "
                                   f"{rnd.visit_from} – {rnd.visit_to}")
            if new_deadline is not None and new_deadline <= checked_on:
                raise InvalidInput(f"--deadline: {new_deadline} must be after the check ({checked_on})")
            # the reopened item's deadline is set by this check, on its day (statemachine/time/deadlines.py)
            why = new_deadline and deadline_refusal(new_deadline, deadline_limit_on(conn, camp.id, checked_on,
                                                                                     calendar))
            if why:
                given = "--deadline" if data.deadline else f"the round's reopen_working_days ({spec.reopen_working_days})"
                raise InvalidInput(f"{given}: {why}")
            if outcome == "confirmed" and data.deadline:
                raise InvalidInput("--deadline is the reopened item's new deadline: it applies to "
                                   "relapsed or faked findings only")

        fired = fire_one(
            uow, CHECKS, check, trigger, actor=who, now=now, campaign_id=camp.id, ctx=ctx, unit=organiser,
            relation=who.relation_to(organiser, team_member=_inspector(conn, who, check)),
            label=f"check of {check.number}", what=f"record a check of {check.number}",
            expected_version=expected_version, check=allowed_here,
            values=dict(method=method, inspector=ctx.inspector, findings=data.findings,
                        attachment=data.attachment, checked_on=checked_on, new_deadline=new_deadline,
                        recorded_by=who.username, recorded_at=now),
            reason=data.findings,
            detail={"round": code, "item": check.number, "method": method, "inspector": ctx.inspector,
                    "checked_on": checked_on.isoformat(), "attachment": data.attachment,
                    "new_deadline": new_deadline.isoformat() if new_deadline else None})
        view = _view(_load_check(conn, rnd, str(fired.row.id)))
        uow.commit()
        return view


def revise_check(engine: Engine, campaign: str, code: str, ref: str, *, actor: str, now: datetime,
                 reason: str | None) -> CheckView:
    """A supervisor takes a recorded outcome back (to pending) while the round is open."""
    reason = limits.clean_text(reason, limits.TEXT, what="reason")
    with unit_of_work(engine) as uow:
        conn = uow.conn
        camp, rnd, check, who = _open_check(conn, campaign, code, ref, actor)
        fire_one(uow, CHECKS, check, "revise", actor=who, now=now, campaign_id=camp.id,
                 ctx=CheckContext(reason=reason), unit=unit_by_id(conn, rnd.organiser_unit_id),
                 label=f"check of {check.number}", what=f"revise a check of {check.number}",
                 values=dict(method=None, inspector=None, findings=None, attachment=None, checked_on=None,
                             new_deadline=None, recorded_by=None, recorded_at=None),
                 reason=reason, detail={"round": code, "item": check.number, "was": {
                     "method": check.method, "inspector": check.inspector, "findings": check.findings}})
        view = _view(_load_check(conn, rnd, str(check.id)))
        uow.commit()
        return view


def reassign_unit(engine: Engine, campaign: str, code: str, unit: str, team: str, *, actor: str,
                  now: datetime, visit_on: date | None = None) -> int:
    """Give a unit (and its pending checks) to another team; returns the checks moved."""
    with unit_of_work(engine) as uow:
        conn = uow.conn
        camp, rnd, who = organised_round(conn, campaign, code, actor, "assign teams of", lock=False)
        if rnd.state not in ("planned", "open"):
            raise InvalidInput(f"round {code} is {rnd.state}; teams are assigned while it is planned or open")
        target = unit_by_code(conn, camp.id, unit)
        ru = conn.execute(select(RU).where(RU.c.round_id == rnd.id, RU.c.unit_id == target.id)).first()
        if ru is None:
            raise InvalidInput(f"{target.name} has no items in round {code}")
        t = conn.execute(select(TM).where(TM.c.round_id == rnd.id, TM.c.code == team)).first()
        if t is None:
            known = conn.execute(select(TM.c.code).where(TM.c.round_id == rnd.id)).scalars().all()
            raise InvalidInput(f"unknown team '{team}' (teams: {', '.join(known) or 'none'})")
        if visit_on and rnd.visit_from and not rnd.visit_from <= visit_on <= rnd.visit_to:
            raise InvalidInput(f"--visit: {visit_on} is outside the visit window {rnd.visit_from} – {rnd.visit_to}")
        slot = next(s for s in team_slots(conn, rnd.id) if s.team == t.id)
        scope = unit_by_id(conn, rnd.scope_unit_id)
        if not may_inspect(slot, target.path, scope.path):
            raise InvalidInput(f"team {team} may not inspect {target.name}: one of its members comes "
                               f"from that unit or from a unit above it (回避)")
        conn.execute(update(RU).where(RU.c.round_id == rnd.id, RU.c.unit_id == target.id)
                     .values(team_id=t.id, visit_on=visit_on or ru.visit_on))
        moved = conn.execute(update(CK).where(CK.c.round_id == rnd.id, CK.c.unit_id == target.id,
                                              CK.c.state == "pending").values(team_id=t.id)
                             .execution_options(preserve_rowcount=True)).rowcount
        uow.audit(camp.id, [audit_record(
            at=now, actor=who.username, unit_id=target.id, entity="round", entity_id=rnd.id,
            from_state=rnd.state, to_state=rnd.state, trigger="assign", reason=None,
            detail={"unit": target.code, "team": team, "checks": moved,
                    "visit_on": (visit_on or ru.visit_on).isoformat() if (visit_on or ru.visit_on) else None})])
        uow.commit()
        return moved


def list_checks(engine: Engine, campaign: str, code: str, *, unit: str | None = None,
                team: str | None = None, state: str | None = None, limit: int = 200, offset: int = 0,
                seen_by: Actor | None = None, ref: str | None = None) -> list[CheckView]:
    """`seen_by`: the round's organisers see every check, others those of the units they see
    and of the teams they are in; nobody else sees the round (PermissionDenied). `ref`: the
    one check of that id or item number."""
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        rnd = load_round(conn, camp.id, code)
        q = _select().where(CK.c.round_id == rnd.id)
        if seen_by is not None and not sees(seen_by, unit_by_id(conn, rnd.organiser_unit_id)):
            if not sees_round(conn, seen_by, rnd):
                raise PermissionDenied(f"{seen_by.label} may not see the checks of round {code}")
            teams = [t.id for t in conn.execute(select(TM.c.id, TM.c.members_json).where(TM.c.round_id == rnd.id))
                     if seen_by.username in json.loads(t.members_json)]
            q = q.where(or_(seen(seen_by, CK.c.unit_id), CK.c.team_id.in_(teams)))
        if unit:
            q = q.where(CK.c.unit_id == unit_by_code(conn, camp.id, unit).id)
        if team:
            q = q.where(TM.c.code == team)
        if ref is not None:
            check_id = as_id(ref)
            q = q.where(or_(T.c.number == ref, CK.c.id == check_id) if check_id else T.c.number == ref)
        if state:
            try:
                q = q.where(CK.c.state == CHECK_CHART.coerce(state).value)
            except ValueError:
                raise InvalidInput(f"unknown check state '{state}' "
                                   f"(one of {', '.join(s.value for s in CHECK_CHART.state_list)})") from None
        return [_view(r) for r in conn.execute(q.order_by(U.c.code, T.c.number, CK.c.id).limit(limit)
                                               .offset(offset))]


def get_check(engine: Engine, campaign: str, code: str, ref: str, *, seen_by: Actor | None = None) -> CheckView:
    """One check by its id or item number; `seen_by`: refused (PermissionDenied) unless that
    person sees it (`list_checks`)."""
    found = list_checks(engine, campaign, code, ref=ref, limit=1)
    if not found:
        raise NotFound(f"round {code} has no check of '{ref}' (see 'rectify round checks')")
    if seen_by is not None and not list_checks(engine, campaign, code, ref=ref, limit=1, seen_by=seen_by):
        raise PermissionDenied(f"{seen_by.label} may not see the check of {found[0].number} ({found[0].unit_name}): "
                               f"only the round's organisers, the item's unit and its team may")
    return found[0]
