"""Each unit's counts for a period (statemachine/ranking.UnitCounts), in ONE statement:
the campaign's participating units, each joined to its aggregates over the clues, the
lapses, the escalation cases and the audit's extensions — never a query per unit.

What each count is, over the half-open period [start, end):
    in_hand         clues received before the end and not closed before the start
    closed          clues closed as done (销号 approved, or 查无实据 dismissed) in the period
    closed_on_time  of those, finished by the unit by their deadline (整改时限; a dismissed one:
                    核查时限): its last 申请销号 or its 查无实据, so the level above's time to
                    answer never counts against the unit
    extended        延期 granted in the period (the clue's audited `extend`, direct or approved)
    lapses          lapses whose missed deadline fell in the period
    escalations     escalation cases (督办) issued to the unit in the period
签收 from the clues' signing columns (the item's present unit: a reassigned item is the new
unit's to sign), 退单 refused from `clue_returns`, 回访 and 重办 from `clue_callbacks`.
"""
from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import and_, case, func, select

from models.tables import AuditRecord, Clue, ClueCallback, ClueReturn, EscalationCase, Lapse, Unit
from statemachine.charts.callback import DISSATISFIED
from statemachine.ranking import UnitCounts
from statemachine.ranking_period import Period
from statemachine.time.clock import TZ

__all__ = ["unit_counts", "counts_statement", "bounds"]

T, L, E, A, U = (Clue.__table__, Lapse.__table__, EscalationCase.__table__, AuditRecord.__table__,
                 Unit.__table__)
R, B = ClueReturn.__table__, ClueCallback.__table__
UNREACHED = "unreachable"  # 未联系上: a callback made, but no satisfaction to count
DONE = ("approved", "dismissed")  # 办结; a transfer (移交) is not the unit's work done
DONE_BY_UNIT = ("submit_evidence", "dismiss")  # when the unit finished its part (the clue chart's triggers)
WITHDRAWN = "withdrawn"           # services/campaigns/revision.py: a unit that left the campaign

def _n(cond):
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def bounds(period: Period) -> tuple[datetime, datetime]:
    """The period's first instant and the first instant after it: Beijing midnights."""
    return datetime.combine(period.first, time.min, TZ), datetime.combine(period.after, time.min, TZ)


def counts_statement(campaign_id: int, period: Period):
    start, end = bounds(period)
    closed = and_(T.c.resolution.in_(DONE), T.c.closed_at >= start, T.c.closed_at < end)
    # the unit's part done: its last 申请销号 (or the 查无实据 finding), not the supervisor's answer
    done = (select(A.c.entity_id, func.max(A.c.at).label("done_at"))
            .where(A.c.campaign_id == campaign_id, A.c.entity == "clue", A.c.trigger.in_(DONE_BY_UNIT),
                   A.c.at < end)
            .group_by(A.c.entity_id).subquery("d"))
    clues = (select(T.c.unit_id,
                    _n(and_(T.c.received_at < end, func.coalesce(T.c.closed_at, end) >= start)).label("in_hand"),
                    _n(closed).label("closed"),
                    _n(and_(closed, done.c.done_at <= func.coalesce(T.c.deadline_at, T.c.verify_due_at)))
                    .label("closed_on_time"))
             .select_from(T.outerjoin(done, done.c.entity_id == T.c.id))
             .where(T.c.campaign_id == campaign_id).group_by(T.c.unit_id).subquery("c"))
    lapses = (select(L.c.unit_id, func.count().label("lapses"))
              .where(L.c.campaign_id == campaign_id, L.c.due_at >= start, L.c.due_at < end)
              .group_by(L.c.unit_id).subquery("l"))
    cases = (select(E.c.unit_id, func.count().label("escalations"))
             .where(E.c.campaign_id == campaign_id, E.c.issued_at >= start, E.c.issued_at < end)
             .group_by(E.c.unit_id).subquery("e"))
    extended = (select(A.c.unit_id, func.count().label("extended"))
                .where(A.c.campaign_id == campaign_id, A.c.entity == "clue", A.c.trigger == "extend",
                       A.c.at >= start, A.c.at < end)
                .group_by(A.c.unit_id).subquery("x"))
    # 签收: the items whose signing fell due in the period, and those signed by then
    signing = (select(T.c.unit_id, func.count().label("assigned"),
                      _n(and_(T.c.signed_at.is_not(None), T.c.signed_at <= T.c.sign_due_at)).label("signed_on_time"))
               .where(T.c.campaign_id == campaign_id, T.c.sign_due_at >= start, T.c.sign_due_at < end)
               .group_by(T.c.unit_id).subquery("s"))
    refused = (select(R.c.unit_id, func.count().label("returns_refused"))
               .where(R.c.campaign_id == campaign_id, R.c.state == "refused", R.c.decided_at >= start,
                      R.c.decided_at < end)
               .group_by(R.c.unit_id).subquery("r"))
    # 回访 that reached the reporter, of the unit's items, in the period; 重办 sent back from them
    reached = and_(B.c.campaign_id == campaign_id, B.c.at >= start, B.c.at < end, B.c.result != UNREACHED)
    called = (select(B.c.unit_id, func.count().label("callbacks"),
                     _n(B.c.result != DISSATISFIED).label("satisfied"), _n(B.c.redo.is_(True)).label("redone"))
              .where(reached).group_by(B.c.unit_id).subquery("b"))
    z = lambda col: func.coalesce(col, 0)  # noqa: E731
    return (select(U.c.code, U.c.name, z(clues.c.in_hand).label("in_hand"), z(clues.c.closed).label("closed"),
                   z(clues.c.closed_on_time).label("closed_on_time"), z(extended.c.extended).label("extended"),
                   z(lapses.c.lapses).label("lapses"), z(cases.c.escalations).label("escalations"),
                   z(signing.c.assigned).label("assigned"), z(signing.c.signed_on_time).label("signed_on_time"),
                   z(refused.c.returns_refused).label("returns_refused"), z(called.c.callbacks).label("callbacks"),
                   z(called.c.satisfied).label("satisfied"), z(called.c.redone).label("redone"))
            .select_from(U.outerjoin(clues, clues.c.unit_id == U.c.id)
                         .outerjoin(lapses, lapses.c.unit_id == U.c.id)
                         .outerjoin(cases, cases.c.unit_id == U.c.id)
                         .outerjoin(extended, extended.c.unit_id == U.c.id)
                         .outerjoin(signing, signing.c.unit_id == U.c.id)
                         .outerjoin(refused, refused.c.unit_id == U.c.id)
                         .outerjoin(called, called.c.unit_id == U.c.id))
            .where(U.c.campaign_id == campaign_id, U.c.participates.is_(True),
                   func.coalesce(U.c.stage_key, "") != WITHDRAWN)
            .order_by(U.c.code))


def unit_counts(conn, campaign_id: int, period: Period) -> list[UnitCounts]:
    """Every participating unit's counts for `period` (one statement)."""
    return [UnitCounts(unit=r.code, name=r.name, **{k: int(v) for k, v in r._mapping.items()
                                                     if k not in ("code", "name")})
            for r in conn.execute(counts_statement(campaign_id, period))]
