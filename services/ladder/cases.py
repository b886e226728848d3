"""Use cases of the escalation ladder (督办): a supervisor escalates, confirms,
withdraws, records an interview, de-lists, decides; the unit acknowledges and
responds. Every step goes through the one chart (statemachine/charts/ladder.py),
is audited, and a step that issues a document numbers and queues it in the
same transaction."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, timedelta
from typing import Iterable

from sqlalchemy import Connection, Engine, and_, func, insert, select

from models.tables import CaseLapse, Clue, EscalationCase, Lapse, Notice, Unit
from statemachine.charts.ladder import AWAITING, CASE_CHART, LEVEL_LABELS, NOTICE_KIND, CaseContext, \
    CaseState, Level, next_level
from statemachine.errors import InvalidInput, NotFound
from statemachine.lapses import CAUSES
from statemachine import limits
from statemachine.plan import EscalationPolicy, Plan
from statemachine.time.calendar import TZ, WorkingCalendar, end_of_day, local_date
from statemachine.time.period import AFTER_END_DAYS

from services.core import audit
from services.core.persisted import audit_record
from services.core.uow import UnitOfWork, unit_of_work
from services.core.visibility import require_sees, seen
from services.campaigns.load import plan_of, stages_of
from services.campaigns.notice_templates import notice_templates_of
from services.core.directory import SYSTEM, Actor, actor as lookup_actor, campaign_row, require_supervises, \
    unit_by_code, unit_by_id
from services.notices.issue import NoticeView, chinese_date, combined_key, issue_notice, notices_of_case
from services.notices.letterhead import common_fields, copies_to, organ_of
from services.core.persisted import PersistedChart, fire_one

__all__ = ["CaseInput", "CaseView", "escalate_unit", "fire", "list_cases", "get_case", "Ladder",
           "apply_trigger", "CAUSE_LABELS", "CASES", "chase_due_sql", "escalation_due_sql", "fact_line",
           "notice_context", "FACTS_SHOWN", "combined_notice"]

E, L, CL, T, U, N = (EscalationCase.__table__, Lapse.__table__, CaseLapse.__table__, Clue.__table__,
                     Unit.__table__, Notice.__table__)

# how a notice states each cause (statemachine/lapses.py)
CAUSE_LABELS = {c.value: info.label for c, info in CAUSES.items()}


@dataclass(frozen=True)
class CaseInput:
    """What a person may supply with a step (CLI flags, API fields)."""

    reason: str | None = None
    required_action: str | None = None
    minutes: str | None = None
    report_due: date | None = None
    response: str | None = None
    attachment: str | None = None
    note: str | None = None
    decision: str | None = None
    decision_text: str | None = None
    grounds: str | None = None
    receiving_organ: str | None = None
    follow_up: str | None = None
    clue: str | None = None   # a named problem (挂牌督办 a unit *and* a problem)
    stage: str | None = None
    # a 函询约谈 issued: when, where and who is to attend (the plan's defaults otherwise)
    interview_at: datetime | None = None
    interview_place: str | None = None
    attendees: str | None = None

    @property
    def arranges_interview(self) -> bool:
        return any(v is not None for v in (self.interview_at, self.interview_place, self.attendees))

    def __post_init__(self) -> None:
        limits.clean_fields(self, _INPUT_LIMITS)

    def context(self, level: int, *, chased: bool = False) -> CaseContext:
        return CaseContext(level=level, chased=chased, reason=self.reason, minutes=self.minutes,
                           report_due=self.report_due, response=self.response,
                           attachment=self.attachment, note=self.note, decision=self.decision,
                           decision_text=self.decision_text, grounds=self.grounds,
                           receiving_organ=self.receiving_organ, follow_up=self.follow_up)


# each text a person supplies, held to the column it is written to (statemachine/limits.py)
_INPUT_LIMITS = {f: limits.COLUMNS[f"escalation_cases.{c}"] for f, c in (
    ("reason", "reason"), ("required_action", "required_action"), ("minutes", "interview_minutes"),
    ("response", "response"), ("attachment", "response_attachment"), ("note", "resolution_note"),
    ("decision_text", "decision_text"), ("grounds", "exemption_grounds"),
    ("receiving_organ", "receiving_organ"), ("follow_up", "follow_up"),
    ("interview_place", "interview_place"), ("attendees", "interview_attendees"))} \
    | {"decision": limits.LABEL, "clue": limits.KEY, "stage": limits.KEY}


@dataclass(frozen=True)
class CaseView:
    id: int
    unit: str
    unit_name: str
    level: int
    measure: str
    state: str
    cause: str
    reason: str
    automatic: bool
    proposed_by: str
    proposed_at: datetime
    issued_at: datetime | None
    response_due_at: datetime | None
    chased_at: datetime | None
    chase_due_at: datetime | None
    responded_at: datetime | None
    resolved_at: datetime | None
    parent_id: int | None
    clue: str | None
    stage: str | None
    decision: str | None
    version: int
    lapses: int = 0
    # a 函询约谈's arrangements as the supervisor gave them (None: the plan's defaults)
    interview_at: datetime | None = None
    interview_place: str | None = None
    attendees: str | None = None
    notices: list[NoticeView] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)

    @property
    def due_at(self) -> datetime | None:
        """The deadline that matters now: the chase's once chased."""
        return self.chase_due_at or self.response_due_at


