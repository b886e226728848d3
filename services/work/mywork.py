"""My work (我的工作): what waits for one person, read in a fixed number of statements.

For the person's unit: clues to verify and to rectify, cases to sign for (签收)
and to answer, reports owed. For a supervisor besides: 销号 waiting, proposed
cases waiting for confirmation, units with overdue items below them, and the
checks of open rounds they organise; for a member of an inspection team, their
team's checks.

Every list is one statement whatever the number of items (LIMIT, with the
total beside each row by a window count), so the page costs the same for a
unit with ten clues or ten thousand; tests/web/api/test_work_statements.py counts them.
Which rows a supervisor may act on is `rows_permitted`, the SQL form of
statemachine/authority.py; the colours are statemachine/warning.py's.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine, and_, case, func, select

from models.tables import Clue, EscalationCase, InspectionCheck, InspectionRound, InspectionTeam, Unit
from statemachine.charts.clue import CLUE_CHART, RECTIFY_PENDING, VERIFY_PENDING, ClueState
from statemachine.charts.ladder import CASE_CHART, LEVEL_LABELS, CaseState, Level
from statemachine.charts.lookback import CheckState, RoundState
from statemachine.authority import Who
from statemachine.plan import Plan, WarningColours
from statemachine.warning import warning_colour

from services.campaigns.load import plan_of
from services.clues.chart import overdue_sql
from services.core.authority_sql import rows_permitted
from services.core.directory import Actor, campaign_row
from services.reports.duties import DutyLine, owed

__all__ = ["deadline_colours", "ClueItem", "CaseItem", "DutyItem", "OverdueUnit", "RoundChecks", "Listed", "MyWork", "my_work",
           "LIST_LIMIT"]

T, E, U, RD, TM, CK = (Clue.__table__, EscalationCase.__table__, Unit.__table__, InspectionRound.__table__,
                       InspectionTeam.__table__, InspectionCheck.__table__)
LIST_LIMIT = 100  # rows shown per list; the total is always given
OPEN_DUTIES = ("missing", "due_soon", "upcoming")


@dataclass(frozen=True)
class ClueItem:
    number: str
    state: str
    summary: str
    unit: str
    unit_name: str
    due_at: datetime | None
    colour: str
    version: int


@dataclass(frozen=True)
class CaseItem:
    id: int
    unit: str
    unit_name: str
    level: int
    measure: str
    state: str
    reason: str
    automatic: bool
    proposed_at: datetime
    due_at: datetime | None
    colour: str
    version: int


@dataclass(frozen=True)
class DutyItem:
    line: DutyLine
    colour: str


@dataclass(frozen=True)
class OverdueUnit:
    code: str
    name: str
    overdue: int


@dataclass(frozen=True)
class RoundChecks:
    code: str
    title: str
    deadline_at: datetime
    colour: str
    pending: int
    checks: int
    team: str | None = None  # the person's team, when they are listed as its member


@dataclass(frozen=True)
class Listed:
    """Some rows of a list and how many there are in all."""

    rows: list = field(default_factory=list)
    total: int = 0

    def __bool__(self) -> bool:
        return self.total > 0

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


@dataclass(frozen=True)
class MyWork:
    as_of: datetime
    supervisor: bool
    to_verify: Listed
    to_rectify: Listed
    awaiting_approval: Listed   # the unit's own 申请销号, waiting for the level above
    to_sign: Listed
    to_answer: Listed
    reports: Listed
    to_approve: Listed = field(default_factory=Listed)
    to_confirm: Listed = field(default_factory=Listed)
    overdue_units: Listed = field(default_factory=Listed)
    rounds: Listed = field(default_factory=Listed)
    team_checks: Listed = field(default_factory=Listed)


def _listed(conn: Connection, q, make, *, limit: int = LIST_LIMIT) -> Listed:
    """One statement: the first `limit` rows with the count of all of them beside each."""
    rows = conn.execute(q.add_columns(func.count().over().label("_total")).limit(limit)).all()
    return Listed([make(r) for r in rows], rows[0]._total if rows else 0)


def _clue_due(r) -> datetime | None:
    """The deadline that runs in the clue's state: verification, then rectification."""
    state = ClueState(r.state)
    return r.verify_due_at if state in VERIFY_PENDING else r.deadline_at if state in RECTIFY_PENDING else None


