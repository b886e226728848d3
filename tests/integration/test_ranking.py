"""考核排名 from the ledger, on SQLite and PostgreSQL: the service's one statement agrees
with counts made by hand from the rows, and the table with scores worked out by hand.

April 2023 in the small plan (stage 动员部署 due 04-07, missed by every county unit):
    county-a  A1 due 04-20, 申请销号 04-18, 销号 04-19            on time
              A2 due 04-10, 延期 on 04-05 to 04-28, 申请销号 04-27, 销号 05-02 (closed in May)
              A3 due 04-12, 申请销号 04-14, 销号 04-17              late (and a lapse)
    county-b  B1 查无实据 03-25 (closed before April: not in hand)
              B2 查无实据 04-02, within its 核查时限                on time
              B3 due 04-12, never finished                          a lapse
    town-c1   nothing in hand: only the stage lapse (and its criticism)
"""
from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from sqlalchemy import select

from models.tables import AuditRecord, Clue, ClueCallback, ClueReturn, EscalationCase, Lapse, Unit
from services.clues import lifecycle as clues
from services.ranking.counts import bounds, unit_counts
from services.ranking.table import as_dict, ranking
from services.campaigns.load import campaign_id
from statemachine.ranking import WORK_ORDER_FACTS
from statemachine.ranking_period import parse_period

from ..conftest import at
from .test_escalations import daily

T, L, E, A, U = (Clue.__table__, Lapse.__table__, EscalationCase.__table__, AuditRecord.__table__, Unit.__table__)


def _clue(engine, campaign, calendar, unit, deadline=None):
    n = clues.add_clues(engine, campaign, [clues.NewClue(channel="12345", aspect="profit", summary="罚款不开票",
                                                         unit=unit)],
                        actor="sup.city", now=at("2023-03-20"), calendar=calendar)[0]
    clues.transition(engine, campaign, n, "verify", actor="sup.city", now=at("2023-03-21"))
    if deadline:
        clues.transition(engine, campaign, n, "substantiate", actor="sup.city", now=at("2023-03-22"),
                         data=clues.ClueInput(measures="退还罚款", deadline=deadline, owner="赵书涵"),
                         calendar=calendar)
    return n


def _fire(engine, campaign, calendar, n, trigger, when, **data):
    clues.transition(engine, campaign, n, trigger, actor="sup.city", now=at(when), data=clues.ClueInput(**data),
                     calendar=calendar)


@pytest.fixture
def april(engine, campaign, calendar):
    return seed_april(engine, campaign, calendar)


def seed_april(engine, campaign, calendar):
    """The module's scenario, through the use cases and the nightly sweep."""
    a1 = _clue(engine, campaign, calendar, "county-a", date(2023, 4, 20))
    a2 = _clue(engine, campaign, calendar, "county-a", date(2023, 4, 10))
    a3 = _clue(engine, campaign, calendar, "county-a", date(2023, 4, 12))
    b1 = _clue(engine, campaign, calendar, "county-b")
    b2 = _clue(engine, campaign, calendar, "county-b")
    _clue(engine, campaign, calendar, "county-b", date(2023, 4, 12))
    _fire(engine, campaign, calendar, b1, "dismiss", "2023-03-25", reason="查无实据")
    _fire(engine, campaign, calendar, b2, "dismiss", "2023-04-02", reason="查无实据")
    _fire(engine, campaign, calendar, a2, "extend", "2023-04-05", reason="汛期施工", deadline=date(2023, 4, 28))
    daily(engine, campaign, calendar, "2023-04-08 00:05")
    daily(engine, campaign, calendar, "2023-04-13 00:05")
    _fire(engine, campaign, calendar, a3, "submit_evidence", "2023-04-14", evidence="整改报告.pdf")
    _fire(engine, campaign, calendar, a3, "approve", "2023-04-17")
    _fire(engine, campaign, calendar, a1, "submit_evidence", "2023-04-18", evidence="整改报告.pdf")
    _fire(engine, campaign, calendar, a1, "approve", "2023-04-19")
    _fire(engine, campaign, calendar, a2, "submit_evidence", "2023-04-27", evidence="整改报告.pdf")
    _fire(engine, campaign, calendar, a2, "approve", "2023-05-02")
    return campaign


