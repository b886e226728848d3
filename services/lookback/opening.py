"""Opening a round: draw (select, assign, create checks) and notify.

`draw` is one transaction: a half-drawn round never exists, and a second
run finds the round drawn and changes nothing. Taking every closed item is
one INSERT … SELECT; a sample streams the candidates once, draws in Python
(statemachine/lookback/sampling.py, reproducible from the recorded seed) and keeps
each unit's candidates so the draw can be repeated afterwards.

`notify` issues the round's notice (one numbered document to all units in
scope), sends each unit its part and each team its assignment, and moves
the round to open, in one transaction.
"""
from __future__ import annotations

import itertools
import json
import statistics
from dataclasses import dataclass, field
from datetime import datetime, time

from sqlalchemy import Connection, Engine, func, insert, literal, select, update

from models.tables import Clue, InspectionCheck, InspectionRound, InspectionTeam, Notice, RoundUnit, Unit, \
    User
from statemachine.charts.clue import OPEN_STATES
from statemachine.charts.lookback import ITEM_KINDS, METHODS, ROUND_KINDS
from statemachine.errors import InvalidInput
from statemachine.lookback.assignment import TeamSlot, UnitLoad, assign_units, visit_days
from statemachine.lookback.sampling import Candidate, RiskRules, digest, draw as draw_sample, \
    fast_threshold, risk_weight
from statemachine.time.calendar import TZ, WorkingCalendar, end_of_day

from services.notices import outbox
from services.core.persisted import audit_record
from services.core.uow import unit_of_work
from services.core.directory import unit_by_id
from services.ladder.cases import Ladder
from services.notices.issue import unit_recipients, chinese_date, issue_notice
from services.notices.letterhead import common_fields, copies_to
from .rounds import fire_round, organised_round, spec_of

__all__ = ["draw", "notify", "DrawResult", "NotifyResult", "candidate_filter", "team_slots"]

T, U, TM, RU, CK, US, RD, N = (Clue.__table__, Unit.__table__, InspectionTeam.__table__,
                               RoundUnit.__table__, InspectionCheck.__table__, User.__table__,
                               InspectionRound.__table__, Notice.__table__)
_UNIT_ITEMS_SHOWN = 200
_VALUES_BATCH = 2000  # a unit's message lists this many items, then says how many more


@dataclass
class DrawResult:
    round: str
    candidates: int
    selected: int
    units: int
    seed: str
    digest: str | None
    already: bool = False
    per_unit: list[dict] = field(default_factory=list)


def candidate_filter(conn: Connection, round_row, spec, scope, *, now: datetime) -> list:
    """The closed items of the round's kinds, in its scope and period, below the organiser.

    The units are resolved first and given as a list: a subquery on units
    lets a planner with stale statistics (right after a bulk import) pick a
    nested loop over a million items."""
    in_scope = conn.execute(select(U.c.id).where(
        U.c.campaign_id == round_row.campaign_id, U.c.path.startswith(scope.path),
        U.c.participates.is_(True), U.c.id != round_row.organiser_unit_id)).scalars().all()
    where = [T.c.campaign_id == round_row.campaign_id, T.c.state == "closed",
             T.c.kind.in_(spec.items), T.c.unit_id.in_(in_scope), T.c.closed_at <= now]
    if spec.closed:
        where += [T.c.closed_at >= datetime.combine(spec.closed.start, time.min, TZ),
                  T.c.closed_at <= end_of_day(spec.closed.end)]
    return where


def team_slots(conn: Connection, round_id: int) -> list[TeamSlot]:
    slots = []
    for t in conn.execute(select(TM).where(TM.c.round_id == round_id).order_by(TM.c.code)):
        members = json.loads(t.members_json)
        unit_ids = {t.unit_id} | set(conn.execute(select(US.c.unit_id).where(
            US.c.username.in_(members), US.c.unit_id.is_not(None),
            US.c.campaign_id == select(U.c.campaign_id).where(U.c.id == t.unit_id).scalar_subquery()))
            .scalars())
        paths = tuple(conn.execute(select(U.c.path).where(U.c.id.in_(unit_ids))).scalars())
        slots.append(TeamSlot(t.id, t.code, paths))
    return slots


def _assign(conn: Connection, row, spec, scope, loads: list[UnitLoad]) -> tuple[dict, dict]:
    assignment = assign_units(loads, team_slots(conn, row.id), scope_path=scope.path)
    visits = visit_days(assignment, loads, spec.visits.start, spec.visits.end) \
        if spec.visits and assignment else {}
    return assignment, visits