def deadline_colours(engine: Engine, campaign: str, now: datetime, *, plan: Plan | None = None):
    """due → its DeadlineColour at `now`, by the campaign's warning windows: those of `plan`
    when the caller has read it already (a page's every connection costs a round trip or
    three), else of the campaign's plan, read here."""
    if plan is None:
        with engine.connect() as conn:
            plan = plan_of(conn, campaign_row(conn, campaign).id)
    w = plan.escalation.warning
    return lambda due: warning_colour(due, now, blue_within_days=w.blue_within_days,
                                      yellow_within_days=w.yellow_within_days)


def my_work(engine: Engine, campaign: str, who: Actor, *, now: datetime) -> MyWork:
    """Everything that waits for `who` in `campaign` at `now`."""
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        plan = plan_of(conn, camp.id)
        w = plan.escalation.warning
        colour = lambda due: warning_colour(due, now, blue_within_days=w.blue_within_days,  # noqa: E731
                                            yellow_within_days=w.yellow_within_days)
        own = _own_unit(conn, camp.id, who, now, colour)
        sup = _supervisor(conn, camp.id, who, now, colour) if who.role == "supervisor" else {}
        teams = _team_checks(conn, camp.id, who, colour)
    reports = _reports(engine, campaign, who, now, w)
    return MyWork(now, who.role == "supervisor", reports=reports, team_checks=teams, **own, **sup)


def _clue_query(camp_id: int):
    return (select(T.c.number, T.c.state, T.c.summary, T.c.verify_due_at, T.c.deadline_at, T.c.version,
                   U.c.code.label("unit_code"), U.c.name.label("unit_name"))
            .join(U, U.c.id == T.c.unit_id).where(T.c.campaign_id == camp_id))


def _case_query(camp_id: int):
    return (select(E.c.id, E.c.level, E.c.state, E.c.reason, E.c.automatic, E.c.proposed_at, E.c.version,
                   E.c.response_due_at, E.c.chase_due_at, U.c.code.label("unit_code"),
                   U.c.name.label("unit_name"))
            .join(U, U.c.id == E.c.unit_id).where(E.c.campaign_id == camp_id))


def _own_unit(conn: Connection, camp_id: int, who: Actor, now: datetime, colour) -> dict:
    def clue(r) -> ClueItem:
        due = _clue_due(r)
        return ClueItem(r.number, r.state, r.summary, r.unit_code, r.unit_name, due, colour(due), r.version)

    def case(r) -> CaseItem:
        due = r.chase_due_at or r.response_due_at
        return CaseItem(r.id, r.unit_code, r.unit_name, r.level, LEVEL_LABELS[Level(r.level)], r.state,
                        r.reason, r.automatic, r.proposed_at, due, colour(due), r.version)

    clues = _clue_query(camp_id).where(T.c.unit_id == who.unit.id)
    cases = _case_query(camp_id).where(E.c.unit_id == who.unit.id)
    by_due = func.coalesce(E.c.chase_due_at, E.c.response_due_at)
    return dict(
        to_verify=_listed(conn, clues.where(T.c.state.in_([s.value for s in VERIFY_PENDING]))
                          .order_by(T.c.verify_due_at, T.c.number), clue),
        to_rectify=_listed(conn, clues.where(T.c.state.in_([ClueState.rectifying.value,
                                                             ClueState.long_term.value]))
                           .order_by(T.c.deadline_at.is_(None), T.c.deadline_at, T.c.number), clue),
        awaiting_approval=_listed(conn, clues.where(T.c.state == ClueState.rectified.value)
                                  .order_by(T.c.updated_at, T.c.number), clue),
        to_sign=_listed(conn, cases.where(E.c.state == CaseState.issued.value).order_by(by_due, E.c.id), case),
        to_answer=_listed(conn, cases.where(E.c.state == CaseState.awaiting_response.value)
                          .order_by(by_due, E.c.id), case),
    )