def _by_hand(engine, campaign, period):
    """The counts, from every row of the ledger, with plain Python."""
    start, end = bounds(period)
    cid = campaign_id(engine, campaign)
    with engine.connect() as conn:
        units = {r.id: r.code for r in conn.execute(select(U).where(U.c.campaign_id == cid,
                                                                    U.c.parent_id.is_not(None)))}
        rows = conn.execute(select(T).where(T.c.campaign_id == cid)).all()
        audit = conn.execute(select(A).where(A.c.campaign_id == cid, A.c.entity == "clue")).all()
        lapses = conn.execute(select(L).where(L.c.campaign_id == cid)).all()
        cases = conn.execute(select(E).where(E.c.campaign_id == cid)).all()
        returns = conn.execute(select(ClueReturn.__table__).where(ClueReturn.__table__.c.campaign_id == cid)).all()
        calls = conn.execute(select(ClueCallback.__table__).where(ClueCallback.__table__.c.campaign_id == cid)).all()
    out = {code: Counter() for code in units.values()}
    for c in rows:
        n = out[units[c.unit_id]]
        n["in_hand"] += c.received_at < end and (c.closed_at is None or c.closed_at >= start)
        if c.resolution in ("approved", "dismissed") and start <= c.closed_at < end:
            n["closed"] += 1
            done = max(r.at for r in audit if r.entity_id == c.id and r.trigger in ("submit_evidence", "dismiss")
                       and r.at < end)
            n["closed_on_time"] += done <= (c.deadline_at or c.verify_due_at)
    for r in audit:
        if r.trigger == "extend" and start <= r.at < end:
            out[units[r.unit_id]]["extended"] += 1
    for r in lapses:
        out[units[r.unit_id]]["lapses"] += start <= r.due_at < end
    for r in cases:
        out[units[r.unit_id]]["escalations"] += r.issued_at is not None and start <= r.issued_at < end
    for c in rows:  # 签收 that fell due in the period, and signed by then
        if c.sign_due_at is not None and start <= c.sign_due_at < end:
            out[units[c.unit_id]]["assigned"] += 1
            out[units[c.unit_id]]["signed_on_time"] += c.signed_at is not None and c.signed_at <= c.sign_due_at
    for r in returns:
        out[units[r.unit_id]]["returns_refused"] += r.state == "refused" and start <= r.decided_at < end
    for b in calls:  # 回访 that reached the reporter
        if start <= b.at < end and b.result != "unreachable":
            n = out[units[b.unit_id]]
            n["callbacks"] += 1
            n["satisfied"] += b.result != "dissatisfied"
            n["redone"] += b.redo
    return out


