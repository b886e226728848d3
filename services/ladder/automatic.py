"""The escalation pass's steps, run by flows/ladder.py after each sweep.

1. `propose_for_lapses`: set-based. New lapses become cases, one per unit and
   cause while a case for it is open; every lapse is linked to exactly one
   case (`case_lapses` primary key), so no lapse is ever acted on twice.
2. `issue_automatic`: proposed automatic cases at a level the policy issues
   without confirmation get their notice.
3. `chase_overdue`: 催办 the day after a response deadline, once per case.
4. `escalate_unanswered`: still unanswered after the chase: the next level.

With the plan's `escalation.combine_causes`, steps 2 and 3 give a unit one notice
per level for all the cases they act on that night (`cases.combined_notice`)
instead of one per case (per cause); the cases, their links and audit records
are the same either way. However many cases the night has, a unit's cases are
acted on together: a chunk takes every matching case of the units it reaches
(so it can be larger than CHUNK by one unit's cases), the careful pass goes unit
by unit, and step 4 leaves the cases it opens at an automatic level to be
issued as a set once it is done, not one by one.

Steps 2–4 render one document per case, so they work in chunks of cases per
transaction (never a task per case); each case is re-read under lock and its
version checked, so two rounds running at once cannot act twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

from sqlalchemy import Connection, Engine, String, and_, case, cast, exists, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from models.tables import CaseLapse, Clue, EscalationCase, Lapse, Notice, Unit
from statemachine.charts.ladder import LEVEL_LABELS, CaseState, Level
from statemachine.errors import ConflictError, GuardRefused, InvalidTransition
from statemachine.time.calendar import WorkingCalendar

from services.core.persisted import audit_record
from services.core.idsets import one_of
from services.core.uow import UnitOfWork, unit_of_work
from services.core.directory import SYSTEM, campaign_row
from .cases import CASES, CAUSE_LABELS, FACTS_SHOWN, combined_notice, CaseInput, Ladder, after_step, apply_trigger, chase_due_sql, \
    escalation_due_sql, step_detail, step_values
from services.core.persisted import fire_set

__all__ = ["LadderLine", "propose_for_lapses", "issue_automatic", "chase_overdue",
           "escalate_unanswered", "CHUNK"]

E, L, CL, U, N, T = (EscalationCase.__table__, Lapse.__table__, CaseLapse.__table__, Unit.__table__,
                     Notice.__table__, Clue.__table__)
CHUNK = 200


@dataclass(frozen=True)
class LadderLine:
    unit: str
    unit_name: str
    case_id: int
    measure: str
    action: str  # proposed | issued | chased | escalated


def _ladder(conn: Connection, campaign: str, calendar: WorkingCalendar, channels: Iterable[str]):
    return Ladder.of(conn, campaign_row(conn, campaign), calendar, channels)


def _insert(conn: Connection, table):
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


def propose_for_lapses(engine: Engine, campaign: str, *, now: datetime, calendar: WorkingCalendar,
                       causes: Iterable[str] | None = None) -> list[LadderLine]:
    """`causes` limits the step to lapses of those kinds (a round's faked findings)."""
    with unit_of_work(engine) as uow:
        conn = uow.conn
        ladder = _ladder(conn, campaign, calendar, ())
        cid = ladder.campaign_id
        rules = ladder.policy.levels()
        if causes is not None:
            rules = {k: v for k, v in rules.items() if k in set(causes)}
        if not rules:
            return []
        open_key = cast(L.c.unit_id, String) + literal(":") + L.c.kind
        unlinked = ~exists().where(CL.c.lapse_id == L.c.id)
        no_open_case = ~exists().where(E.c.campaign_id == cid, E.c.open_key == open_key)
        level = case(*((L.c.kind == k, v) for k, v in rules.items()))
        reason = case(*((L.c.kind == k, CAUSE_LABELS.get(k, k)) for k in rules))
        new_cases = (
            select(L.c.campaign_id, L.c.unit_id, level, literal(CaseState.proposed.value), L.c.kind,
                   literal("lapse:") + cast(func.min(L.c.id), String), open_key, literal(True),
                   reason, literal(SYSTEM), literal(now, E.c.proposed_at.type),
                   literal(now, E.c.updated_at.type), literal(SYSTEM), literal(1))
            .where(L.c.campaign_id == cid, L.c.kind.in_(list(rules)), unlinked, no_open_case)
            .group_by(L.c.campaign_id, L.c.unit_id, L.c.kind))
        cols = ["campaign_id", "unit_id", "level", "state", "cause", "key", "open_key", "automatic",
                "reason", "proposed_by", "proposed_at", "updated_at", "updated_by", "version"]
        created = conn.execute(_insert(conn, E).from_select(cols, new_cases).on_conflict_do_nothing()
                               .returning(E.c.id, E.c.unit_id, E.c.level, E.c.cause, E.c.key)).all()
        uow.audit(cid, (audit_record(
            at=now, actor=SYSTEM, unit_id=r.unit_id, entity="case", entity_id=r.id, from_state=None,
            to_state="proposed", trigger="propose", reason=CAUSE_LABELS.get(r.cause, r.cause),
            detail={"level": r.level, "cause": r.cause, "key": r.key})
            for r in sorted(created, key=lambda r: r.id)))
        if created and conn.dialect.name == "postgresql":
            # statistics taken while the table was nearly empty make the planner loop over the
            # new cases with a scan of the lapses each (18 s for 3,000 cases); ANALYZE in the
            # transaction counts its own new rows
            conn.exec_driver_sql("ANALYZE escalation_cases")
            # and the lapses the sweep just wrote: the next steps read each chunk's lapses
            # by primary key, which a planner that counts last week's rows scans instead
            conn.exec_driver_sql("ANALYZE lapses")
        # every unlinked lapse goes to the open case of its unit and cause; "unlinked" is the
        # primary key's conflict, not an anti-join: the planner scans the table being filled
        # once per lapse when its statistics say empty (quadratic: 5 s for 30,000 links)
        link = (select(L.c.id, E.c.id).join(E, and_(E.c.campaign_id == L.c.campaign_id,
                                                     E.c.open_key == open_key))
                .where(L.c.campaign_id == cid, L.c.kind.in_(list(rules))))
        conn.execute(_insert(conn, CL).from_select(["lapse_id", "case_id"], link)
                     .on_conflict_do_nothing())
        if created and conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE case_lapses")  # likewise: read per chunk by case
        names = _unit_names(conn, {r.unit_id for r in created})
        uow.commit()
    return [LadderLine(*names[r.unit_id], r.id, LEVEL_LABELS[Level(r.level)], "proposed")
            for r in sorted(created, key=lambda r: r.id)]


def _unit_names(conn: Connection, ids: set[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    return {r.id: (r.code, r.name) for r in conn.execute(select(U.c.id, U.c.code, U.c.name)
                                                         .where(U.c.id.in_(ids)))}


def _in_chunks(engine: Engine, campaign: str, calendar: WorkingCalendar, channels: Iterable[str],
               where: Callable[[Ladder], list], act: Callable[[UnitOfWork, Ladder, object], str | None],
               act_on_all: Callable[[UnitOfWork, Ladder, list], dict[int, str]] | None = None,
               defer_issue: bool = False) -> list[LadderLine]:
    """Apply `act` to every case matching `where`, CHUNK cases per unit of work.

    Acting moves a case out of `where`; only the cases left alone are
    remembered, so the next chunk's query stays small. A chunk runs first in
    one go (`act_on_all`: the chart's set path, one UPDATE per level; else one
    UPDATE per case; everything else written once at commit); if
    any case refuses or fails, the chunk is rolled back and taken again case by
    case, each in its own savepoint, so the refused one leaves no record and no
    gap in the numbers while the others go through (a concurrent round, rare:
    the careful pass costs two statements more per case)."""
    lines: list[LadderLine] = []
    seen: set[int] = set()
    careful = False
    while True:
        with unit_of_work(engine) as uow:
            conn = uow.conn
            ladder = _ladder(conn, campaign, calendar, channels)
            ladder.defer_issue = defer_issue
            matching = [E.c.campaign_id == ladder.campaign_id, *where(ladder)]
            if seen:
                matching.append(E.c.id.not_in(seen))
            q = select(E).where(*matching).order_by(E.c.id).limit(CHUNK)
            if conn.dialect.name == "postgresql":  # a concurrent round takes other rows
                q = q.with_for_update(skip_locked=True)
            rows = conn.execute(q).all()
            if not rows:
                return lines
            whole = ladder.policy.combine_causes and act_on_all is not None
            if whole and len(rows) == CHUNK:
                rows = _whole_units(conn, rows, matching)
            prefetch(uow, ladder.campaign_id, rows)
            names = {i: (u.code, u.name) for i, u in uow.units.items()}
            if careful:
                done = _by_unit(uow, ladder, rows, act, act_on_all) if whole else \
                    [(row, _one(uow, ladder, row, act)) for row in rows]
                careful = False
            else:
                try:
                    if act_on_all is not None:
                        acted = act_on_all(uow, ladder, rows)
                        done = [(row, acted.get(row.id)) for row in rows]
                    else:
                        done = [(row, act(uow, ladder, row)) for row in rows]
                except Exception:
                    careful = True
                    continue  # not committed: rolled back, and the same chunk comes again
            for row, action in done:
                if not action:  # acted-on rows leave the selection by themselves
                    seen.add(row.id)
                    continue
                lines.append(LadderLine(*names[row.unit_id], row.id, LEVEL_LABELS[Level(row.level)],
                                       action))
            uow.commit()


def _whole_units(conn: Connection, rows: list, matching: list) -> list:
    """`rows` with the other matching cases of their units: one unit's cases are
    never split between two chunks (two transactions, two notices)."""
    taken = {r.id for r in rows}
    q = select(E).where(*matching, one_of(conn, E.c.unit_id, {r.unit_id for r in rows}),
                        E.c.id.not_in(taken)).order_by(E.c.id)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    return rows + conn.execute(q).all()


def _by_unit(uow: UnitOfWork, ladder: Ladder, rows: list, act, act_on_all) -> list[tuple]:
    """The careful pass with combined notices: each unit's cases as a set in a savepoint
    of their own (a case another round took is left out by the set's state guard), and
    case by case only for a unit whose set failed."""
    units: dict[int, list] = {}
    for row in rows:
        units.setdefault(row.unit_id, []).append(row)
    done: list[tuple] = []
    for group in units.values():
        try:
            with uow.item():
                acted = act_on_all(uow, ladder, group)
            done += [(row, acted.get(row.id)) for row in group]
        except (ConflictError, GuardRefused, InvalidTransition):
            done += [(row, _one(uow, ladder, row, act)) for row in group]
    return done


def _one(uow: UnitOfWork, ladder: Ladder, row, act) -> str | None:
    try:
        with uow.item():
            return act(uow, ladder, row)
    except (ConflictError, GuardRefused, InvalidTransition):  # another round got there first
        return None


def prefetch(uow: UnitOfWork, campaign_id: int, rows) -> None:
    """Read what acting on a chunk of cases needs in three statements, not four per
    case: the units addressed, each case's lapses (the notice's facts) and the
    keys of the notices the cases already have."""
    conn = uow.conn
    ids = [r.id for r in rows]
    uow.units.update({u.id: u for u in conn.execute(
        select(U).where(one_of(conn, U.c.id, {r.unit_id for r in rows})))})
    linked: dict[int, list] = {i: [] for i in ids}
    for r in conn.execute(select(CL.c.case_id, L.c.kind, L.c.subject, L.c.due_at, T.c.number, T.c.summary)
                          .join(L, L.c.id == CL.c.lapse_id).outerjoin(T, T.c.id == L.c.clue_id)
                          .where(one_of(conn, CL.c.case_id, ids))
                          .order_by(CL.c.case_id, L.c.due_at, L.c.id)):
        linked[r.case_id].append(r)
    for case_id, found in linked.items():
        uow.facts[case_id] = (found[:FACTS_SHOWN + 1], len(found))
    # by the case index alone: the campaign's unique index on (campaign_id, key) looks
    # cheaper to a planner whose statistics predate the round, and reads every notice
    uow.know_notice_keys(campaign_id, conn.execute(select(N.c.key).where(one_of(conn, N.c.case_id, ids))).scalars())
    uow.cases_read.update(ids)


def _as_a_set(trigger: str, did: str, now: datetime):
    """A nightly step on a chunk of cases through the chart's set path: one UPDATE per
    level (what a step writes depends on it), then each case's notice in id order."""
    def act_on_all(uow: UnitOfWork, ladder: Ladder, rows) -> dict[int, str]:
        data, moved = CaseInput(), []
        for level in sorted({r.level for r in rows}):
            group = [r for r in rows if r.level == level]
            values = step_values(ladder, trigger, level=level, state=group[0].state, data=data, now=now,
                                 actor_name=SYSTEM)
            moved += fire_set(uow, CASES, trigger, actor=None, now=now, campaign_id=ladder.campaign_id,
                              where=[one_of(uow.conn, E.c.id, [r.id for r in group])], ctx=data.context(level),
                              data=data, values=values, returning=tuple(E.c),
                              detail=step_detail(trigger, data, level, values))
        before = {r.id: r for r in rows}
        moved = sorted(moved, key=lambda m: m.id)
        if ladder.policy.combine_causes and trigger in ("issue", "chase"):
            # one notice per unit and level for all its causes; a unit alone in its group keeps
            # the notice of its case, as without the option
            groups: dict[tuple[int, int], list] = {}
            for m in moved:
                groups.setdefault((m.row.unit_id, m.row.level), []).append(m)
            for group in groups.values():
                if len(group) == 1:
                    after_step(uow, ladder, before[group[0].id], group[0].row, trigger, actor=None, now=now)
                else:
                    combined_notice(uow, ladder, [before[m.id] for m in group], [m.row for m in group],
                                    trigger, now=now)
        else:
            for m in moved:
                after_step(uow, ladder, before[m.id], m.row, trigger, actor=None, now=now)
        return {m.id: did for m in moved}
    return act_on_all


def issue_automatic(engine: Engine, campaign: str, *, now: datetime, calendar: WorkingCalendar,
                    channels: Iterable[str]) -> list[LadderLine]:
    def act(uow, ladder, row):
        apply_trigger(uow, ladder, row, "issue", actor=None, now=now)
        return "issued"

    return _in_chunks(engine, campaign, calendar, channels, lambda ladder: [
        E.c.state == "proposed", E.c.automatic.is_(True), E.c.level.in_(ladder.policy.auto_levels),
        E.c.level != int(Level.transfer)], act, _as_a_set("issue", "issued", now))


def chase_overdue(engine: Engine, campaign: str, *, now: datetime, calendar: WorkingCalendar,
                  channels: Iterable[str]) -> list[LadderLine]:
    def act(uow, ladder, row):
        apply_trigger(uow, ladder, row, "chase", actor=None, now=now)
        return "chased"

    return _in_chunks(engine, campaign, calendar, channels, lambda ladder: [chase_due_sql(now)], act,
                      _as_a_set("chase", "chased", now))


def escalate_unanswered(engine: Engine, campaign: str, *, now: datetime, calendar: WorkingCalendar,
                        channels: Iterable[str]) -> list[LadderLine]:
    def act(uow, ladder, row):
        apply_trigger(uow, ladder, row, "escalate", actor=None, now=now,
                      data=CaseInput(reason="催办后逾期仍未回复整改情况"))
        return "escalated"

    combine = _combines(engine, campaign)
    lines = _in_chunks(engine, campaign, calendar, channels, lambda ladder: [escalation_due_sql(now)], act,
                       defer_issue=combine)
    if combine and lines:  # the cases just opened at an automatic level: one notice per unit
        lines += issue_automatic(engine, campaign, now=now, calendar=calendar, channels=channels)
    return lines


def _combines(engine: Engine, campaign: str) -> bool:
    from services.campaigns.load import plan_of

    with engine.connect() as conn:
        return plan_of(conn, campaign_row(conn, campaign).id).escalation.combine_causes