@dataclass
class Ladder:
    """What one transaction on the ladder needs about its campaign."""

    campaign_id: int
    plan: Plan
    calendar: WorkingCalendar
    channels: tuple[str, ...]
    # the plan's notice template overrides as stored at load, read once per transaction;
    # never a folder: what a notice says must not depend on where a command runs
    templates: dict[str, str] = field(default_factory=dict)
    # the nightly escalation leaves a case it opens at an automatic level proposed, and
    # issues them all as a set afterwards (one notice per unit with combine_causes)
    defer_issue: bool = False

    @property
    def policy(self) -> EscalationPolicy:
        return self.plan.escalation

    def due(self, now: datetime, working_days: int) -> datetime:
        return end_of_day(self.calendar.add_working_days(local_date(now), working_days))

    @classmethod
    def of(cls, conn: Connection, camp, calendar: WorkingCalendar, channels: Iterable[str]) -> "Ladder":
        plan = plan_of(conn, camp.id)
        wanted = [c for c in plan.escalation.channels if c in set(channels)]
        return cls(camp.id, plan, calendar, tuple(wanted), notice_templates_of(conn, camp.id))


# the case chart as stored; what a step writes depends on the ladder (due dates), so
# apply_trigger passes it; the chase's row guard is "not chased for this deadline"
def chase_due_sql(as_of: datetime):
    """statemachine.charts.ladder.chase_due as a WHERE clause."""
    return and_(E.c.state.in_([s.value for s in AWAITING]), E.c.chased_at.is_(None),
                E.c.response_due_at < as_of)


def escalation_due_sql(as_of: datetime):
    """statemachine.charts.ladder.escalation_due as a WHERE clause."""
    return and_(E.c.state.in_([s.value for s in AWAITING]), E.c.chase_due_at < as_of,
                E.c.level < int(Level.transfer))


CASES = PersistedChart(chart=CASE_CHART, table=E, entity="case", plural="cases",
                       row_sql={"not_chased": lambda data, source, now: E.c.chased_at.is_(None)})


# -- the one place a step happens ------------------------------------------------
def apply_trigger(uow: UnitOfWork, ladder: Ladder, row, trigger: str, *, actor: Actor | None,
                  now: datetime, data: CaseInput = CaseInput(), unit=None,
                  expected_version: int | None = None) -> str:
    """Fire `trigger` on a case row inside the caller's unit of work; returns the new state.

    Shared by people (`fire`; `actor` and the case's `unit`) and the nightly job
    (services/ladder/automatic.py; actor None), so an automatic issue writes
    exactly what a supervisor's confirmation writes.
    """
    actor_name = actor.username if actor is not None else SYSTEM
    values = step_values(ladder, trigger, level=row.level, state=row.state, data=data, now=now,
                         actor_name=actor_name)
    if actor is not None and unit is None:
        unit = unit_by_id(uow.conn, row.unit_id)
    # the row as updated comes back with the update: no second read per case
    fresh = fire_one(uow, CASES, row, trigger, actor=actor, now=now, campaign_id=ladder.campaign_id,
                     ctx=data.context(row.level, chased=row.chased_at is not None), data=data,
                     unit=unit, label=f"case {row.id}", what=f"'{trigger}' a case",
                     expected_version=expected_version, values=values, reason=data.reason,
                     detail=step_detail(trigger, data, row.level, values)).row
    after_step(uow, ladder, row, fresh, trigger, actor=actor, now=now, data=data)
    return fresh.state