def draw(engine: Engine, campaign: str, code: str, *, actor: str, now: datetime) -> DrawResult:
    with unit_of_work(engine) as uow:
        conn = uow.conn
        camp, row, who = organised_round(conn, campaign, code, actor, "open")
        if row.digest is not None:  # drawn before: a re-run changes nothing
            return DrawResult(code, row.candidates, row.selected,
                              conn.execute(select(func.count()).select_from(RU)
                                           .where(RU.c.round_id == row.id)).scalar_one(),
                              row.seed, row.digest, already=True)
        if row.state != "planned":
            raise InvalidInput(f"round {code} is {row.state}; only a planned round can be opened")
        spec = spec_of(row)
        scope = unit_by_id(conn, row.scope_unit_id)
        where = candidate_filter(conn, row, spec, scope, now=now)
        units = {u.id: u for u in conn.execute(select(U.c.id, U.c.code, U.c.path)
                                               .where(U.c.campaign_id == camp.id))}
        if spec.selection.mode == "all":
            counts = dict(conn.execute(select(T.c.unit_id, func.count()).where(*where)
                                       .group_by(T.c.unit_id)).all())
            loads = [UnitLoad(u, units[u].code, units[u].path, n) for u, n in counts.items()]
            assignment, visits = _assign(conn, row, spec, scope, loads)
            _insert_units(conn, row.id, loads, counts, assignment, visits, candidates=None)
            # joined to the round's units (exactly the units with candidates) for their team:
            # a hash join, where a per-row subquery would probe the index a million times
            conn.execute(insert(CK).from_select(
                ["round_id", "clue_id", "unit_id", "team_id", "state", "version"],
                select(literal(row.id), T.c.id, T.c.unit_id, RU.c.team_id, literal("pending"), literal(1))
                .join(RU, (RU.c.unit_id == T.c.unit_id) & (RU.c.round_id == row.id))
                .where(*where)))
            candidates = selected = sum(counts.values())
        else:
            candidates, selected, loads, counts, assignment = _draw_sample(conn, row, spec, scope, where,
                                                                           units)
        numbers = conn.execute(select(T.c.number).join(CK, CK.c.clue_id == T.c.id)
                               .where(CK.c.round_id == row.id)).scalars().all()
        fingerprint = digest(numbers)
        conn.execute(update(RD).where(RD.c.id == row.id).values(
            candidates=candidates, selected=selected, digest=fingerprint, updated_at=now,
            updated_by=who.username, version=RD.c.version + 1))
        uow.audit(camp.id, [audit_record(
            at=now, actor=who.username, unit_id=row.organiser_unit_id, entity="round", entity_id=row.id,
            from_state=row.state, to_state=row.state, trigger="draw", reason=None,
            detail={"seed": row.seed, "mode": spec.selection.mode, "candidates": candidates,
                    "selected": selected, "units": len(loads), "digest": fingerprint})])
        team_codes = dict(conn.execute(select(TM.c.id, TM.c.code).where(TM.c.round_id == row.id)).all())
        per_unit = [{"unit": units[ld.unit].code, "candidates": counts.get(ld.unit, ld.items),
                     "selected": ld.items, "team": team_codes.get(assignment.get(ld.unit))}
                    for ld in sorted(loads, key=lambda ld: units[ld.unit].code)]
        uow.commit()
        return DrawResult(code, candidates, selected, len(loads), row.seed, fingerprint,
                          per_unit=per_unit)


def _insert_units(conn: Connection, round_id: int, loads: list[UnitLoad], counts: dict[int, int],
                  assignment: dict, visits: dict, *, candidates: dict[int, str] | None) -> None:
    if not loads:
        return
    conn.execute(insert(RU), [dict(
        round_id=round_id, unit_id=ld.unit, team_id=assignment.get(ld.unit), visit_on=visits.get(ld.unit),
        candidates=counts[ld.unit], selected=ld.items,
        candidates_json=candidates[ld.unit] if candidates is not None else None)
        for ld in loads])


def _days_to_close(conn: Connection):
    if conn.dialect.name == "postgresql":
        return func.extract("epoch", T.c.closed_at - T.c.received_at) / 86400.0
    return func.julianday(T.c.closed_at) - func.julianday(T.c.received_at)


def _median_days(conn: Connection, where, days) -> float | None:
    if conn.dialect.name == "postgresql":
        return conn.execute(select(func.percentile_cont(0.5).within_group(days)).where(*where)).scalar()
    values = conn.execute(select(days).where(*where)).scalars().all()  # SQLite: one machine's data
    return statistics.median(values) if values else None


