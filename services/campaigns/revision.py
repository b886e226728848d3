"""A plan revised mid-campaign (issue 16 item 8): what a revised plan changes, and applying it.

Real plans change: a deadline moves, a stage is added or dropped, a unit joins or
leaves. A revision keeps the campaign and its history and recomputes only what came
from the plan:

- stages are rewritten from the revised plan (their `due_at` is what the sweep
  compares, so a moved date moves every unit's stage deadline at once);
- a unit in a removed stage goes to the first stage of the revised plan after the
  last stage it had passed (no new work is skipped);
- a unit joining starts at the first stage; a unit leaving (removed from the plan,
  or no longer participating) keeps its rows and records but is `withdrawn`: it no
  longer participates, so the sweep gives it no stage or report lapses; one with
  open items is refused until they are reassigned (their clocks would keep running);
- a clue's verification deadline (核查时限) came from the plan's budget and is
  recomputed; so is the signing deadline (签收) of an item not yet signed for, from
  its assignment under the revised `clues.sign_for` (none when the plan no longer
  asks for signing); a rectification deadline was set by a person and is kept.

Lapses are keyed (services/ladder/sweep.py): one per unit and stage, so a lapse
raised before the revision stays as history and a moved date never raises a second
one; a removed stage has no row left to lapse against.

What cannot be revised (the unit tree's root, a unit's level or parent, the order
of the stages kept, the clue numbers' prefix and year) is refused in one line.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping

from sqlalchemy import Engine, delete, insert, select, update

from models.tables import Campaign, Clue, ClueSuspension, PlanVersion, Stage, Unit, User
from statemachine.charts.clue import OPEN_STATES, VERIFY_PENDING
from statemachine.charts.signing import OPEN_VALUES, UNSIGNED
from statemachine.charts.unit_stage import COMPLETED, stage_deadline
from statemachine.errors import ConflictError, PlanError
from statemachine.limits import DOC_NUMBER, REFERENCE, clean_text
from statemachine.plan import Plan
from statemachine.time.calendar import WorkingCalendar, end_of_day, local_date
from statemachine.time.deadlines import Pause, moved_deadline
from statemachine.time.spans import sign_for_span, span_end

from services.core.directory import SYSTEM, campaign_row
from services.core.persisted import audit_record
from services.core.uow import unit_of_work
from .load import plan_digest, plan_of

__all__ = ["Revision", "check_revision", "revise_plan", "WITHDRAWN", "EXAMPLES"]

C, S, U, US, T, PV = (Campaign.__table__, Stage.__table__, Unit.__table__, User.__table__, Clue.__table__,
                      PlanVersion.__table__)
CS = ClueSuspension.__table__

WITHDRAWN = "withdrawn"  # a unit that left the campaign: its stage_key, never a stage's key
EXAMPLES = 5  # examples shown per kind of change


@dataclass
class Revision:
    """What a revised plan changes in a running campaign; `lines()` says it."""

    campaign: str
    version: int                       # the version the revision would make
    doc_number: str
    stages_added: list[str] = field(default_factory=list)
    stages_removed: list[str] = field(default_factory=list)
    stages_moved: list[tuple[str, datetime | None, datetime | None]] = field(default_factory=list)
    stages_changed: list[str] = field(default_factory=list)   # name, start or deliverables
    units_joining: list[str] = field(default_factory=list)
    units_leaving: list[str] = field(default_factory=list)
    units_changed: list[str] = field(default_factory=list)    # name or contacts
    people_added: list[str] = field(default_factory=list)
    people_changed: list[str] = field(default_factory=list)
    people_left_out: list[str] = field(default_factory=list)  # kept as users: their records name them
    duties_added: list[str] = field(default_factory=list)
    duties_removed: list[str] = field(default_factory=list)
    duties_changed: list[str] = field(default_factory=list)
    rules_changed: list[str] = field(default_factory=list)     # clue budgets, escalation, campaign text
    # running items whose deadline moves: (unit code, stage, old due, new due)
    unit_deadlines: list[tuple[str, str, datetime | None, datetime | None]] = field(default_factory=list)
    # units leaving a removed stage: (unit code, from stage, to stage)
    relocated: list[tuple[str, str, str]] = field(default_factory=list)
    # clues whose verification deadline moves: (id, number, old, new)
    clue_deadlines: list[tuple[int, str, datetime, datetime]] = field(default_factory=list)
    # unsigned items whose signing deadline moves: (id, number, old, new; None: no signing owed)
    sign_deadlines: list[tuple[int, str, datetime | None, datetime | None]] = field(default_factory=list)
    # what a key is called (stages, units, duties, the plan's parts): lines() shows "名称 (key)"
    names: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def changes_nothing(self) -> bool:
        return not any(v for k, v in vars(self).items() if isinstance(v, list))

    def named(self, key: str) -> str:
        name = self.names.get(key)
        return f"{name} ({key})" if name and name != key else key

    def lines(self) -> list[str]:
        if self.changes_nothing:
            return [f"revision of '{self.campaign}': the plan is the one loaded; nothing changes"]
        out = [f"revision of '{self.campaign}' ({self.doc_number}) → plan version {self.version}:"]

        def some(label: str, items: list, shown=str) -> None:
            if items:
                more = f" … and {len(items) - EXAMPLES} more" if len(items) > EXAMPLES else ""
                out.append(f"  {label} ({len(items)}): {', '.join(shown(i) for i in items[:EXAMPLES])}{more}")

        n = self.named
        some("stages added", self.stages_added, n)
        some("stages removed", self.stages_removed, n)
        some("stage deadlines moved", self.stages_moved, lambda m: f"{n(m[0])} {_day(m[1])} → {_day(m[2])}")
        some("stages changed", self.stages_changed, n)
        some("units joining (at the first stage)", self.units_joining, n)
        some("units leaving (withdrawn, history kept)", self.units_leaving, n)
        some("units changed", self.units_changed, n)
        some("people added", self.people_added)
        some("people changed", self.people_changed)
        some("people left out of the plan (kept as users)", self.people_left_out)
        some("reporting duties added", self.duties_added, n)
        some("reporting duties removed", self.duties_removed, n)
        some("reporting duties changed", self.duties_changed, n)
        some("rules changed", self.rules_changed, lambda p: f"{_PARTS[p]} ({p})")
        some("units' stage deadlines moving", self.unit_deadlines,
             lambda m: f"{n(m[0])} {self.names.get(m[1], m[1])} {_day(m[2])} → {_day(m[3])}")
        some("units moved off a removed stage", self.relocated,
             lambda m: f"{n(m[0])} {self.names.get(m[1], m[1])} → {self.names.get(m[2], m[2])}")
        some("items' verification deadlines moving", self.clue_deadlines,
             lambda m: f"{m[1]} {_day(m[2])} → {_day(m[3])}")
        some("items' signing (签收) deadlines moving", self.sign_deadlines,
             lambda m: f"{m[1]} {_when(m[2])} → {_when(m[3])}")
        return out


# the plan's parts a revision may change, as a Chinese reader knows them
_PARTS = {"campaign": "专项名称与文号", "aspects": "整治方面", "clues": "问题线索规则", "escalation": "督办升级规则"}


def _day(at: datetime | None) -> str:
    from statemachine.time.calendar import local_date

    return "长期推进" if at is None else str(local_date(at))


def _when(at: datetime | None) -> str:
    from statemachine.time.calendar import local_time

    return "不再需要签收" if at is None else local_time(at).strftime("%Y-%m-%d %H:%M")


def _refuse(source: str, code: str, why: str) -> PlanError:
    return PlanError(f"{source}: cannot revise campaign '{code}': {why}")


def _check_shape(old: Plan, new: Plan, source: str, camp) -> None:
    code = new.campaign.code
    if old.root.code != new.root.code:
        raise _refuse(source, code, f"the root unit changes ('{old.root.code}' → '{new.root.code}')")
    old_units = {u.code: u for u in old.units}
    for u in new.units:
        was = old_units.get(u.code)
        if was is None:
            continue
        if was.level != u.level:
            raise _refuse(source, code, f"unit '{u.code}' changes level ({was.level} → {u.level}); "
                                        f"a unit's level is kept for the campaign")
        if was.parent != u.parent:
            raise _refuse(source, code, f"unit '{u.code}' moves from '{was.parent}' to '{u.parent}'; "
                                        f"a unit's place in the tree is kept for the campaign")
    kept = [s.key for s in new.stages if s.key in {x.key for x in old.stages}]
    if kept != [s.key for s in old.stages if s.key in set(kept)]:
        raise _refuse(source, code, "the stages kept change their order")
    if any(s.key in (WITHDRAWN, COMPLETED) for s in new.stages):
        raise _refuse(source, code, f"a stage may not be called '{WITHDRAWN}' or '{COMPLETED}'")
    if old.clues.number_prefix != new.clues.number_prefix:
        raise _refuse(source, code, "the items' number prefix changes (numbers already given keep it)")
    if new.campaign.period.start.year != camp.start_date.year:
        raise _refuse(source, code, "the period starts in another year (the items' numbers carry it)")


def _diff(conn, camp, old: Plan, new: Plan, *, source: str, doc_number: str,
          calendar: WorkingCalendar) -> Revision:
    _check_shape(old, new, source, camp)
    rev = Revision(new.campaign.code, camp.version + 1, doc_number)
    # new names over old; a stage or unit removed keeps the name it had
    rev.names = {**{x.key: x.name for x in (*old.stages, *old.reporting)}, **{u.code: u.name for u in old.units},
                 **{x.key: x.name for x in (*new.stages, *new.reporting)}, **{u.code: u.name for u in new.units},
                 COMPLETED: "已完成全部阶段", WITHDRAWN: "已退出"}
    old_stages, new_stages = {s.key: s for s in old.stages}, {s.key: s for s in new.stages}
    rev.stages_added = [k for k in new_stages if k not in old_stages]
    rev.stages_removed = [k for k in old_stages if k not in new_stages]
    due = {k: stage_deadline(s) for k, s in new_stages.items()}
    for k, s in new_stages.items():
        if k not in old_stages:
            continue
        was, now = stage_deadline(old_stages[k]), due[k]
        if (was.due_at, was.deliverables_due_at) != (now.due_at, now.deliverables_due_at):
            rev.stages_moved.append((k, was.due_at or was.deliverables_due_at, now.due_at or now.deliverables_due_at))
        if (old_stages[k].name, old_stages[k].start, old_stages[k].deliverables, old_stages[k].note) != \
                (s.name, s.start, s.deliverables, s.note):
            rev.stages_changed.append(k)
    new_in = {u.code for u in new.participants()}
    new_units = {u.code: u for u in new.units}
    rows = {r.code: r for r in conn.execute(select(U).where(U.c.campaign_id == camp.id))}
    rev.units_joining = [u.code for u in new.units if u.code in new_in and
                         (u.code not in rows or not rows[u.code].participates)]
    rev.units_leaving = sorted(c for c, r in rows.items()
                               if r.participates and (c not in new_units or c not in new_in))
    old_units = {u.code: u for u in old.units}
    rev.units_changed = [u.code for u in new.units if u.code in old_units and u != old_units[u.code]
                         and u.code not in rev.units_joining and u.code not in rev.units_leaving]
    # against the database, not the old plan: one left out by an earlier revision is still a user
    ids = {r.id: c for c, r in rows.items()}
    users = {r.username: r for r in conn.execute(select(US).where(US.c.campaign_id == camp.id))}
    rev.people_added = [p.username for p in new.people if p.username not in users]
    rev.people_changed = [p.username for p in new.people if p.username in users and
                          (users[p.username].name, ids.get(users[p.username].unit_id), users[p.username].role,
                           users[p.username].email, users[p.username].phone) !=
                          (p.name, p.unit, p.role, p.email, p.phone)]
    old_people = {p.username for p in old.people}
    rev.people_left_out = [n for n in sorted(old_people) if n not in {p.username for p in new.people}]
    old_duties, new_duties = {d.key: d for d in old.reporting}, {d.key: d for d in new.reporting}
    rev.duties_added = [k for k in new_duties if k not in old_duties]
    rev.duties_removed = [k for k in old_duties if k not in new_duties]
    rev.duties_changed = [k for k in new_duties if k in old_duties and new_duties[k] != old_duties[k]]
    for part in ("campaign", "aspects", "clues", "escalation"):
        if getattr(old, part) != getattr(new, part):
            rev.rules_changed.append(part)
    # where each participating unit will stand, and whether its stage deadline moves
    order = [s.key for s in old.stages]
    for c, r in sorted(rows.items(), key=lambda x: x[1].path):
        if not r.participates or c in rev.units_leaving or r.stage_key in (None, COMPLETED, WITHDRAWN):
            continue
        if r.stage_key in new_stages:
            was = stage_deadline(old_stages[r.stage_key]) if r.stage_key in old_stages else None
            if was is not None and was.due_at != due[r.stage_key].due_at:
                rev.unit_deadlines.append((c, r.stage_key, was.due_at, due[r.stage_key].due_at))
            continue
        passed = [k for k in order[:order.index(r.stage_key)] if k in new_stages] if r.stage_key in order else []
        after = list(new_stages).index(passed[-1]) + 1 if passed else 0
        rev.relocated.append((c, r.stage_key, list(new_stages)[after] if after < len(new_stages) else COMPLETED))
    if old.clues.verify_within_working_days != new.clues.verify_within_working_days:
        days = new.clues.verify_within_working_days
        pending = T.c.campaign_id == camp.id, T.c.state.in_([s.value for s in VERIFY_PENDING])
        pauses = _ended_pauses(conn, pending)
        for cl in conn.execute(select(T.c.id, T.c.number, T.c.received_at, T.c.assigned_at, T.c.verify_due_at)
                               .where(*pending).order_by(T.c.number)):
            # the new budget from its assignment (a reassigned (改派) item's clock restarted there),
            # moved on by the spells its clock stood (挂账); a spell still standing moves it when it
            # is resumed (services/clues/suspension.py)
            budget = calendar.add_working_days(local_date(cl.assigned_at or cl.received_at), days)
            moved = end_of_day(moved_deadline(calendar, due=budget, pauses=pauses.get(cl.id, ())))
            if moved != cl.verify_due_at:
                rev.clue_deadlines.append((cl.id, cl.number, cl.verify_due_at, moved))
    new_span = sign_for_span(new.clues)
    if sign_for_span(old.clues) != new_span:
        for cl in conn.execute(select(T.c.id, T.c.number, T.c.received_at, T.c.assigned_at, T.c.sign_due_at)
                               .where(T.c.campaign_id == camp.id, T.c.signing == UNSIGNED,
                                      T.c.state.in_(sorted(OPEN_VALUES))).order_by(T.c.number)):
            # counted from the assignment, as the clock of a new one is (assignment_clock)
            moved = span_end(calendar, cl.assigned_at or cl.received_at, new_span) if new_span else None
            if moved != cl.sign_due_at:
                rev.sign_deadlines.append((cl.id, cl.number, cl.sign_due_at, moved))
    leaving_ids = [rows[c].id for c in rev.units_leaving]
    if leaving_ids:
        still = conn.execute(select(U.c.code, T.c.number).join(U, U.c.id == T.c.unit_id).where(
            T.c.unit_id.in_(leaving_ids), T.c.state.in_([s.value for s in OPEN_STATES]))
            .order_by(T.c.number)).first()
        if still:
            raise _refuse(source, rev.campaign, f"unit '{still.code}' leaves with open items "
                                                f"(e.g. {still.number}): reassign or close them first")
    return rev


def _ended_pauses(conn, where) -> dict[int, tuple[Pause, ...]]:
    """Each clue's ended suspensions (挂账), one query for the campaign."""
    out: dict[int, list[Pause]] = {}
    for sp in conn.execute(select(CS.c.clue_id, CS.c.started_at, CS.c.ended_at).join(T, T.c.id == CS.c.clue_id)
                           .where(*where, CS.c.ended_at.is_not(None)).order_by(CS.c.clue_id, CS.c.started_at)):
        out.setdefault(sp.clue_id, []).append(Pause(local_date(sp.started_at), local_date(sp.ended_at)))
    return {k: tuple(v) for k, v in out.items()}