def step_values(ladder: Ladder, trigger: str, *, level: int, state: str, data: CaseInput, now: datetime,
                actor_name: str) -> dict:
    """What a step writes on a case besides its state, for one case or a set of them."""
    values: dict = {}
    policy = ladder.policy
    if trigger == "issue":
        values.update(issued_by=actor_name, issued_at=now,
                      response_due_at=ladder.due(now, policy.response_working_days[level]))
        if data.receiving_organ:
            values["receiving_organ"] = data.receiving_organ
        if data.required_action:
            values["required_action"] = data.required_action
        values |= _arrangements(ladder, data, level=level, now=now)
    elif trigger == "record_interview":
        values.update(interview_at=now, interview_minutes=data.minutes,
                      response_due_at=end_of_day(data.report_due) if data.report_due else None,
                      chased_at=None, chase_due_at=None)
    elif trigger == "respond":
        values.update(responded_at=now, response=data.response, response_attachment=data.attachment)
    elif trigger == "return_response":
        values.update(resolution_note=data.reason, chased_at=None, chase_due_at=None,
                      response_due_at=ladder.due(now, policy.response_working_days[level]))
    elif trigger == "decide":
        values.update(decision=data.decision, decision_text=data.decision_text,
                      exemption_grounds=data.grounds)
    elif trigger == "conclude":
        values["follow_up"] = data.follow_up
    elif trigger == "chase":
        values.update(chased_at=now, chase_due_at=ladder.due(now, policy.chase_working_days))
    step = CASE_CHART.find(CASE_CHART.coerce(state), trigger)
    if step is not None and step.dest in CASE_CHART.final:  # the case is over: its unit may get another
        values.update(open_key=None, resolved_at=now, resolved_by=actor_name,
                      resolution_note=data.note or data.reason or data.decision_text or data.follow_up)
    return values


def _arrangements(ladder: Ladder, data: CaseInput, *, level: int, now: datetime) -> dict:
    """The 约谈 a supervisor arranges on issuing a 函询约谈, checked: on a day of the
    campaign (its follow-up included) and after the notice that announces it."""
    if not data.arranges_interview:
        return {}
    if level != int(Level.interview):
        raise InvalidInput(f"the interview's time, place and attendees belong to a "
                           f"{LEVEL_LABELS[Level.interview]} (level {int(Level.interview)}), "
                           f"not a {LEVEL_LABELS[Level(level)]}")
    at = data.interview_at
    if at is not None:
        if at.tzinfo is None:  # a time without its offset is Beijing time, as every time a person types
            at = at.replace(tzinfo=TZ)
        period = ladder.plan.campaign.period
        last = period.end + timedelta(days=AFTER_END_DAYS)
        if not period.start <= local_date(at) <= last:
            raise InvalidInput(f"interview time {_when(at)} is outside the campaign "
                               f"({period.start} to {period.end}, follow-up until {last})")
        if at <= now:
            raise InvalidInput(f"interview time {_when(at)} is not after the notice's date ({_when(now)})")
    return {"interview_scheduled_at": at, "interview_place": data.interview_place,
            "interview_attendees": data.attendees}


def _when(at: datetime) -> str:
    return at.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


def step_detail(trigger: str, data: CaseInput, level: int, values: dict) -> dict | None:
    """The audit record's detail of a step."""
    if trigger == "chase":
        return {"chase_due_at": values["chase_due_at"].isoformat()}
    return _detail(data, level)