def _supervisor(conn: Connection, camp_id: int, who: Actor, now: datetime, colour) -> dict:
    def clue(r) -> ClueItem:
        return ClueItem(r.number, r.state, r.summary, r.unit_code, r.unit_name, None, "", r.version)

    def case(r) -> CaseItem:
        return CaseItem(r.id, r.unit_code, r.unit_name, r.level, LEVEL_LABELS[Level(r.level)], r.state,
                        r.reason, r.automatic, r.proposed_at, None, "", r.version)

    approvable = rows_permitted(CLUE_CHART.who("approve"), who, T.c.unit_id, what="approve clues")
    confirmable = rows_permitted(CASE_CHART.who("issue"), who, E.c.unit_id, what="confirm cases")
    below = and_(U.c.path.startswith(who.unit.path), U.c.id != who.unit.id)
    overdue = (select(U.c.code, U.c.name, func.count().label("n")).join(T, T.c.unit_id == U.c.id)
               .where(U.c.campaign_id == camp_id, below, overdue_sql(now))
               .group_by(U.c.id, U.c.code, U.c.name).order_by(func.count().desc(), U.c.code))
    # a round's organiser unit, or a unit above it: those who close it (statemachine/authority.py)
    organised = rows_permitted(Who.organiser, who, RD.c.organiser_unit_id, what="close rounds")
    rounds = (select(RD.c.code, RD.c.title, RD.c.deadline_at, _pending().label("pending"),
                     func.count(CK.c.id).label("checks"))
              .outerjoin(CK, CK.c.round_id == RD.c.id)
              .where(RD.c.campaign_id == camp_id, RD.c.state == RoundState.open.value, organised)
              .group_by(RD.c.id, RD.c.code, RD.c.title, RD.c.deadline_at).order_by(RD.c.deadline_at, RD.c.code))
    return dict(
        to_approve=_listed(conn, _clue_query(camp_id).where(T.c.state == ClueState.rectified.value, approvable)
                           .order_by(T.c.updated_at, T.c.number), clue),
        to_confirm=_listed(conn, _case_query(camp_id).where(E.c.state == CaseState.proposed.value, confirmable)
                           .order_by(E.c.level.desc(), E.c.proposed_at, E.c.id), case),
        overdue_units=_listed(conn, overdue, lambda r: OverdueUnit(r.code, r.name, r.n)),
        rounds=_listed(conn, rounds, lambda r: RoundChecks(r.code, r.title, r.deadline_at, colour(r.deadline_at),
                                                            int(r.pending or 0), r.checks)),
    )


def _team_checks(conn: Connection, camp_id: int, who: Actor, colour) -> Listed:
    """The open rounds' checks of the teams the person is a member of: teams are few (a
    round's handful), so they are read whole and their members looked at here."""
    teams = conn.execute(select(TM.c.id, TM.c.code, TM.c.name, TM.c.members_json, RD.c.code.label("round"),
                                RD.c.title, RD.c.deadline_at)
                         .join(RD, RD.c.id == TM.c.round_id)
                         .where(RD.c.campaign_id == camp_id, RD.c.state == RoundState.open.value)).all()
    mine = {t.id: t for t in teams if who.username in json.loads(t.members_json)}
    if not mine:
        return Listed()
    counts = {r.team_id: r for r in conn.execute(
        select(CK.c.team_id, func.count().label("checks"),
               _pending().label("pending"))
        .where(CK.c.team_id.in_(list(mine))).group_by(CK.c.team_id))}
    rows = [RoundChecks(t.round, t.title, t.deadline_at, colour(t.deadline_at),
                        int(counts[t.id].pending or 0) if t.id in counts else 0,
                        counts[t.id].checks if t.id in counts else 0, t.name)
            for t in sorted(mine.values(), key=lambda t: (t.deadline_at, t.round, t.code))]
    return Listed(rows, len(rows))


def _reports(engine: Engine, campaign: str, who: Actor, now: datetime, w: WarningColours) -> Listed:
    """The reports the person's own unit owes and has not sent (services/reports/duties.py)."""
    lines = [ln for ln in owed(engine, campaign, as_of=now, unit=who.unit.code)
             if ln.unit == who.unit.code and ln.status in OPEN_DUTIES]
    rows = [DutyItem(ln, warning_colour(ln.due_at, now, blue_within_days=w.blue_within_days,
                                        yellow_within_days=w.yellow_within_days)) for ln in lines]
    return Listed(rows[:LIST_LIMIT], len(rows))


def _pending():
    return func.sum(case((CK.c.state == CheckState.pending.value, 1), else_=0))
