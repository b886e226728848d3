"""What a generated report says, read from the database in a few set-based
queries and rolled up the organisation tree (a prefecture's figures include
its counties'). Figures are counted exactly as docs/domain.md §6 counts them
(services/reports/status.Figures); states are as of the report's instant, activity
(received, concluded, lapses, escalations) within the report's span.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, or_, select

from models.tables import (Clue, EscalationCase, InspectionRound, Lapse, ReportSubmission, Stage, Unit)
from statemachine.reports.duties import REPORT_KINDS
from statemachine.warning import unit_colour
from statemachine.reports.counting import CONCLUDED, DONE, Figures
from statemachine.time.calendar import TZ, end_of_day
from statemachine.time.clock import instant
from statemachine.charts.clue import LABELS as CLUE_LABELS, ClueState
from statemachine.reports.duties import all_occurrences
from statemachine.errors import InvalidInput
from statemachine.charts.ladder import CASE_LABELS, LEVEL_LABELS, CaseState, Level
from statemachine.charts.lookback import ROUND_LABELS, RoundState
from statemachine.reports.titles import report_addressee, report_title

from services.campaigns.load import plan_of
from services.core.audit import read_head
from services.core.directory import campaign_row, unit_by_code
from services.clues.chart import due_soon_sql, overdue_sql
from services.ranking.table import ranking_of
from statemachine.ranking_period import Period
from services.ladder.cases import CAUSE_LABELS
from .duties import owes
from .counting import bucket_sums, figures_of

__all__ = ["KINDS", "ReportData", "UnitRow", "gather", "resolve_period", "Span"]

T, U, L, E, RS, RD, S = (Clue.__table__, Unit.__table__, Lapse.__table__, EscalationCase.__table__,
                         ReportSubmission.__table__, InspectionRound.__table__, Stage.__table__)
KINDS = REPORT_KINDS  # statemachine/reports/duties.py
LIST_LIMIT = 50       # overdue items and escalations listed in full up to this many
LEDGER_LIMIT = 500    # rows of the ledger printed in the final report (the .xlsx has all)
CHART_POINTS = 40


@dataclass(frozen=True)
class Span:
    period: str
    start: date
    end: date
    label: str


def resolve_period(plan, kind: str, period: str | None, *, now: datetime) -> Span:
    """The span a report covers. weekly: 7 days ending on the period's date
    (default: the latest weekly report due by now, else today); monthly:
    YYYY-MM; stage: a stage key; final: the whole campaign."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown report kind '{kind}' (one of {', '.join(KINDS)})")
    today = now.astimezone(TZ).date()
    camp = plan.campaign.period
    try:
        if kind == "weekly":
            if period is None:
                due = [o for o in all_occurrences(plan) if o.due_at <= now
                       and next(d for d in plan.reporting if d.key == o.duty).schedule.kind == "weekly"]
                period = due[-1].period if due else today.isoformat()
            end = date.fromisoformat(period)
            start = end - timedelta(days=6)
            return Span(period, start, end, f"{start:%Y年%-m月%-d日}至{end:%-m月%-d日}")
        if kind == "monthly":
            period = period or f"{today:%Y-%m}"
            y, m = (int(x) for x in period.split("-"))
            start = date(y, m, 1)
            end = (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1))
            return Span(f"{y:04d}-{m:02d}", start, end, f"{y}年{m}月")
    except (ValueError, StopIteration):
        shape = "YYYY-MM-DD" if kind == "weekly" else "YYYY-MM"
        raise InvalidInput(f"period '{period}' is not a {kind} period ({shape})") from None
    if kind == "stage":
        stage = next((s for s in plan.stages if s.key == period), None)
        if stage is None:
            raise InvalidInput(f"a stage report needs --period STAGE (one of {', '.join(s.key for s in plan.stages)})")
        return Span(stage.key, stage.start or camp.start, stage.end or max(today, camp.end), stage.name)
    if period not in (None, "final"):
        raise InvalidInput(f"a final report covers the whole campaign: period is 'final', not '{period}'")
    return Span("final", camp.start, camp.end, f"{camp.start:%Y年%-m月}至{camp.end:%Y年%-m月}")