def after_step(uow: UnitOfWork, ladder: Ladder, row, fresh, trigger: str, *, actor: Actor | None,
               now: datetime, data: CaseInput = CaseInput()) -> None:
    """What a step sets off once the case is written: its notice, or the next level's case."""
    policy = ladder.policy
    if trigger == "issue":
        _notice(uow, ladder, fresh, NOTICE_KIND[Level(row.level)], key=f"case:{row.id}:issue", now=now)
    elif trigger == "delist":
        _notice(uow, ladder, fresh, "delisting", key=f"case:{row.id}:delist", now=now,
                extra={"verification": data.note})
    elif trigger == "chase":
        _notice(uow, ladder, fresh, "chase", key=f"case:{row.id}:chase:{row.response_due_at:%Y%m%d}",
                now=now, extra={"original_deadline": chinese_date(local_date(row.response_due_at))})
    elif trigger == "escalate":
        _open_next(uow, ladder, fresh, actor=actor, now=now, reason=data.reason,
                   issue_now=actor is not None or (next_level(row.level) in policy.auto_levels
                                                   and not ladder.defer_issue),
                   arrangements=CaseInput(interview_at=data.interview_at, interview_place=data.interview_place,
                                          attendees=data.attendees))


def _detail(data: CaseInput, level: int) -> dict | None:
    d = {k: (v.isoformat() if hasattr(v, "isoformat") else v)
         for k, v in vars(data).items() if v is not None and k != "reason"}
    return {"level": level, **d}


def _open_next(uow: UnitOfWork, ladder: Ladder, parent, *, actor: Actor | None, now: datetime,
               reason: str | None, issue_now: bool, arrangements: CaseInput = CaseInput()) -> int:
    level = next_level(parent.level)
    case_id = _insert_case(uow, ladder, unit_id=parent.unit_id, level=int(level), cause=parent.cause,
                           key=f"esc:{parent.id}", open_key=_open_key(parent.unit_id, parent.cause),
                           reason=reason or f"{LEVEL_LABELS[Level(parent.level)]}后仍未整改到位",
                           actor=actor.username if actor else SYSTEM, now=now, automatic=actor is None,
                           parent_id=parent.id, clue_id=parent.clue_id, stage_key=parent.stage_key)
    if issue_now and level != Level.transfer:  # a transfer names its organ: a person issues it
        row = uow.conn.execute(select(E).where(E.c.id == case_id)).one()
        apply_trigger(uow, ladder, row, "issue", actor=actor, now=now, data=arrangements)
    elif arrangements.arranges_interview:
        raise InvalidInput(f"the interview's time, place and attendees belong to a "
                           f"{LEVEL_LABELS[Level.interview]}; this escalation opens a {LEVEL_LABELS[level]}")
    return case_id


def _open_key(unit_id: int, cause: str) -> str | None:
    # one open case per unit and automatic cause; a supervisor's own cases stand alone
    return None if cause == "manual" else f"{unit_id}:{cause}"


def _insert_case(uow: UnitOfWork, ladder: Ladder, *, unit_id: int, level: int, cause: str, key: str,
                 open_key: str | None, reason: str, actor: str, now: datetime, automatic: bool,
                 parent_id: int | None = None, clue_id: int | None = None,
                 stage_key: str | None = None, required_action: str | None = None) -> int:
    case_id = uow.conn.execute(insert(E).values(
        campaign_id=ladder.campaign_id, unit_id=unit_id, level=level,
        state=CaseState.proposed.value, cause=cause, key=key, open_key=open_key, stage_key=stage_key,
        clue_id=clue_id, parent_id=parent_id, automatic=automatic, reason=reason,
        required_action=required_action, proposed_by=actor, proposed_at=now, updated_at=now,
        updated_by=actor, version=1).returning(E.c.id)).scalar_one()
    uow.audit(ladder.campaign_id, [audit_record(
        at=now, actor=actor, unit_id=unit_id, entity="case", entity_id=case_id, from_state=None,
        to_state=CaseState.proposed.value, trigger="propose", reason=reason,
        detail={"level": level, "cause": cause, "key": key})])
    return case_id