def check_revision(engine: Engine, plan: Plan, *, source: str, calendar: WorkingCalendar,
                   doc_number: str | None = None) -> Revision:
    """What revising the loaded campaign with `plan` would change; changes nothing."""
    with engine.connect() as conn:
        camp = campaign_row(conn, plan.campaign.code)
        return _diff(conn, camp, plan_of(conn, camp.id), plan, source=source,
                     doc_number=doc_number or plan.campaign.doc_number, calendar=calendar)


def revise_plan(engine: Engine, plan: Plan, *, source: str, doc_number: str, now: datetime,
                calendar: WorkingCalendar, actor: str = SYSTEM,
                notice_templates: Mapping[str, str] | None = None) -> Revision:
    """Apply a revised plan to its running campaign in one unit of work; `doc_number`
    is the 文号 of the document revising it. Refused (nothing changed) if the campaign
    changed while the revision was worked out, or if the revision is not one."""
    from notifications.documents.overrides import check_overrides

    doc_number = clean_text((doc_number or "").strip(), DOC_NUMBER, what="文号 (--doc-no)")
    if len(doc_number) < 2:
        raise PlanError("a revision needs the 文号 of the document revising the plan (--doc-no)")
    source = clean_text(source, REFERENCE, what="plan file path")
    templates = dict(notice_templates or {})
    check_overrides(templates)
    with unit_of_work(engine) as uow:
        conn = uow.conn
        camp = campaign_row(conn, plan.campaign.code)
        # the campaign row first, under lock: two revisions at once make one version each, in turn
        locked = conn.execute(update(C).where(C.c.id == camp.id, C.c.version == camp.version)
                              .values(version=C.c.version + 1)).rowcount
        if locked != 1:
            raise ConflictError(f"campaign '{camp.code}' changed while it was being revised; try again")
        old = plan_of_row(conn, camp.id)
        rev = _diff(conn, camp, old, plan, source=source, doc_number=doc_number, calendar=calendar)
        if rev.changes_nothing and not templates:
            raise ConflictError(f"campaign '{camp.code}': the revised plan is the one loaded; nothing to revise")
        _apply(uow, camp, old, plan, rev, source=source, now=now, actor=actor, templates=templates)
        uow.commit()
    return rev