@dataclass
class UnitRow:
    code: str
    name: str
    depth: int
    figures: Figures
    overdue: int = 0
    due_soon: int = 0
    lapses: int = 0
    colour: str = ""   # statemachine.warning.UnitColour: red | yellow | blue | ""
    own: bool = False  # the report unit's own items (本级), not a subtree

    @property
    def rate(self) -> float | None:
        return self.figures.rate

    @property
    def items(self) -> int:
        return self.figures.clues + self.figures.self_inspection


@dataclass
class ReportData:
    campaign: dict
    unit: dict
    kind: str
    kind_label: str
    span: Span
    as_of: datetime
    figures: Figures
    period: dict                       # received / concluded / self-rectified within the span
    units: list[UnitRow]
    overdue_total: int
    overdue: list[dict]
    lapses: dict[str, int]             # cause label -> count within the span
    escalations: dict                  # issued / resolved within the span, open now, list
    reports: dict                      # submissions: on time / late / missing in the span
    stages: list[dict]                 # units per stage (工作情况)
    rounds: list[dict]
    aspects: list[dict]
    typical: list[dict]
    typical_required: int
    accountability: list[dict]
    exemptions: list[dict]
    transfers: list[dict]
    ledger: list[dict] = field(default_factory=list)
    ledger_total: int = 0
    charts: dict = field(default_factory=dict)  # name -> notifications.documents.graphs.Series
    # the audit chain's head when the figures were read (校验码), before the report's own
    # generate_report record: the report prints it (services/core/audit.py read_head)
    check_code: str = ""
    # the report as a 公文 of the reporting unit (statemachine/reports/titles.py)
    title: str = ""
    addressee: str = ""                # 主送
    signer: str = ""                   # 落款: the reporting unit
    dated: date | None = None          # 成文日期: the day the figures are as of
    # read before its period ended: marked 临时 and made again once it has (generate.py)
    provisional: bool = False
    # 考核排名 of the monthly and final reports (services/ranking): period, rows, red, black
    ranking: dict = field(default_factory=dict)


def _counts(as_of: datetime, start: datetime, end: datetime, blue_within_days: int):
    n = lambda cond: func.sum(case((cond, 1), else_=0))  # noqa: E731
    overdue = overdue_sql(as_of)
    due_soon = due_soon_sql(as_of, blue_within_days)
    concluded = T.c.state.in_([s.value for s in CONCLUDED])
    return [
        *bucket_sums(),
        n(overdue).label("overdue"),
        n(due_soon).label("due_soon"),
        n(and_(T.c.received_at >= start, T.c.received_at <= end)).label("received_in"),
        n(and_(concluded, T.c.closed_at >= start, T.c.closed_at <= end)).label("concluded_in"),
    ]