# -- the notice a step issues --------------------------------------------------------
# what the unit is to do; the templates add when and to whom it reports, so none says it twice
_REQUIRED_ACTION = {
    Level.criticism: "对照通报指出的问题立即整改",
    Level.interview: "对照约谈指出的问题逐项整改",
    Level.listed: "制定整改方案，明确责任人员和整改措施，逐项整改",
    Level.accountability: "配合调查核实，如实说明情况",
    Level.transfer: "配合纪检监察机关开展调查",
}
FACTS_SHOWN = 20


@lru_cache(maxsize=4096)
def _day(at: datetime) -> str:
    # a chunk's lapses share a few deadlines: written once each, not once per fact
    return chinese_date(local_date(at))


def _period(period: str) -> str:
    """A duty's period as a notice writes it: 2023-05 → 2023年5月, 2023-04-20 → 2023年4月20日."""
    parts = period.split("-")
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return f"{int(parts[0])}年{int(parts[1])}月"
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return f"{int(parts[0])}年{int(parts[1])}月{int(parts[2])}日"
    return period


def _short(text: str | None, limit: int = 50) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit] + "……"


def fact_line(plan: Plan, kind: str, subject: str, due_at: datetime, *, number: str | None = None,
              summary: str | None = None) -> str:
    """One fact of a notice, a whole statement in Chinese: a stage by its name, a report by
    its duty's name and period, a clue by its summary and number (never a key)."""
    day = _day(due_at)
    clue = f"问题“{_short(summary)}”（编号{number or subject}）" if summary else f"问题{number or subject}"
    if kind == "stage_deadline" or kind == "deliverables_overdue":
        stage = next((st for st in plan.stages if st.key == subject), None)
        name = stage.name if stage else subject
        if kind == "stage_deadline":
            return f"未按期完成“{name}”阶段任务（阶段截止时间为{day}）"
        things = "、".join(d.name for d in stage.deliverables) if stage and stage.deliverables else ""
        return f"未按期提交“{name}”阶段成果{f'（{things}）' if things else ''}，应于{day}前提交"
    if kind == "verify_overdue":
        return f"问题线索“{_short(summary)}”（编号{number or subject}）未按期核查，核查期限为{day}" if summary \
            else f"问题线索{subject}未按期核查，核查期限为{day}"
    if kind == "rectify_overdue":
        return f"{clue}未按期整改到位，整改期限为{day}"
    if kind == "repeated_reject":
        return f"{clue}整改成效多次审核未通过，销号申请被退回"
    if kind == "faked":  # a faked result has no deadline: its date is the day the check found it
        return f"{clue}整改弄虚作假，{day}督察核查发现"
    if kind == "missed_report":
        duty_key, _, period = subject.partition("/")
        duty = next((d for d in plan.reporting if d.key == duty_key), None)
        return f"未按时报送{duty.name if duty else duty_key}（{_period(period)}），应于{day}前报送"
    if kind == "no_progress":
        return f"在办问题自{day}以来无办理进展，整改工作长期停滞（“躺平式”整改）"
    return f"{CAUSE_LABELS.get(kind, '督办事项')}（期限为{day}）"


def _lapses_of(uow: UnitOfWork, case_id: int) -> tuple[list, int]:
    # the case's lapses by the case_lapses index first, then those lapses by primary key:
    # as one join, a planner whose statistics predate the round (tables analysed nearly
    # empty) scans lapses once per case
    if case_id in uow.facts:  # read ahead with its chunk
        return uow.facts[case_id]
    conn = uow.conn
    ids = conn.execute(select(CL.c.lapse_id).where(CL.c.case_id == case_id)).scalars().all()
    rows = conn.execute(
        select(L.c.kind, L.c.subject, L.c.due_at, T.c.number, T.c.summary)
        .outerjoin(T, T.c.id == L.c.clue_id).where(L.c.id.in_(ids))
        .order_by(L.c.due_at, L.c.id).limit(FACTS_SHOWN + 1)).all() if ids else []
    return rows, len(ids)