def _draw_sample(conn: Connection, row, spec, scope, where, units):
    """Stream the candidates unit by unit (memory: one unit's items), weigh, draw,
    and keep each unit's candidates for the re-draw."""
    sel = spec.selection
    rules = RiskRules(**sel.risk.model_dump())
    days = _days_to_close(conn)
    fast_below = full = None
    if sel.risk_weighted:
        fast_below = fast_threshold(_median_days(conn, where, days), rules)
        busy = set(conn.execute(select(T.c.unit_id).where(
            T.c.campaign_id == row.campaign_id, T.c.kind.in_(spec.items),
            T.c.state.in_([s.value for s in OPEN_STATES])).distinct()).scalars())
    stream = conn.execute(
        select(T.c.id, T.c.number, T.c.unit_id, days.label("days"),
               func.coalesce(func.length(func.trim(T.c.evidence)), 0).label("ev"))
        .where(*where).order_by(T.c.unit_id).execution_options(yield_per=20_000))
    counts: dict[int, int] = {}
    pool: dict[int, str] = {}
    drawn: dict[int, list[int]] = {}
    for unit_id, group in itertools.groupby(stream, key=lambda r: r.unit_id):
        items = list(group)
        full = sel.risk_weighted and unit_id not in busy
        weights = [risk_weight(r.days, int(r.ev), full, fast_below=fast_below, rules=rules)
                   if sel.risk_weighted else 1.0 for r in items]
        chosen = draw_sample(int(row.seed), (Candidate(r.number, unit_id, weight=w)
                                             for r, w in zip(items, weights)),
                             count=sel.count, share=sel.share, minimum=sel.min_per_unit)[unit_id]
        ids = {r.number: r.id for r in items}
        drawn[unit_id] = [ids[n] for n in chosen]
        counts[unit_id] = len(items)
        pool[unit_id] = json.dumps([[r.number, w] for r, w in zip(items, weights)], ensure_ascii=False)
    loads = [UnitLoad(u, units[u].code, units[u].path, len(ids)) for u, ids in drawn.items()]
    assignment, visits = _assign(conn, row, spec, scope, loads)
    _insert_units(conn, row.id, loads, counts, assignment, visits, candidates=pool)
    checks = [dict(round_id=row.id, clue_id=i, unit_id=u, team_id=assignment.get(u), state="pending",
                   version=1) for u, ids in drawn.items() for i in ids]
    # multi-row VALUES in batches: several times faster than executemany for 10^5 rows,
    # and within SQLite's and PostgreSQL's limits on bound parameters
    for start in range(0, len(checks), _VALUES_BATCH):
        conn.execute(insert(CK).values(checks[start:start + _VALUES_BATCH]))
    return sum(counts.values()), len(checks), loads, counts, assignment


@dataclass
class NotifyResult:
    round: str
    state: str
    notice: str | None
    messages: int
    already: bool = False


def notify(engine: Engine, campaign: str, code: str, *, actor: str, now: datetime,
           calendar: WorkingCalendar, channels=()) -> NotifyResult:
    with unit_of_work(engine) as uow:
        conn = uow.conn
        camp, row, who = organised_round(conn, campaign, code, actor, "open")
        if row.state != "planned":
            return NotifyResult(code, row.state, None, 0, already=True)
        if row.digest is None:
            raise InvalidInput(f"round {code} has not been drawn yet (run the open flow)")
        spec = spec_of(row)
        ladder = Ladder.of(conn, camp, calendar, channels)
        scope = unit_by_id(conn, row.scope_unit_id)
        teams = conn.execute(select(TM).where(TM.c.round_id == row.id).order_by(TM.c.code)).all()
        context = {
            **common_fields(ladder.plan), "cc": copies_to(ladder.plan, None),
            "round_title": spec.title, "kind_label": ROUND_KINDS[spec.kind],
            "deadline": spec.deadline, "facts": _arrangements(spec, row, scope.name, teams),
        }
        key = f"round:{row.id}:open"
        issue_notice(uow, campaign_id=camp.id, case_id=None, kind="inspection", key=key,
                     issuer=ladder.policy.issuer_code, unit_id=scope.id, context=context, now=now,
                     channels=(), templates=ladder.templates, addressee="各有关单位")
        uow.flush()  # each unit's and team's message names the notice's row
        notice = conn.execute(select(N.c.id, N.c.doc_number, N.c.title, N.c.text, N.c.html)
                              .where(N.c.campaign_id == camp.id, N.c.key == key)).one()
        sent = _to_units(conn, row, spec, notice, notice.id, ladder.channels, now) \
            + _to_teams(conn, row, teams, notice, ladder.channels, now)
        state = fire_round(uow, row, "open", actor=who, now=now, opened_at=now,
                           detail={"notice": notice.doc_number, "messages": sent})
        uow.commit()
        return NotifyResult(code, state, notice.doc_number, sent)