def plan_of_row(conn, campaign_id: int) -> Plan:
    # read inside the revision's transaction, not from plan_of's cache (the version is bumped)
    return Plan.model_validate_json(conn.execute(select(C.c.plan_json).where(C.c.id == campaign_id)).scalar_one())


def _apply(uow, camp, old: Plan, new: Plan, rev: Revision, *, source: str, now: datetime, actor: str,
           templates: dict) -> None:
    conn = uow.conn
    info = new.campaign
    plan_json = new.model_dump_json()
    digest = plan_digest(plan_json)
    previous = conn.execute(select(PV.c.sha256).where(PV.c.campaign_id == camp.id)
                            .order_by(PV.c.version.desc()).limit(1)).scalar()
    conn.execute(update(C).where(C.c.id == camp.id).values(
        title=info.title, doc_number=info.doc_number, issuing_unit=info.issuing_unit,
        start_date=info.period.start, end_date=info.period.end, sweep_cron=info.sweep_cron,
        plan_json=plan_json, plan_file=source,
        **({"notice_templates_json": json.dumps(templates, ensure_ascii=False, sort_keys=True)}
           if templates else {})))
    conn.execute(insert(PV).values(campaign_id=camp.id, version=rev.version, doc_number=rev.doc_number,
                                   sha256=digest, plan_json=plan_json, plan_file=source, loaded_at=now,
                                   loaded_by=actor))
    # the stages as the revised plan has them; nothing refers to a stage row by id
    conn.execute(delete(S).where(S.c.campaign_id == camp.id))
    conn.execute(insert(S), [dict(
        campaign_id=camp.id, idx=i, key=s.key, name=s.name, start_date=s.start, end_date=s.end,
        ongoing=s.ongoing, due_at=stage_deadline(s).due_at,
        deliverables_json=json.dumps([d.model_dump() for d in s.deliverables], ensure_ascii=False),
    ) for i, s in enumerate(new.stages)])
    rows = {r.code: r for r in conn.execute(select(U).where(U.c.campaign_id == camp.id))}
    first = new.stages[0].key
    root_id = rows[new.root.code].id
    records = []

    def unit_record(row_id: int, frm, to, trigger: str, detail: dict | None = None) -> None:
        records.append(audit_record(at=now, actor=actor, unit_id=row_id, entity="unit", entity_id=row_id,
                                    from_state=frm, to_state=to, trigger=trigger,
                                    detail={"doc_number": rev.doc_number, **(detail or {})}))

    # new units, parents first (the plan validator rules out cycles)
    ids = {c: r.id for c, r in rows.items()}
    paths = {c: r.path for c, r in rows.items()}
    joining = set(rev.units_joining)
    pending = [u for u in new.units if u.code not in rows]
    while pending:
        unit = next(u for u in pending if u.parent is None or u.parent in ids)
        pending.remove(unit)
        joins = unit.code in joining
        uid = conn.execute(insert(U).values(
            campaign_id=camp.id, code=unit.code, name=unit.name, level=unit.level,
            parent_id=ids.get(unit.parent) if unit.parent else None, path="", participates=joins,
            stage_key=first if joins else None, stage_entered_at=now if joins else None,
            liaison_json=json.dumps(unit.liaison.model_dump() if unit.liaison else None, ensure_ascii=False),
            leader_json=json.dumps(unit.leader.model_dump() if unit.leader else None, ensure_ascii=False),
            version=1).returning(U.c.id)).scalar_one()
        ids[unit.code] = uid
        paths[unit.code] = paths[unit.parent] + f"{uid}/"
        conn.execute(update(U).where(U.c.id == uid).values(path=paths[unit.code]))
        if joins:
            unit_record(uid, None, first, "enroll")
    for code in rev.units_joining:
        r = rows.get(code)
        if r is not None:  # an existing unit that takes part now: it starts at the first stage
            conn.execute(update(U).where(U.c.id == r.id).values(
                participates=True, stage_key=first, stage_entered_at=now, version=U.c.version + 1))
            unit_record(r.id, r.stage_key, first, "enroll")
    for code in rev.units_leaving:
        r = rows[code]
        conn.execute(update(U).where(U.c.id == r.id).values(
            participates=False, stage_key=WITHDRAWN, stage_entered_at=now, version=U.c.version + 1))
        unit_record(r.id, r.stage_key, WITHDRAWN, "withdraw",
                    {"in_plan": code in {u.code for u in new.units}})
    for code, frm, to in rev.relocated:
        r = rows[code]
        conn.execute(update(U).where(U.c.id == r.id).values(stage_key=to, stage_entered_at=now,
                                                            version=U.c.version + 1))
        unit_record(r.id, frm, to, "restage", {"removed_stage": frm})
    for u in new.units:
        if u.code in rev.units_changed:
            conn.execute(update(U).where(U.c.id == ids[u.code]).values(
                name=u.name,
                liaison_json=json.dumps(u.liaison.model_dump() if u.liaison else None, ensure_ascii=False),
                leader_json=json.dumps(u.leader.model_dump() if u.leader else None, ensure_ascii=False),
                version=U.c.version + 1))
    # people: new ones added, changed ones updated; one left out keeps their account and records
    people = {p.username: p for p in new.people}
    if rev.people_added:
        conn.execute(insert(US), [dict(campaign_id=camp.id, username=p.username, name=p.name,
                                       unit_id=ids[p.unit], role=p.role, email=p.email, phone=p.phone)
                                  for p in (people[n] for n in rev.people_added)])
    for name in rev.people_changed:
        p = people[name]
        conn.execute(update(US).where(US.c.campaign_id == camp.id, US.c.username == name).values(
            name=p.name, unit_id=ids[p.unit], role=p.role, email=p.email, phone=p.phone))
    # signing and verification deadlines came from the plan: recomputed; each move audited
    records += _move_clue_deadlines(conn, rev.sign_deadlines, "sign_due_at", now=now, actor=actor,
                                    doc_number=rev.doc_number)
    records += _move_clue_deadlines(conn, rev.clue_deadlines, "verify_due_at", now=now, actor=actor,
                                    doc_number=rev.doc_number)
    records.insert(0, audit_record(
        at=now, actor=actor, unit_id=root_id, entity="campaign", entity_id=camp.id,
        from_state=f"v{rev.version - 1}", to_state=f"v{rev.version}", trigger="revise",
        detail={"plan": source, "doc_number": rev.doc_number, "plan_sha256": digest, "previous_sha256": previous,
                "plan_version": rev.version, "changes": rev.lines()[1:],
                **({"notice_templates": {n: plan_digest(t) for n, t in sorted(templates.items())}}
                   if templates else {})}))
    uow.audit(camp.id, records)


def _move_clue_deadlines(conn, moves: list, column: str, *, now: datetime, actor: str, doc_number: str) -> list:
    """Write each item's moved deadline; the audit records saying so."""
    for cid_, _number, _was, moved in moves:
        conn.execute(update(T).where(T.c.id == cid_).values({column: moved, "version": T.c.version + 1}))
    if not moves:
        return []
    rows = {r.id: r for r in conn.execute(select(T.c.id, T.c.unit_id, T.c.state).where(
        T.c.id.in_([m[0] for m in moves])))}

    def iso(at: datetime | None) -> str | None:
        return at.isoformat() if at else None

    return [audit_record(at=now, actor=actor, unit_id=rows[i].unit_id, entity="clue", entity_id=i,
                         from_state=rows[i].state, to_state=rows[i].state, trigger="revise",
                         detail={"doc_number": doc_number, "number": n, column: [iso(was), iso(moved)]})
            for i, n, was, moved in moves]