def _facts(uow: UnitOfWork, ladder: Ladder, case) -> list[str]:
    rows, total = _lapses_of(uow, case.id)
    origin = case
    while not rows and origin.parent_id is not None:  # an escalation rests on its first case's facts
        origin = uow.conn.execute(select(E).where(E.c.id == origin.parent_id)).one()
        rows, total = _lapses_of(uow, origin.id)
    facts = [fact_line(ladder.plan, r.kind, r.subject, r.due_at, number=r.number, summary=r.summary)
             for r in rows[:FACTS_SHOWN]]
    if case.clue_id is not None:  # a measure against a unit *and* a named problem
        clue = uow.conn.execute(select(T.c.number, T.c.summary, T.c.deadline_at)
                                .where(T.c.id == case.clue_id)).one()
        named = f"问题“{_short(clue.summary)}”（编号{clue.number}）" + (
            f"，原定整改期限为{_day(clue.deadline_at)}" if clue.deadline_at else "")
        facts = [named] + [f for f in facts if clue.number not in f]
    if not rows:  # a supervisor's own measure: the reason is the fact
        facts.append(origin.reason)
    if total > FACTS_SHOWN:
        facts.append(f"等共{total}项")
    return facts


def _issued(uow: UnitOfWork, case) -> tuple[str, str] | None:
    """The 文号 and title of the notice that issued the case (the one a 催办 chases or a
    摘牌 ends): its own, or the one notice of its unit's night (combine_causes)."""
    row = uow.conn.execute(select(N.c.doc_number, N.c.title).where(
        N.c.campaign_id == case.campaign_id,
        N.c.key.in_([f"case:{case.id}:issue", combined_key(case.unit_id, case.level, "issue", case.issued_at)])
    ).order_by(N.c.id)).first() if case.issued_at else None
    return (row.doc_number, row.title) if row else None


def _interview(ladder: Ladder, case, now: datetime) -> dict:
    """The 约谈's time, place and attendees: the case's as the supervisor gave them, each
    one not given from the plan's `documents:`."""
    docs = ladder.plan.documents
    at = getattr(case, "interview_scheduled_at", None)
    if at is None:
        day = ladder.calendar.add_working_days(local_date(now), docs.interview_after_working_days)
        at = datetime.combine(day, docs.interview_time, tzinfo=TZ)
    return {"interview_at": at,
            "interview_place": getattr(case, "interview_place", None) or docs.interview_place
            or f"{ladder.plan.campaign.issuing_unit}会议室",
            "attendees": getattr(case, "interview_attendees", None) or docs.attendees}


def notice_context(uow: UnitOfWork, ladder: Ladder, case, kind: str, *, now: datetime,
                   facts: list[str] | None = None) -> dict:
    """Everything a notice about `case` says (notifications/documents/notices.py FIELDS)."""
    level = Level(case.level)
    due = case.chase_due_at if kind == "chase" else case.response_due_at
    unit = uow.units.get(case.unit_id)
    if unit is None:
        unit = uow.units[case.unit_id] = uow.conn.execute(select(U).where(U.c.id == case.unit_id)).one()
    context = {
        **common_fields(ladder.plan),
        "kind_label": LEVEL_LABELS[level],
        "addressee": organ_of(ladder.plan, unit.code, unit.name),
        # a transfer to the discipline organs is not copied to the unit it concerns
        "cc": copies_to(ladder.plan, None if kind == "transfer" else unit.code),
        "facts": facts if facts is not None else _facts(uow, ladder, case),
        "required_action": case.required_action or _REQUIRED_ACTION[level],
        "deadline": chinese_date(local_date(due)) if due else "",
        "decision": case.decision, "decision_text": case.decision_text,
        "exemption_grounds": case.exemption_grounds, "receiving_organ": case.receiving_organ,
    }
    if kind == "interview":
        context |= _interview(ladder, case, now)
    if kind in ("chase", "delisting"):
        # a case issued before notices were kept (an older database) is cited by its date
        number, title = _issued(uow, case) or (
            f"{_day(case.issued_at)}印发" if case.issued_at else LEVEL_LABELS[level], None)
        context |= ({"chased_doc_number": number, "chased_title": title} if kind == "chase"
                    else {"listed_doc_number": number, "listed_title": title})
    return context


