"""Rules with a pure form and a SQL form agree (one home each, the SQL form beside it):
when a clue is overdue (statemachine/charts/clue.py ↔ services/clues/chart.py), when a case
is chased and when it escalates (statemachine/charts/ladder.py ↔ services/ladder/cases.py),
on SQLite and PostgreSQL, for states and instants drawn by hypothesis."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import insert, select

from models.tables import Clue, EscalationCase, Unit
from services.campaigns.load import campaign_id
from services.clues.chart import due_soon_sql, overdue_sql, rectify_overdue_sql, verify_overdue_sql
from services.ladder.cases import chase_due_sql, escalation_due_sql
from services.reports.counting import bucket_sums, figures_of
from statemachine.charts.clue import RECTIFY_PENDING, ClueState, overdue_cause
from statemachine.warning import due_soon
from statemachine.charts.ladder import CaseState, chase_due, escalation_due
from statemachine.reports.counting import Figures, bucket

from ..conftest import at

BASE = at("2023-05-01 00:00")
_seq = itertools.count(1)
instant = st.integers(min_value=-40, max_value=40).map(lambda h: BASE + timedelta(hours=h * 12))
maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731

clue_rows = st.lists(st.tuples(st.sampled_from(list(ClueState)), instant, maybe(instant)), min_size=1,
                     max_size=12)
case_rows = st.lists(st.tuples(st.sampled_from(list(CaseState)), st.integers(1, 5), maybe(instant),
                               maybe(instant), maybe(instant)), min_size=1, max_size=12)
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _unit(conn, cid) -> int:
    return conn.execute(select(Unit.id).where(Unit.campaign_id == cid, Unit.code == "county-a")).scalar_one()


@SLOW
@given(rows=clue_rows, as_of=instant)
def test_overdue_in_python_and_in_sql_agree(engine, campaign, rows, as_of):
    cid = campaign_id(engine, campaign)
    with engine.connect() as conn, conn.begin() as tx:
        unit = _unit(conn, cid)
        expected = {}
        for state, verify_due, deadline in rows:
            rid = conn.execute(insert(Clue.__table__).values(
                campaign_id=cid, number=f"T-{next(_seq):06d}", kind="clue", channel="12345",
                aspect_key="profit", summary="s", unit_id=unit, state=state.value, received_at=BASE,
                verify_due_at=verify_due, deadline_at=deadline, reopen_count=0, reject_count=0,
                updated_at=BASE, updated_by="t", version=1).returning(Clue.id)).scalar_one()
            expected[rid] = overdue_cause(state.value, verify_due_at=verify_due, deadline_at=deadline,
                                          as_of=as_of)
        ids = list(expected)
        T = Clue.__table__

        def matching(cond) -> set[int]:
            return set(conn.execute(select(T.c.id).where(T.c.id.in_(ids), cond)).scalars())
        assert matching(verify_overdue_sql(as_of)) == {i for i, c in expected.items() if c == "verify_overdue"}
        assert matching(rectify_overdue_sql(as_of)) == {i for i, c in expected.items() if c == "rectify_overdue"}
        assert matching(overdue_sql(as_of)) == {i for i, c in expected.items() if c}
        soon = {i for i, (state, _, deadline) in zip(ids, rows)
                if state in RECTIFY_PENDING and due_soon(deadline, as_of, blue_within_days=3)}
        assert matching(due_soon_sql(as_of, 3)) == soon
        tx.rollback()


@SLOW
@given(rows=case_rows, as_of=instant)
def test_chase_and_escalation_in_python_and_in_sql_agree(engine, campaign, rows, as_of):
    cid = campaign_id(engine, campaign)
    with engine.connect() as conn, conn.begin() as tx:
        unit = _unit(conn, cid)
        chase, escalate = set(), set()
        for state, level, response_due, chased, chase_due_at in rows:
            rid = conn.execute(insert(EscalationCase.__table__).values(
                campaign_id=cid, unit_id=unit, level=level, state=state.value, cause="manual",
                key=f"t:{next(_seq)}", automatic=False, reason="r", proposed_by="t", proposed_at=BASE,
                response_due_at=response_due, chased_at=chased, chase_due_at=chase_due_at,
                updated_at=BASE, updated_by="t", version=1).returning(EscalationCase.id)).scalar_one()
            if chase_due(state=state.value, chased_at=chased, response_due_at=response_due, as_of=as_of):
                chase.add(rid)
            if escalation_due(state=state.value, level=level, chase_due_at=chase_due_at, as_of=as_of):
                escalate.add(rid)
        E = EscalationCase.__table__
        assert set(conn.execute(select(E.c.id).where(E.c.campaign_id == cid, chase_due_sql(as_of))).scalars()) \
            == chase
        assert set(conn.execute(select(E.c.id).where(E.c.campaign_id == cid,
                                                     escalation_due_sql(as_of))).scalars()) == escalate
        tx.rollback()


def test_the_drawn_instants_reach_both_sides_of_a_deadline():
    # without this the properties above could pass comparing empty sets
    assert overdue_cause("rectifying", verify_due_at=BASE, deadline_at=BASE, as_of=BASE + timedelta(hours=12))
    assert not overdue_cause("rectifying", verify_due_at=BASE, deadline_at=BASE, as_of=BASE)
    assert chase_due(state="issued", chased_at=None, response_due_at=BASE, as_of=BASE + timedelta(hours=12))
    assert not escalation_due(state="issued", level=5, chase_due_at=BASE, as_of=datetime.max.replace(
        tzinfo=BASE.tzinfo))


@SLOW
@given(rows=st.lists(st.tuples(st.sampled_from(["clue", "self_inspection", "carried_over"]),
                               st.sampled_from(list(ClueState))), min_size=1, max_size=15))
def test_the_figures_in_python_and_in_sql_agree(engine, campaign, rows):
    cid = campaign_id(engine, campaign)
    with engine.connect() as conn, conn.begin() as tx:
        unit = _unit(conn, cid)
        counts: dict[str, int] = {}
        for kind, state in rows:
            conn.execute(insert(Clue.__table__).values(
                campaign_id=cid, number=f"T-{next(_seq):06d}", kind=kind, channel="12345",
                aspect_key="profit", summary="s", unit_id=unit, state=state.value, received_at=BASE,
                verify_due_at=BASE, reopen_count=0, reject_count=0, updated_at=BASE, updated_by="t",
                version=1))
            b = bucket(kind, state.value)
            counts[b] = counts.get(b, 0) + 1
        T = Clue.__table__
        row = conn.execute(select(*bucket_sums()).where(T.c.campaign_id == cid)).one()
        assert figures_of(row) == Figures.of(counts)
        # a merged duplicate counts as the item kept, not again
        assert figures_of(row).items == sum(state is not ClueState.merged for _, state in rows)
        tx.rollback()