def _arrangements(spec, row, scope_name: str, teams) -> list[str]:
    """The notice's numbered arrangements: scope, items, sampling, schedule, methods, teams."""
    lines = [f"核查范围：{scope_name}及所属各单位",
             f"核查对象：{'、'.join(ITEM_KINDS[k] for k in spec.items)}中已办结（销号）的事项"
             + (f"（{chinese_date(spec.closed.start)}至{chinese_date(spec.closed.end)}办结）"
                if spec.closed else ""),
             f"抽查方式：{_selection_text(spec, row)}，共 {row.selected} 件"]
    if spec.visits:
        lines.append(f"时间安排：{chinese_date(spec.visits.start)}至{chinese_date(spec.visits.end)}"
                     f"实地督察，{chinese_date(spec.deadline)}前完成")
    if spec.methods:
        lines.append("核查方法：" + "、".join(METHODS[m] for m in spec.methods))
    if teams:
        lines.append("组织方式：成立" + "、".join(t.name for t in teams) + "，分片包干开展核查")
    if spec.note:
        lines.append(spec.note)
    return lines


def _selection_text(spec, row) -> str:
    sel = spec.selection
    if sel.mode == "all":
        return "对范围内已办结（销号）的全部问题逐项核查"
    how = f"每个单位随机抽取 {sel.count} 件" if sel.count else f"每个单位随机抽取 {sel.share:.0%}"
    risk = "，对办结过快、佐证材料单薄、自报整改率100%的单位加大抽查比重" if sel.risk_weighted else ""
    # the seed stays in the round's record (it re-draws the sample); a notice is no place for it
    return f"{how}（每单位不少于 {sel.min_per_unit} 件）{risk}"



def _unit_items(conn: Connection, round_id: int, unit_id: int) -> list[str]:
    rows = conn.execute(select(T.c.number, T.c.summary).join(CK, CK.c.clue_id == T.c.id)
                        .where(CK.c.round_id == round_id, CK.c.unit_id == unit_id)
                        .order_by(T.c.number).limit(_UNIT_ITEMS_SHOWN + 1)).all()
    lines = [f"{r.number} {r.summary[:60]}" for r in rows[:_UNIT_ITEMS_SHOWN]]
    if len(rows) > _UNIT_ITEMS_SHOWN:
        lines.append("……（其余见系统清单）")
    return lines


def _to_units(conn: Connection, row, spec, notice, notice_id: int, channels, now: datetime) -> int:
    sent = 0
    units = conn.execute(select(U, RU.c.selected, RU.c.visit_on).join(RU, RU.c.unit_id == U.c.id)
                         .where(RU.c.round_id == row.id).order_by(U.c.code)).all()
    for u in units:
        extra = f"\n\n本次{ROUND_KINDS[spec.kind]}在你单位抽取核查事项 {u.selected} 件。"
        if u.visit_on:
            extra += f"督察组计划于{chinese_date(u.visit_on)}前后到你单位开展实地督察。" \
                if spec.announce_items else ""
        if spec.announce_items:
            extra += "\n" + "\n".join(_unit_items(conn, row.id, u.id))
        for channel, recipient in unit_recipients(u, channels):
            sent += outbox.enqueue(conn, campaign_id=row.campaign_id,
                                   key=f"round:{row.id}:open:{u.code}:{channel}:{recipient}"[:200],
                                   channel=channel, recipient=recipient,
                                   subject=f"{notice.title}（{notice.doc_number}）",
                                   body_text=notice.text + extra, body_html=None, notice_id=notice_id,
                                   now=now)
    return sent


def _to_teams(conn: Connection, row, teams, notice, channels, now: datetime) -> int:
    sent = 0
    for t in teams:
        units = conn.execute(select(U.c.code, U.c.name, RU.c.visit_on, RU.c.selected)
                             .join(RU, RU.c.unit_id == U.c.id)
                             .where(RU.c.round_id == row.id, RU.c.team_id == t.id)
                             .order_by(RU.c.visit_on, U.c.code)).all()
        body = (f"{t.name}：\n    根据{notice.title}（{notice.doc_number}），你组负责以下单位的核查，"
                f"请于{chinese_date(row.deadline)}前录入全部核查结果：\n"
                + "\n".join(f"    {u.name}（{u.code}）：{u.selected} 件"
                            + (f"，{chinese_date(u.visit_on)}" if u.visit_on else "") for u in units))
        members = json.loads(t.members_json)
        emails = conn.execute(select(US.c.username, US.c.email).where(
            US.c.campaign_id == row.campaign_id, US.c.username.in_(members))).all()
        targets = [("email", e.email) for e in emails if e.email and "email" in channels]
        if "file" in channels:
            targets.append(("file", f"team-{t.code}"))
        for channel, recipient in targets:
            sent += outbox.enqueue(conn, campaign_id=row.campaign_id,
                                   key=f"round:{row.id}:team:{t.code}:{channel}:{recipient}"[:200],
                                   channel=channel, recipient=recipient,
                                   subject=f"督察任务：{row.title}（{t.name}）", body_text=body, now=now)
    return sent