def _notice(uow: UnitOfWork, ladder: Ladder, case, kind: str, *, key: str, now: datetime,
            extra: dict | None = None) -> bool:
    context = notice_context(uow, ladder, case, kind, now=now) | (extra or {})
    return issue_notice(uow, campaign_id=ladder.campaign_id, case_id=case.id, kind=kind, key=key,
                        issuer=ladder.policy.issuer_code, unit_id=case.unit_id, context=context,
                        now=now, channels=ladder.channels, templates=ladder.templates,
                        addressee=context["addressee"])


def combined_notice(uow: UnitOfWork, ladder: Ladder, before: list, cases: list, step: str, *,
                    now: datetime) -> bool:
    """One notice for a unit's cases of one level that one step of the night issued or
    chased (`escalation.combine_causes`): the facts of every cause, one 文号, numbered
    and keyed once (`combined_key`); each case finds it by its unit, level and instant.
    `before`: the cases as they were before the step (what a 催办 chases)."""
    first = cases[0]
    kind = NOTICE_KIND[Level(first.level)] if step == "issue" else "chase"
    facts = [f for case in cases for f in _facts(uow, ladder, case)]
    context = notice_context(uow, ladder, first, kind, now=now, facts=facts)
    if step == "chase":
        issued = [x for x in (_issued(uow, c) for c in before) if x is not None]
        numbers = list(dict.fromkeys(number for number, _ in issued))
        titles = list(dict.fromkeys(title for _, title in issued))
        context |= {"chased_doc_number": "、".join(numbers),
                    "chased_title": titles[0] if len(numbers) == 1 else None,
                    "original_deadline": chinese_date(local_date(min(c.response_due_at for c in before)))}
    return issue_notice(uow, campaign_id=ladder.campaign_id, case_id=first.id, kind=kind,
                        key=combined_key(first.unit_id, first.level, step, now),
                        issuer=ladder.policy.issuer_code, unit_id=first.unit_id, context=context, now=now,
                        channels=ladder.channels, templates=ladder.templates, addressee=context["addressee"])


# -- people's use cases -----------------------------------------------------------------
def escalate_unit(engine: Engine, campaign: str, unit: str, level: int, *, actor: str, now: datetime,
                  calendar: WorkingCalendar, data: CaseInput, channels: Iterable[str] = ()) -> CaseView:
    """A supervisor's own measure against a unit at any level, issued at once."""
    try:
        lv = Level(level)
    except ValueError:
        raise InvalidInput(f"level must be 1..5 ({', '.join(f'{int(k)} {v}' for k, v in LEVEL_LABELS.items())})") from None
    if not data.reason or not data.reason.strip():
        raise InvalidInput("a reason is required (--reason)")
    with unit_of_work(engine) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        who = lookup_actor(conn, camp.id, actor)
        target = unit_by_code(conn, camp.id, unit)
        require_supervises(who, target, f"escalate {target.name}")
        clue_id = None
        if data.clue:
            clue_id = conn.execute(select(T.c.id).where(T.c.campaign_id == camp.id, T.c.number == data.clue,
                                                         T.c.unit_id == target.id)).scalar()
            if clue_id is None:
                raise InvalidInput(f"--clue: {data.clue} is not a clue of {target.name}")
        if data.stage and data.stage not in {s.key for s in stages_of(conn, camp.id)}:
            raise InvalidInput(f"--stage: unknown stage '{data.stage}'")
        ladder = Ladder.of(conn, camp, calendar, channels)
        case_id = _insert_case(uow, ladder, unit_id=target.id, level=int(lv), cause="manual",
                               key=f"manual:{uuid.uuid4().hex}", open_key=None, reason=data.reason,
                               actor=who.username, now=now, automatic=False, clue_id=clue_id,
                               stage_key=data.stage, required_action=data.required_action)
        row = conn.execute(select(E).where(E.c.id == case_id)).one()
        apply_trigger(uow, ladder, row, "issue", actor=who, unit=target, now=now, data=data)
        view = _view(conn, case_id)
        uow.commit()
        return view