def _score(n: Counter) -> Decimal:
    """The plan's defaults by hand: 签收及时 10, 按时办结 40, 满意 30, no 重办 10, no 延期 10, each
    only where its denominator is not zero (the April scenario has no 签收 and no 回访, so
    only 按时办结 and 延期 apply there); 2 a lapse, 3 an escalation, 1 a refused 退单."""
    parts = []
    if n["assigned"]:
        parts.append((10, Fraction(n["signed_on_time"], n["assigned"])))
    if n["closed"]:
        parts.append((40, Fraction(n["closed_on_time"], n["closed"])))
    if n["callbacks"]:
        parts.append((30, Fraction(n["satisfied"], n["callbacks"])))
        parts.append((10, 1 - Fraction(n["redone"], n["callbacks"])))
    if n["in_hand"]:
        parts.append((10, 1 - Fraction(n["extended"], n["in_hand"])))
    base = 100 * sum(w * r for w, r in parts) / sum(w for w, _ in parts) if parts else Fraction(100)
    p = max(base - 2 * n["lapses"] - 3 * n["escalations"] - n["returns_refused"], 0)
    return (Decimal(p.numerator) / Decimal(p.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_the_ranking_is_recomputed_by_hand_from_the_ledger_rows(engine, april):
    period = parse_period("2023-04")
    hand = _by_hand(engine, april, period)
    assert {u: (n["in_hand"], n["closed"], n["closed_on_time"], n["extended"]) for u, n in hand.items()} == {
        "county-a": (3, 2, 1, 1), "county-b": (2, 1, 1, 0), "town-c1": (0, 0, 0, 0)}
    assert hand["county-a"]["lapses"] == 2 and hand["county-b"]["lapses"] == 2 and hand["town-c1"]["lapses"] == 1
    with engine.connect() as conn:
        got = {c.unit: c for c in unit_counts(conn, campaign_id(engine, april), period)}
    keys = ("in_hand", "closed", "closed_on_time", "extended", "lapses", "escalations", *WORK_ORDER_FACTS)
    assert {u: {k: getattr(c, k) for k in keys} for u, c in got.items()} == \
        {u: {k: n[k] for k in keys} for u, n in hand.items()}
    t = ranking(engine, april, "2023-04")
    # the assessed (a rate applied: something in hand or closed) first, then by score
    expected = sorted(hand, key=lambda u: (not (hand[u]["in_hand"] or hand[u]["closed"]), -_score(hand[u]),
                                           hand[u]["lapses"], hand[u]["escalations"], u))
    assert expected[-1] == "town-c1"
    assert [(r.unit, r.score) for r in t.rows] == [(u, _score(hand[u])) for u in expected]
    assert t.rows[[r.unit for r in t.rows].index("town-c1")].assessed is False
    # with three units (one not assessed) the lists take one each: the better and the worse county
    assert ([r.unit for r in t.red], [r.unit for r in t.black]) == (["county-b"], ["county-a"])
    assert as_dict(t)["rows"][0]["score"] == str(_score(hand[t.rows[0].unit]))


def test_another_period_counts_only_its_own_rows(engine, april):
    may = {c.unit: c for c in ranking(engine, april, "2023-05").rows for c in [c.counts]}
    assert (may["county-a"].closed, may["county-a"].closed_on_time, may["county-a"].extended) == (1, 1, 0)
    assert may["county-a"].lapses == 0 and may["county-b"].in_hand == 1


def test_a_unit_reads_its_own_row_and_rank_a_root_supervisor_reads_all(engine, april):
    from services.core.directory import actor as lookup_actor

    with engine.connect() as conn:
        cid = campaign_id(engine, april)
        off_b, sup_a, sup_city = (lookup_actor(conn, cid, u) for u in ("off.b", "sup.a", "sup.city"))
    whole = ranking(engine, april, "2023-04", seen_by=sup_city)
    assert whole.whole and len(whole.rows) == 3 and whole.red
    own = ranking(engine, april, "2023-04", seen_by=off_b)
    assert [r.unit for r in own.rows] == ["county-b"] and not own.red and not own.black and own.ranked == 3
    assert own.rows[0].rank == next(r.rank for r in whole.rows if r.unit == "county-b")
    assert sorted(r.unit for r in ranking(engine, april, "2023-04", seen_by=sup_a).rows) == ["county-a", "town-c1"]


def test_the_monthly_report_carries_the_ranking_with_its_lists(engine, april):
    from notifications.documents.reports import render_markdown
    from services.reports.contents import gather

    t = ranking(engine, april, "2023-04")
    data = gather(engine, april, None, "monthly", "2023-04", now=at("2023-05-05"))
    assert [(r["rank"], r["name"], r["score"]) for r in data.ranking["rows"]] == \
        [(r.rank, r.name, str(r.score)) for r in t.rows]
    assert [r["name"] for r in data.ranking["red"]] == ["乙县"]
    assert [r["name"] for r in data.ranking["black"]] == ["甲县"]
    md = render_markdown(data)
    assert f"红榜 乙县（{t.rows[0].score}）" in md and "甲县交通运输执法大队（无可考核事项）" in md
    # a county's report ranks its own subtree, without the campaign's lists
    county = gather(engine, april, "county-a", "monthly", "2023-04", now=at("2023-05-05")).ranking
    assert [r["name"] for r in county["rows"]] == ["甲县", "甲县交通运输执法大队"] and not county["red"]
    # a weekly report has none
    assert gather(engine, april, None, "weekly", "2023-04-30", now=at("2023-05-05")).ranking == {}


# -- the facts of 签收, 退单 and 回访/重办 ------------------------------------------------------------
# April 2023 in the small plan asking for 签收 within 1 working day (test_sign_for_returns.py):
#     county-a  S1 received 04-03 10:00, signed 14:00 (on time); 销号 04-13, 回访 满意
#               S2 received 04-03 10:00, signed 04-06 (late: a lapse); 销号 04-14,
#                  回访 不满意 with the unit at fault → 重办 04-18, 销号 again 04-24, 回访 未联系上
#     county-b  R1 received 04-03 10:00, returned 04-04, the return refused 04-05; signed 04-06 09:00,
#                  within the day the refusal gave it back

@pytest.fixture
def work_orders(engine, tmp_path, calendar):
    from services.campaigns.load import load_plan
    from services.campaigns.plans import read_plan
    from services.clues import callbacks, returns, signing

    from .test_sign_for_returns import signing_plan

    path = signing_plan(tmp_path)
    plan = read_plan(path)
    load_plan(engine, plan, source=path, now=at("2023-03-15"))
    campaign = plan.campaign.code

    def received(unit, reporter, phone):
        return clues.add_clues(engine, campaign, [clues.NewClue(
            channel="12345", aspect="profit", summary="路政执法只罚款不开票", unit=unit, reporter_name=reporter,
            reporter_phone=phone)], actor="sup.city", now=at("2023-04-03 10:00"), calendar=calendar)[0]

    def worked(n, *, verify, close):
        _fire(engine, campaign, calendar, n, "verify", verify)
        _fire(engine, campaign, calendar, n, "substantiate", verify, measures="退还罚款", deadline=date(2023, 4, 20),
              owner="赵书涵")
        _fire(engine, campaign, calendar, n, "submit_evidence", close, evidence="整改报告.pdf")
        _fire(engine, campaign, calendar, n, "approve", close)

    s1 = received("county-a", "韩秀兰", "13800001111")
    s2 = received("county-a", "冯建国", "13800002222")
    r1 = received("county-b", "邓雅琴", "13800003333")
    signing.sign(engine, campaign, s1, actor="off.a", now=at("2023-04-03 14:00"))
    returns.return_clue(engine, campaign, r1, reason="不属本县管辖", actor="off.b", now=at("2023-04-04 09:00"),
                        calendar=calendar)
    returns.refuse_return(engine, campaign, r1, reason="属该县辖区，退单理由不成立", actor="sup.city",
                          now=at("2023-04-05 10:00"), calendar=calendar)
    signing.sign(engine, campaign, s2, actor="off.a", now=at("2023-04-06 10:00"))
    signing.sign(engine, campaign, r1, actor="off.b", now=at("2023-04-06 09:00"))
    daily(engine, campaign, calendar, "2023-04-07 00:05")
    worked(s1, verify="2023-04-07", close="2023-04-13")
    worked(s2, verify="2023-04-07", close="2023-04-14")
    callbacks.call_back(engine, campaign, s1, result="满意", actor="sup.city", now=at("2023-04-14"))
    callbacks.call_back(engine, campaign, s2, result="不满意", note="问题仍然存在", unit_at_fault=True,
                        actor="sup.city", now=at("2023-04-17"))
    callbacks.redo(engine, campaign, s2, reason="整改不到位", actor="sup.city", now=at("2023-04-18"),
                   deadline=date(2023, 4, 28), calendar=calendar)
    _fire(engine, campaign, calendar, s2, "submit_evidence", "2023-04-21", evidence="重办整改报告.pdf")
    _fire(engine, campaign, calendar, s2, "approve", "2023-04-24")
    callbacks.call_back(engine, campaign, s2, result="未联系上", actor="sup.city", now=at("2023-04-25"))
    return campaign


def test_the_work_order_facts_are_recomputed_by_hand_and_scored(engine, work_orders):
    period = parse_period("2023-04")
    hand = _by_hand(engine, work_orders, period)
    facts = {u: tuple(n[k] for k in WORK_ORDER_FACTS) for u, n in hand.items()}
    # (assigned, signed_on_time, returns_refused, callbacks, satisfied, redone): the scenario's, not zeros
    assert facts == {"county-a": (2, 1, 0, 2, 1, 1), "county-b": (1, 1, 1, 0, 0, 0), "town-c1": (0, 0, 0, 0, 0, 0)}
    assert hand["county-a"]["closed"] == 2 and hand["county-a"]["lapses"] >= 1  # S2's late signing at least
    with engine.connect() as conn:
        got = {c.unit: c for c in unit_counts(conn, campaign_id(engine, work_orders), period)}
    keys = ("in_hand", "closed", "closed_on_time", "extended", "lapses", "escalations", *WORK_ORDER_FACTS)
    assert {u: {k: getattr(c, k) for k in keys} for u, c in got.items()} == \
        {u: {k: n[k] for k in keys} for u, n in hand.items()}
    t = ranking(engine, work_orders, "2023-04")
    scores = {r.unit: r.score for r in t.rows}
    assert scores == {u: _score(n) for u, n in hand.items()}
    # the facts weigh: county-a's rates are 签收 1/2, 满意 1/2, no 重办 1/2 beside its 办结 and 延期 ones
    a = next(r for r in t.rows if r.unit == "county-a")
    assert {k: a.rates[k] for k in ("sign_on_time", "satisfaction", "no_redo")} == \
        {"sign_on_time": Fraction(1, 2), "satisfaction": Fraction(1, 2), "no_redo": Fraction(1, 2)}
    without = Counter({k: v for k, v in hand["county-a"].items() if k not in WORK_ORDER_FACTS})
    assert scores["county-a"] < _score(without)  # late signing, 不满意 and 重办 cost it points
    b = hand["county-b"]
    # county-b signed on time and has no 延期: 100, less 1 for the refused 退单 (and nothing else)
    assert (b["lapses"], b["escalations"]) == (0, 0)
    assert scores["county-b"] == _score(b - Counter({"returns_refused": 1})) - 1 == Decimal("99.00")