def _weekly_points(first: date, last: date) -> list[date]:
    """Week ends from the first to the last day (the last always included), at most CHART_POINTS."""
    days = [last - timedelta(days=7 * i) for i in range(((last - first).days // 7) + 1)][::-1]
    if len(days) > CHART_POINTS:
        step = len(days) / CHART_POINTS
        days = [days[int(i * step)] for i in range(CHART_POINTS - 1)] + [days[-1]]
    return days


def gather(engine, campaign: str, unit: str | None, kind: str, period: str | None, *,
           now: datetime) -> ReportData:
    from notifications.documents.graphs import Series

    now = instant(now, name="now")  # `as_of + timedelta` below needs the one clock type
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        plan = plan_of(conn, camp.id)
        span = resolve_period(plan, kind, period, now=now)
        root = unit_by_code(conn, camp.id, unit or plan.root.code)
        as_of = min(now, end_of_day(span.end)) if kind != "final" else now
        above = U.alias("above")
        parent_name = conn.execute(select(above.c.name).select_from(U.join(above, above.c.id == U.c.parent_id))
                                   .where(U.c.id == root.id)).scalar()
        start = datetime.combine(span.start, time.min, TZ)
        end = end_of_day(span.end)
        units = conn.execute(select(U.c.id, U.c.code, U.c.name, U.c.path, U.c.parent_id, U.c.participates,
                                    U.c.stage_key)
                             .where(U.c.campaign_id == camp.id, U.c.path.startswith(root.path))
                             .order_by(U.c.path)).all()
        in_scope = U.c.path.startswith(root.path)
        scope_ids = select(U.c.id).where(U.c.campaign_id == camp.id, in_scope).scalar_subquery()
        per_unit = {r.unit_id: r for r in conn.execute(
            select(T.c.unit_id, *_counts(as_of, start, end, plan.escalation.warning.blue_within_days))
            .where(T.c.campaign_id == camp.id, T.c.unit_id.in_(scope_ids)).group_by(T.c.unit_id))}
        lapse_rows = conn.execute(
            select(L.c.unit_id, L.c.kind, func.count().label("n"))
            .where(L.c.campaign_id == camp.id, L.c.unit_id.in_(scope_ids),
                   L.c.detected_at >= start, L.c.detected_at <= end)
            .group_by(L.c.unit_id, L.c.kind)).all()
        overdue_q = (select(T.c.number, T.c.summary, T.c.state, T.c.deadline_at, T.c.verify_due_at,
                            U.c.name.label("unit_name"))
                     .join(U, U.c.id == T.c.unit_id)
                     .where(T.c.campaign_id == camp.id, in_scope, overdue_sql(as_of))
                     .order_by(func.coalesce(T.c.deadline_at, T.c.verify_due_at), T.c.number)
                     .limit(LIST_LIMIT))
        overdue = [dict(number=r.number, unit=r.unit_name, summary=r.summary, state=CLUE_LABELS[ClueState(r.state)],
                        due=(r.deadline_at if r.state == "rectifying" else r.verify_due_at).astimezone(TZ),
                        days=((as_of - (r.deadline_at if r.state == "rectifying" else r.verify_due_at)).days))
                   for r in conn.execute(overdue_q)]
        moved = conn.execute(  # 问题线索移交纪检监察: the ledger lists them as such
            select(T.c.number, T.c.reason, T.c.closed_at, U.c.name.label("unit_name"))
            .join(U, U.c.id == T.c.unit_id)
            .where(T.c.campaign_id == camp.id, in_scope, T.c.state == ClueState.transferred.value)
            .order_by(U.c.path, T.c.number)).all()
        cases = conn.execute(
            select(E.c.id, E.c.level, E.c.state, E.c.cause, E.c.issued_at, E.c.resolved_at, E.c.decision,
                   E.c.decision_text, E.c.exemption_grounds, E.c.reason, E.c.receiving_organ,
                   U.c.name.label("unit_name"))
            .join(U, U.c.id == E.c.unit_id)
            .where(E.c.campaign_id == camp.id, in_scope).order_by(E.c.issued_at, E.c.id)).all()
        subs = conn.execute(select(RS.c.unit_id, RS.c.duty_key, RS.c.period, RS.c.late)
                            .where(RS.c.campaign_id == camp.id, RS.c.unit_id.in_(scope_ids))).all()
        rounds = conn.execute(select(RD.c.code, RD.c.title, RD.c.kind, RD.c.state, RD.c.selected,
                                     RD.c.tally_json, RD.c.deadline)
                              .where(RD.c.campaign_id == camp.id, RD.c.state != "cancelled",
                                     RD.c.scope_unit_id.in_(scope_ids))
                              .order_by(RD.c.deadline)).all()
        aspects = {r.aspect_key: r for r in conn.execute(
            select(T.c.aspect_key, func.count().label("n"),
                   func.sum(case((T.c.state.in_([s.value for s in DONE]), 1), else_=0)).label("done"))
            .where(T.c.campaign_id == camp.id, T.c.unit_id.in_(scope_ids)).group_by(T.c.aspect_key))}
        burn = _burn_down(conn, camp.id, scope_ids, span, as_of, kind, plan)
        check = read_head(conn, camp.id).check_code
        ranked = _ranking(conn, camp.id, kind, span, root, lead=root.code == plan.root.code)
        typical_marked = conn.execute(
            select(T.c.number, T.c.summary, T.c.measures, T.c.evidence, T.c.state, T.c.typical_note,
                   T.c.aspect_key, T.c.reopen_count, T.c.stage_result, T.c.progress, T.c.resolution,
                   U.c.name.label("unit_name"))
            .join(U, U.c.id == T.c.unit_id)
            .where(T.c.campaign_id == camp.id, in_scope, T.c.typical_note.is_not(None))
            .order_by(T.c.number)).all()
        required = _typical_required(plan, kind)
        auto = []
        if len(typical_marked) < required:
            auto = conn.execute(
                select(T.c.number, T.c.summary, T.c.measures, T.c.evidence, T.c.state, T.c.typical_note,
                       T.c.aspect_key, T.c.reopen_count, T.c.stage_result, T.c.progress, T.c.resolution,
                       U.c.name.label("unit_name"))
                .join(U, U.c.id == T.c.unit_id)
                .where(T.c.campaign_id == camp.id, in_scope, T.c.typical_note.is_(None),
                       T.c.state == "closed", T.c.resolution == "approved", T.c.evidence.is_not(None))
                .order_by(T.c.reopen_count.desc(), T.c.closed_at.desc(), T.c.number)
                .limit(required - len(typical_marked))).all()
        ledger, ledger_total = [], 0
        if kind == "final":
            ledger_total = int(conn.execute(select(func.count()).select_from(T).where(
                T.c.campaign_id == camp.id, T.c.unit_id.in_(scope_ids))).scalar_one())
            ledger = [dict(number=r.number, unit=r.unit_name, aspect=r.aspect_key, summary=r.summary,
                           measures=r.measures, deadline=r.deadline, state=CLUE_LABELS[ClueState(r.state)],
                           stage_result=r.stage_result, long_term=r.long_term_measure)
                      for r in conn.execute(
                          select(T.c.number, T.c.aspect_key, T.c.summary, T.c.measures, T.c.deadline, T.c.state,
                                 T.c.stage_result, T.c.long_term_measure, U.c.name.label("unit_name"))
                          .join(U, U.c.id == T.c.unit_id).where(T.c.campaign_id == camp.id, in_scope)
                          .order_by(U.c.path, T.c.number).limit(LEDGER_LIMIT))]
        overdue_total = sum(int(r.overdue or 0) for r in per_unit.values())
    aspect_names = {a.key: a.name for a in plan.aspects}
    for row in ledger:
        row["aspect"] = aspect_names.get(row["aspect"], row["aspect"])

    # -- roll up the tree: each unit's own counts, added to every ancestor in scope
    by_path = {u.path: u for u in units}
    own = {u.id: figures_of(per_unit.get(u.id)) for u in units}
    rolled = {u.id: Figures() for u in units}
    extra = {u.id: [0, 0, 0] for u in units}  # overdue, due_soon, lapses (rolled)
    lapses_by_unit: dict[int, int] = {}
    for r in lapse_rows:
        lapses_by_unit[r.unit_id] = lapses_by_unit.get(r.unit_id, 0) + r.n
    parents = {u.id: u.parent_id for u in units}
    for u in units:
        r = per_unit.get(u.id)
        vals = (int(r.overdue or 0) if r else 0, int(r.due_soon or 0) if r else 0, lapses_by_unit.get(u.id, 0))
        cur: int | None = u.id
        while cur is not None and cur in rolled:
            rolled[cur] = rolled[cur] + own[u.id]
            extra[cur] = [a + b for a, b in zip(extra[cur], vals)]
            cur = parents.get(cur)
    total = rolled[root.id]
    avg = total.rate
    depth0 = root.path.count("/")

    def row(u, figures, vals, *, own_row=False) -> UnitRow:
        colour = unit_colour(overdue=vals[0], due_soon=vals[1], rate=figures.rate, average=avg)
        return UnitRow(u.code, u.name + ("（本级）" if own_row else ""), u.path.count("/") - depth0, figures,
                       vals[0], vals[1], vals[2], colour, own_row)

    children = [u for u in units if u.parent_id == root.id]
    rows = [row(u, rolled[u.id], extra[u.id]) for u in children]
    rc = per_unit.get(root.id)
    if own[root.id].clues + own[root.id].self_inspection:
        rows.append(row(by_path[root.path], own[root.id],
                        (int(rc.overdue or 0), int(rc.due_soon or 0), lapses_by_unit.get(root.id, 0)), own_row=True))
    if not children:  # a county's report: its own line
        rows = [row(by_path[root.path], own[root.id], extra[root.id])]
    rows.sort(key=lambda r: (-(r.rate if r.rate is not None else -1), r.code))

    period_figs = dict(received=sum(int(r.received_in or 0) for r in per_unit.values()),
                       concluded=sum(int(r.concluded_in or 0) for r in per_unit.values()))
    lapse_kinds: dict[str, int] = {}
    for r in lapse_rows:
        label = CAUSE_LABELS.get(r.kind, r.kind)
        lapse_kinds[label] = lapse_kinds.get(label, 0) + r.n

    def within(t):
        return t is not None and start <= t <= end

    issued = [c for c in cases if within(c.issued_at)]
    escalations = dict(
        issued=len(issued), resolved=sum(within(c.resolved_at) for c in cases),
        open=sum(c.issued_at is not None and c.resolved_at is None for c in cases),
        by_level={LEVEL_LABELS[Level(lv)]: sum(c.level == lv for c in issued) for lv in range(1, 6)},
        list=[dict(unit=c.unit_name, measure=LEVEL_LABELS[Level(c.level)], cause=CAUSE_LABELS.get(c.cause, c.cause),
                   issued=c.issued_at.astimezone(TZ), state=CASE_LABELS[CaseState(c.state)])
              for c in issued[:LIST_LIMIT]])
    decided = [c for c in cases if c.level == 4 and c.decision]
    accountability = [dict(unit=c.unit_name, reason=c.reason, text=c.decision_text) for c in decided
                      if c.decision == "accountable"]
    exemptions = [dict(unit=c.unit_name, reason=c.reason, grounds=c.exemption_grounds) for c in decided
                  if c.decision == "exempt"]
    # 移交纪检监察: the items transferred (the ledger's 已移交纪检监察) and the units whose
    # escalation reached the top of the ladder; counted apart, printed together
    transfers = ([dict(unit=m.unit_name, number=m.number, reason=m.reason, organ=None, item=True)
                  for m in moved]
                 + [dict(unit=c.unit_name, number=None, reason=c.reason, organ=c.receiving_organ, item=False)
                    for c in cases if c.level == Level.transfer and c.issued_at is not None])

    reports = _reports(plan, units, subs, start, end, as_of)
    stage_names = {s.key: s.name for s in plan.stages} | {"completed": "已完成"}
    stages = [dict(stage=stage_names.get(k, k or "—"), units=sum(1 for u in units if u.participates and u.stage_key == k))
              for k in [s.key for s in plan.stages] + ["completed"]]
    typical = [dict(number=t.number, unit=t.unit_name, aspect=aspect_names.get(t.aspect_key, t.aspect_key),
                    summary=t.summary, measures=t.measures, evidence=t.evidence, effect=_effect(t),
                    note=t.typical_note, auto=t.typical_note is None) for t in [*typical_marked, *auto]]
    round_rows = []
    for r in rounds:
        totals = json.loads(r.tally_json).get("totals", {}) if r.tally_json else {}
        round_rows.append(dict(code=r.code, title=r.title, kind="整改“回头看”" if r.kind == "look_back" else "实地督察",
                               state=ROUND_LABELS[RoundState(r.state)], selected=r.selected, relapsed=totals.get("relapsed", 0),
                               faked=totals.get("faked", 0)))
    rate_rows = [r for r in rows if r.rate is not None][:30]
    charts = {
        "burn_down": Series("未办结问题数（按周）", tuple(burn[0]), (("未办结", tuple(burn[1])),
                                                                  ("累计受理", tuple(burn[2])))),
        "rate": Series("各单位整改率（%）", tuple(r.name for r in rate_rows),
                       (("整改率", tuple(round(r.rate * 100, 1) for r in rate_rows)),)),
        "weekly": Series("每周逾期与督办", tuple(burn[0]), (("新增逾期", tuple(burn[3])),
                                                         ("督办措施", tuple(burn[4])))),
    }
    return ReportData(
        campaign=dict(code=camp.code, title=camp.title, doc_number=camp.doc_number, issuing_unit=camp.issuing_unit),
        unit=dict(code=root.code, name=root.name), kind=kind, kind_label=KINDS[kind], span=span, as_of=as_of,
        figures=total, period=period_figs, units=rows, overdue_total=overdue_total, overdue=overdue,
        lapses=lapse_kinds, escalations=escalations, reports=reports, stages=stages, rounds=round_rows,
        aspects=[dict(name=a.name, count=int(aspects[a.key].n) if a.key in aspects else 0,
                      done=int(aspects[a.key].done or 0) if a.key in aspects else 0) for a in plan.aspects],
        typical=typical, typical_required=required, accountability=accountability, exemptions=exemptions,
        transfers=transfers, ledger=ledger, ledger_total=ledger_total, charts=charts, check_code=check,
        ranking=ranked,
        title=report_title(organ=root.name, plan_title=camp.title, kind=kind, lead=parent_name is None,
                           stage=span.label if kind == "stage" else None),
        addressee=report_addressee(parent=parent_name, issuing_unit=camp.issuing_unit, organ=root.name),
        signer=root.name, dated=as_of.astimezone(TZ).date(),
        provisional=kind != "final" and now < end_of_day(span.end))


RANKED_KINDS = ("monthly", "final")


def _ranking(conn, campaign_id: int, kind: str, span: Span, root, *, lead: bool) -> dict:
    """The units of the report's subtree as the campaign's ranking orders them; the 红榜 /
    黑榜 in the lead unit's report only (they rank the whole campaign)."""
    if kind not in RANKED_KINDS:
        return {}
    period = Period(span.period if kind == "monthly" else "final", span.start, span.end + timedelta(days=1))
    t = ranking_of(conn, campaign_id, period)
    inside = {r.code for r in conn.execute(select(U.c.code).where(U.c.campaign_id == campaign_id,
                                                                  U.c.path.startswith(root.path)))}
    row = lambda r: dict(rank=r.rank, name=r.name, score=str(r.score), assessed=r.assessed,  # noqa: E731
                         closed=r.counts.closed, closed_on_time=r.counts.closed_on_time,
                         extended=r.counts.extended, lapses=r.counts.lapses, escalations=r.counts.escalations)
    return dict(period=span.label, rows=[row(r) for r in t.rows if r.unit in inside],
                red=[row(r) for r in t.red] if lead else [], black=[row(r) for r in t.black] if lead else [])


_FILE = re.compile(r"\.[A-Za-z0-9]{2,5}$|^[^，。；\s]*[\\/][^，。；\s]*$")  # 报告.pdf, 甲县/照片


def _effect(t) -> str:
    """成效 of a typical case in words: the unit's stage result or progress, else what
    its state says; the 可验证成果 is often a file (甲县/整改报告.pdf), never printed as 成效."""
    for text in (t.stage_result, t.progress, t.evidence):
        if text and text.strip() and not _FILE.search(text.strip()):
            return text.strip()
    if t.state == ClueState.closed.value:
        return "已整改到位，经审核销号" if t.resolution != "dismissed" else "经核查查无实据，已办结"
    return CLUE_LABELS[ClueState(t.state)]


def _typical_required(plan, kind: str) -> int:
    """典型案例 the plan asks for with its final report (003: 3, 002: at least 5)."""
    if kind != "final":
        return 0
    return max([d.typical_cases for d in plan.reporting] + [0]) or 3


def _burn_down(conn, campaign_id, scope_ids, span: Span, as_of: datetime, kind: str, plan):
    """Open items at each week's end since the campaign began, in one scan:
    one conditional sum per point. An item reopened after closing counts as
    open until it is closed again (closed_at is cleared on reopen)."""
    first = plan.campaign.period.start
    last = min(as_of.astimezone(TZ).date(), span.end)
    points = _weekly_points(first, max(first, last))
    ends = [end_of_day(d) for d in points]
    cols = []
    for i, t in enumerate(ends):
        cols.append(func.sum(case((and_(T.c.received_at <= t, or_(T.c.closed_at.is_(None), T.c.closed_at > t)), 1),
                                  else_=0)).label(f"o{i}"))
        cols.append(func.sum(case((T.c.received_at <= t, 1), else_=0)).label(f"r{i}"))
    r = conn.execute(select(*cols).where(T.c.campaign_id == campaign_id, T.c.unit_id.in_(scope_ids))).one()
    lapse_cols, case_cols = [], []
    prev = datetime.combine(first, time.min, TZ)
    for i, t in enumerate(ends):
        lapse_cols.append(func.sum(case((and_(L.c.detected_at > prev, L.c.detected_at <= t), 1), else_=0)).label(f"l{i}"))
        case_cols.append(func.sum(case((and_(E.c.issued_at > prev, E.c.issued_at <= t), 1), else_=0)).label(f"c{i}"))
        prev = t
    lr = conn.execute(select(*lapse_cols).where(L.c.campaign_id == campaign_id, L.c.unit_id.in_(scope_ids))).one()
    cr = conn.execute(select(*case_cols).where(E.c.campaign_id == campaign_id, E.c.unit_id.in_(scope_ids))).one()
    labels = [f"{d:%-m-%d}" for d in points]
    n = len(points)
    return (labels, [int(r[2 * i] or 0) for i in range(n)], [int(r[2 * i + 1] or 0) for i in range(n)],
            [int(lr[i] or 0) for i in range(n)], [int(cr[i] or 0) for i in range(n)])


def _reports(plan, units, subs, start: datetime, end: datetime, as_of: datetime) -> dict:
    """Reports due within the span: on time, late, still missing; and who missed them."""
    got = {(s.unit_id, s.duty_key, s.period): s.late for s in subs}
    on_time = late = missing = 0
    missed: dict[str, int] = {}
    for o in all_occurrences(plan):
        if not (start <= o.due_at <= end and o.due_at < as_of):
            continue
        for u in units:
            if not owes(u, o):
                continue
            k = (u.id, o.duty, o.period)
            if k not in got:
                missing += 1
                missed[u.name] = missed.get(u.name, 0) + 1
            elif got[k]:
                late += 1
            else:
                on_time += 1
    return dict(on_time=on_time, late=late, missing=missing,
                missed=sorted(missed.items(), key=lambda kv: -kv[1])[:LIST_LIMIT])