def fire(engine: Engine, campaign: str, case_id: int, trigger: str, *, actor: str, now: datetime,
         calendar: WorkingCalendar, data: CaseInput = CaseInput(), channels: Iterable[str] = (),
         expected_version: int | None = None) -> CaseView:
    if trigger not in CASE_CHART.triggers:
        raise InvalidInput(f"unknown step '{trigger}' (one of {', '.join(CASE_CHART.triggers)})")
    with unit_of_work(engine) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        row = conn.execute(select(E).where(E.c.campaign_id == camp.id, E.c.id == case_id)).first()
        if row is None:
            raise NotFound(f"unknown case {case_id} (see 'rectify case list')")
        who = lookup_actor(conn, camp.id, actor)
        ladder = Ladder.of(conn, camp, calendar, channels)
        apply_trigger(uow, ladder, row, trigger, actor=who, unit=unit_by_id(conn, row.unit_id), now=now,
                      data=data, expected_version=expected_version)
        view = _view(conn, case_id)
        uow.commit()
        return view


# -- reading -------------------------------------------------------------------------------
def _select():
    lapses = select(func.count()).select_from(CL).where(CL.c.case_id == E.c.id).scalar_subquery()
    return (select(E, U.c.code.label("unit_code"), U.c.name.label("unit_name"),
                   T.c.number.label("clue_number"), lapses.label("n_lapses"))
            .join(U, U.c.id == E.c.unit_id).outerjoin(T, T.c.id == E.c.clue_id))


def _row_view(r, **more) -> CaseView:
    return CaseView(
        id=r.id, unit=r.unit_code, unit_name=r.unit_name, level=r.level,
        measure=LEVEL_LABELS[Level(r.level)], state=r.state, cause=r.cause, reason=r.reason,
        automatic=r.automatic, proposed_by=r.proposed_by, proposed_at=r.proposed_at,
        issued_at=r.issued_at, response_due_at=r.response_due_at, chased_at=r.chased_at,
        chase_due_at=r.chase_due_at, responded_at=r.responded_at, resolved_at=r.resolved_at,
        parent_id=r.parent_id, clue=r.clue_number, stage=r.stage_key, decision=r.decision,
        version=r.version, lapses=r.n_lapses or 0, interview_at=r.interview_scheduled_at,
        interview_place=r.interview_place, attendees=r.interview_attendees, **more)


def _view(conn: Connection, case_id: int, *, full: bool = False) -> CaseView:
    r = conn.execute(_select().where(E.c.id == case_id)).one()
    if not full:
        return _row_view(r)
    return _row_view(r, notices=notices_of_case(conn, case_id),
                     history=audit.history(conn, entity="case", entity_id=case_id))


def get_case(engine: Engine, campaign: str, case_id: int, *, seen_by: Actor | None = None) -> CaseView:
    """`seen_by`: refused (PermissionDenied) unless that person sees the case's unit."""
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        unit_id = conn.execute(select(E.c.unit_id).where(E.c.campaign_id == camp.id, E.c.id == case_id)).scalar()
        if unit_id is None:
            raise NotFound(f"unknown case {case_id} (see 'rectify case list')")
        if seen_by is not None:
            require_sees(seen_by, unit_by_id(conn, unit_id), f"see case {case_id}")
        return _view(conn, case_id, full=True)


def list_cases(engine: Engine, campaign: str, *, unit: str | None = None, state: str | None = None,
               open_only: bool = False, level: int | None = None, limit: int = 500, offset: int = 0,
               seen_by: Actor | None = None) -> list[CaseView]:
    """`seen_by`: only the cases of units that person sees (services/core/visibility.py)."""
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        q = _select().where(E.c.campaign_id == camp.id)
        if unit:
            u = unit_by_code(conn, camp.id, unit)
            q = q.where(E.c.unit_id.in_(select(U.c.id).where(U.c.path.startswith(u.path))))
        if state:
            q = q.where(E.c.state == CASE_CHART.coerce(state).value)
        if open_only:
            q = q.where(E.c.state.in_(["proposed", "issued", "awaiting_response", "responded"]))
        if level:
            q = q.where(E.c.level == level)
        if seen_by is not None:
            q = q.where(seen(seen_by, E.c.unit_id))
        return [_row_view(r) for r in conn.execute(q.order_by(E.c.id).limit(limit).offset(offset))]
