"""The deadline sweep's set-based steps (docs/architecture.md decision 2).

Each step is one INSERT … SELECT … ON CONFLICT DO NOTHING over the whole
campaign: the natural key of a lapse (`stage:<unit>:<stage>`,
`deliverables:<unit>:<stage>`, `verify:<clue>`, `rectify:<clue>:<reopen count>`,
`rejects:<clue>`, `sign:<clue>:<reassignments>`, `callback:<clue>:<reopen count>`, `idle:<unit>:<last activity>`,
`checks:<round>:<team>`,
`report:<unit>:<duty>:<period>`) makes a second run at the same instant, a
second scheduler or a retry a no-op (docs/architecture.md decision 4).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import (Connection, Engine, String, and_, cast, exists, func, insert, literal, or_, select,
                        union_all, update)

from statemachine.charts.clue import OPEN_STATES
from statemachine.time.calendar import WorkingCalendar, end_of_day, local_date
from sqlalchemy.dialects import postgresql, sqlite

from models.db import transaction
from models.tables import (Clue, DeliverableRecord, ExtensionRequest, InspectionCheck, InspectionRound,
                           InspectionTeam, Lapse, ReportSubmission, Stage, SweepRun, Unit)
from statemachine.charts.unit_stage import DELIVERABLES_OVERDUE, STAGE_DEADLINE, stage_deadline
from statemachine.reports.duties import all_occurrences

from services.clues.callbacks import callback_overdue_sql
from services.clues.chart import rectify_overdue_sql, verify_overdue_sql
from services.clues.signing import sign_for_overdue_sql

__all__ = ["STEPS", "run_step", "start_run", "begin_run", "finish_run", "run_summary", "SweepLine",
           "SweepParams", "parameters", "EarlierRun", "earlier_run"]

U, S, T, L, R = Unit.__table__, Stage.__table__, Clue.__table__, Lapse.__table__, SweepRun.__table__
RD, TM, CK = InspectionRound.__table__, InspectionTeam.__table__, InspectionCheck.__table__
RS, D = ReportSubmission.__table__, DeliverableRecord.__table__
ER = ExtensionRequest.__table__
COLS = ["campaign_id", "unit_id", "clue_id", "kind", "key", "subject", "due_at", "detected_at", "run_key"]


@dataclass(frozen=True)
class SweepParams:
    """What the steps need from the plan and the calendar, computed once per run."""

    idle_before: datetime  # no clue of the unit touched since: 躺平
    reject_threshold: int  # 销号 refused this often
    # reports due by now: (duty, period, due_at, owed_by), from the plan's reporting duties
    reports_due: tuple[tuple[str, str, datetime, str], ...] = ()
    # ongoing stages whose deliverables were owed by now: (stage, due_at, deliverable keys)
    deliverables_due: tuple[tuple[str, datetime, tuple[str, ...]], ...] = ()


def parameters(engine: Engine, campaign_id: int, as_of: datetime,
               calendar: WorkingCalendar) -> SweepParams:
    from services.campaigns.load import plan_of

    with engine.connect() as conn:
        plan = plan_of(conn, campaign_id)
    policy = plan.escalation
    idle_day = calendar.working_days_back(local_date(as_of), policy.no_progress_working_days)
    due = tuple((o.duty, o.period, o.due_at, o.owed_by) for o in all_occurrences(plan) if o.due_at < as_of)
    owing = tuple((d.stage, d.deliverables_due_at, d.required) for d in map(stage_deadline, plan.stages)
                  if d.deliverables_due_at is not None and d.deliverables_due_at < as_of)
    return SweepParams(idle_before=end_of_day(idle_day), reject_threshold=policy.repeated_reject_count,
                       reports_due=due, deliverables_due=owing)


def _stage_lapses(campaign_id: int, as_of: datetime, run_key: str, p: SweepParams):
    """The stage rule of statemachine/charts/unit_stage.stage_lapse, set-based: a unit still in
    a stage past its end (`stage_deadline`; the stage's `due_at` column was written by
    `stage_deadline` at loading), and a unit in an ongoing stage without all of its
    deliverables past the date they are owed (`deliverables_overdue`)."""
    late = (select(U.c.campaign_id, U.c.id, cast(literal(None), L.c.clue_id.type).label("clue_id"),
                   literal(STAGE_DEADLINE),
                   literal("stage:") + cast(U.c.id, String) + literal(":") + S.c.key,
                   S.c.key, S.c.due_at, literal(as_of, L.c.detected_at.type), literal(run_key))
            .join(S, and_(S.c.campaign_id == U.c.campaign_id, S.c.key == U.c.stage_key))
            .where(U.c.campaign_id == campaign_id, U.c.participates.is_(True),
                   S.c.due_at.is_not(None), S.c.due_at < as_of))
    owing = [_deliverables_lapses(campaign_id, as_of, run_key, stage, due_at, required)
             for stage, due_at, required in p.deliverables_due]
    return union_all(late, *owing) if owing else late


def _deliverables_lapses(campaign_id: int, as_of: datetime, run_key: str, stage: str, due_at: datetime,
                         required: tuple[str, ...]):
    recorded = (select(func.count()).select_from(D)
                .where(D.c.unit_id == U.c.id, D.c.stage_key == stage, D.c.key.in_(required))
                .scalar_subquery())  # (unit, stage, key) is unique: the count is of distinct keys
    return (select(U.c.campaign_id, U.c.id, cast(literal(None), L.c.clue_id.type),
                   literal(DELIVERABLES_OVERDUE),
                   literal("deliverables:") + cast(U.c.id, String) + literal(":") + literal(stage),
                   literal(stage), literal(due_at, L.c.due_at.type), literal(as_of, L.c.detected_at.type),
                   literal(run_key))
            .where(U.c.campaign_id == campaign_id, U.c.participates.is_(True), U.c.stage_key == stage,
                   recorded < len(required)))


def _verify_lapses(campaign_id: int, as_of: datetime, run_key: str, p: SweepParams):
    return (select(T.c.campaign_id, T.c.unit_id, T.c.id, literal("verify_overdue"),
                   literal("verify:") + cast(T.c.id, String),
                   T.c.number, T.c.verify_due_at, literal(as_of, L.c.detected_at.type),
                   literal(run_key))
            .where(T.c.campaign_id == campaign_id, verify_overdue_sql(as_of)))


def _rectify_lapses(campaign_id: int, as_of: datetime, run_key: str, p: SweepParams):
    return (select(T.c.campaign_id, T.c.unit_id, T.c.id, literal("rectify_overdue"),
                   literal("rectify:") + cast(T.c.id, String) + literal(":")
                   + cast(T.c.reopen_count, String),
                   T.c.number, T.c.deadline_at, literal(as_of, L.c.detected_at.type),
                   literal(run_key))
            .where(T.c.campaign_id == campaign_id, rectify_overdue_sql(as_of), ~_extension_waiting))


def _sign_lapses(campaign_id: int, as_of: datetime, run_key: str, p: SweepParams):
    """签收 late or not at all (statemachine/charts/signing.sign_for_overdue), once per assignment."""
    return (select(T.c.campaign_id, T.c.unit_id, T.c.id, literal("sign_for_overdue"),
                   literal("sign:") + cast(T.c.id, String) + literal(":") + cast(T.c.assign_count, String),
                   T.c.number, T.c.sign_due_at, literal(as_of, L.c.detected_at.type), literal(run_key))
            .where(T.c.campaign_id == campaign_id, sign_for_overdue_sql(as_of)))


# 延期 asked for in time and not yet decided: the old deadline raises no lapse until the level
# above answers (approved: the new one runs; refused: the old one is overdue at the next sweep)
_extension_waiting = exists().where(ER.c.clue_id == T.c.id, ER.c.state == "requested")

_STILL_OPEN = [s.value for s in OPEN_STATES]


def _reject_lapses(campaign_id: int, as_of: datetime, run_key: str, p: SweepParams):
    return (select(T.c.campaign_id, T.c.unit_id, T.c.id, literal("repeated_reject"),
                   literal("rejects:") + cast(T.c.id, String), T.c.number, T.c.updated_at,
                   literal(as_of, L.c.detected_at.type), literal(run_key))
            .where(T.c.campaign_id == campaign_id, T.c.state.in_(_STILL_OPEN),
                   T.c.reject_count >= p.reject_threshold))


def _idle_lapses(campaign_id: int, as_of: datetime, run_key: str, p: SweepParams):
    """Units whose open clues nobody touched since `idle_before`; once per idle spell,
    keyed by the last activity, so new activity followed by new idleness counts again.
    Long-term (持续推进) items are slow by design and do not count."""
    working = [s for s in _STILL_OPEN if s != "long_term"]
    last = func.max(T.c.updated_at)
    idle = (select(T.c.unit_id, last.label("last"))
            .where(T.c.campaign_id == campaign_id, T.c.state.in_(working))
            .group_by(T.c.unit_id).having(last < p.idle_before).subquery())
    return (select(literal(campaign_id), idle.c.unit_id, literal(None),
                   literal("no_progress"),
                   literal("idle:") + cast(idle.c.unit_id, String) + literal(":")
                   + cast(idle.c.last, String),
                   literal("no_progress"), idle.c.last, literal(as_of, L.c.detected_at.type),
                   literal(run_key))
            # SQLite needs a WHERE before ON CONFLICT, else it parses it as a join's ON
            .where(idle.c.unit_id.is_not(None)))


def _check_lapses(campaign_id: int, as_of: datetime, run_key: str, p: SweepParams):
    """An open round past its deadline with checks still pending: a lapse of each
    team that owes them (checks without a team: of the organising unit), once per
    round and team. No escalation rule names it: the organiser answers for its teams."""
    team_key = func.coalesce(cast(TM.c.id, String), literal("0"))
    return (select(literal(campaign_id), func.coalesce(TM.c.unit_id, RD.c.organiser_unit_id),
                   literal(None), literal("check_overdue"),
                   literal("checks:") + cast(RD.c.id, String) + literal(":") + team_key,
                   RD.c.code + literal("/") + func.coalesce(TM.c.code, literal("-")),
                   RD.c.deadline_at, literal(as_of, L.c.detected_at.type), literal(run_key))
            .select_from(CK).join(RD, RD.c.id == CK.c.round_id).outerjoin(TM, TM.c.id == CK.c.team_id)
            .where(RD.c.campaign_id == campaign_id, RD.c.state == "open", RD.c.deadline_at < as_of,
                   CK.c.state == "pending")
            .group_by(RD.c.id, RD.c.code, RD.c.deadline_at, RD.c.organiser_unit_id, TM.c.id, TM.c.code,
                      TM.c.unit_id))


def _report_lapses(campaign_id: int, as_of: datetime, run_key: str, p: SweepParams):
    """Reports past due that a unit owing them has not submitted (not even late).
    The due reports are few (one per week at most per duty), so they travel as
    literal rows; SQLite caps a compound SELECT at 500 terms, so 400 per block."""
    if not p.reports_due:
        return _no_rows()
    blocks = [p.reports_due[i:i + 400] for i in range(0, len(p.reports_due), 400)]
    parts = [union_all(*[select(literal(d, String).label("duty"), literal(per, String).label("period"),
                                literal(at, L.c.due_at.type).label("due_at"),
                                literal(by, String).label("owed_by")) for d, per, at, by in block])
             if len(block) > 1 else
             select(literal(block[0][0], String).label("duty"), literal(block[0][1], String).label("period"),
                    literal(block[0][2], L.c.due_at.type).label("due_at"),
                    literal(block[0][3], String).label("owed_by"))
             for block in blocks]
    occ = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("occ")
    owing = or_(and_(occ.c.owed_by == "participants", U.c.participates.is_(True)),
                and_(occ.c.owed_by == "lead", U.c.parent_id.is_(None)))
    submitted = exists().where(RS.c.campaign_id == campaign_id, RS.c.unit_id == U.c.id,
                               RS.c.duty_key == occ.c.duty, RS.c.period == occ.c.period)
    return (select(literal(campaign_id), U.c.id, literal(None), literal("missed_report"),
                   literal("report:") + cast(U.c.id, String) + literal(":") + occ.c.duty + literal(":")
                   + occ.c.period,
                   occ.c.duty + literal("/") + occ.c.period, occ.c.due_at,
                   literal(as_of, L.c.detected_at.type), literal(run_key))
            .select_from(U).join(occ, owing)
            .where(U.c.campaign_id == campaign_id, ~submitted))


def _no_rows():
    return (select(literal(None), literal(None), literal(None), literal(None), literal(None), literal(None),
                   literal(None), literal(None), literal(None)).where(literal(False)))


def _callback_lapses(campaign_id: int, as_of: datetime, run_key: str, p: SweepParams):
    """A callback (回访) still owed after its due instant: a lapse of the level above the item's
    unit, which owes it (services/clues/callbacks.owing_unit); once per close of the item."""
    return (select(T.c.campaign_id, func.coalesce(U.c.parent_id, T.c.unit_id), T.c.id,
                   literal("callback_overdue"),
                   literal("callback:") + cast(T.c.id, String) + literal(":") + cast(T.c.reopen_count, String),
                   T.c.number, T.c.callback_due_at, literal(as_of, L.c.detected_at.type), literal(run_key))
            .join(U, U.c.id == T.c.unit_id)
            .where(T.c.campaign_id == campaign_id, callback_overdue_sql(as_of)))


STEPS = {
    "stage_deadline": _stage_lapses,
    "verify_overdue": _verify_lapses,
    "rectify_overdue": _rectify_lapses,
    "repeated_reject": _reject_lapses,
    "no_progress": _idle_lapses,
    "check_overdue": _check_lapses,
    "missed_report": _report_lapses,
    "sign_for_overdue": _sign_lapses,
    "callback_overdue": _callback_lapses,
}


def _insert(conn: Connection):
    return (postgresql.insert(L) if conn.dialect.name == "postgresql" else sqlite.insert(L))


def run_step(engine: Engine, step: str, *, campaign_id: int, as_of: datetime, run_key: str,
             params: SweepParams) -> int:
    """Record the lapses one step finds; returns how many were new."""
    with transaction(engine) as conn:
        stmt = _insert(conn).from_select(COLS, STEPS[step](campaign_id, as_of, run_key, params)) \
            .on_conflict_do_nothing(index_elements=["campaign_id", "key"])
        # psycopg 3 closes the cursor of a non-RETURNING INSERT and reports -1
        # unless SQLAlchemy is told to keep the count.
        return conn.execute(stmt.execution_options(preserve_rowcount=True)).rowcount


def start_run(engine: Engine, *, campaign_id: int, as_of: datetime, run_key: str,
              calendar: WorkingCalendar, flow_run_id: str | None = None,
              ran_at: datetime | None = None) -> SweepParams:
    """Everything that can refuse (a year no calendar covers, a broken plan) is
    computed first; only then is the run recorded, so a refused sweep leaves no row.
    `ran_at`: when it ran (default the wall clock), never the night it is about."""
    params = parameters(engine, campaign_id, as_of, calendar)
    begin_run(engine, campaign_id=campaign_id, as_of=as_of, run_key=run_key,
              ran_at=ran_at or datetime.now(timezone.utc), flow_run_id=flow_run_id)
    return params


def begin_run(engine: Engine, *, campaign_id: int, as_of: datetime, run_key: str, ran_at: datetime,
              flow_run_id: str | None = None) -> None:
    with transaction(engine) as conn:
        conn.execute(insert(R).values(campaign_id=campaign_id, run_key=run_key, as_of=as_of,
                                      ran_at=ran_at, new_lapses=0, flow_run_id=flow_run_id))


@dataclass(frozen=True)
class EarlierRun:
    """The first run recorded for a night another run of it is now doing."""

    run_key: str
    flow_run_id: str | None
    ran_at: datetime
    new_lapses: int


def earlier_run(engine: Engine, *, campaign_id: int, as_of: datetime, run_key: str) -> EarlierRun | None:
    """The night's first run when `run_key` is not it (recorded before, by id: the
    order the database committed them in, whatever the workers' clocks say), else None."""
    with engine.connect() as conn:
        mine = select(R.c.id).where(R.c.run_key == run_key).scalar_subquery()
        row = conn.execute(select(R.c.run_key, R.c.flow_run_id, R.c.ran_at, R.c.new_lapses)
                           .where(R.c.campaign_id == campaign_id, R.c.as_of == as_of, R.c.id < mine)
                           .order_by(R.c.id).limit(1)).first()
    return EarlierRun(row.run_key, row.flow_run_id, row.ran_at, row.new_lapses) if row else None


def finish_run(engine: Engine, *, run_key: str, new_lapses: int) -> None:
    with transaction(engine) as conn:
        conn.execute(update(R).where(R.c.run_key == run_key).values(new_lapses=new_lapses))


@dataclass(frozen=True)
class SweepLine:
    unit: str
    unit_name: str
    kind: str
    new: int


def run_summary(engine: Engine, *, campaign_id: int, run_key: str) -> list[SweepLine]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(U.c.code, U.c.name, L.c.kind, func.count().label("n"))
            .join(U, U.c.id == L.c.unit_id)
            .where(L.c.campaign_id == campaign_id, L.c.run_key == run_key)
            .group_by(U.c.code, U.c.name, L.c.kind).order_by(U.c.code, L.c.kind)).all()
    return [SweepLine(r.code, r.name, r.kind, r.n) for r in rows]
