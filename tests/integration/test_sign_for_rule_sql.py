"""The sign-for rule in Python (statemachine/charts/signing.sign_for_overdue) and its SQL twin
(services/clues/signing.sign_for_overdue_sql) agree, on SQLite and PostgreSQL, for states,
signings, returns and instants drawn by hypothesis."""
from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings, strategies as st
from sqlalchemy import insert, select

from models.tables import Clue, ClueReturn, Unit
from services.campaigns.load import campaign_id
from services.clues.signing import sign_for_overdue_sql
from statemachine.charts.clue import ClueState
from statemachine.charts.signing import sign_for_overdue

from ..conftest import at

BASE = at("2023-05-01 00:00")
_seq = itertools.count(1)
instant = st.integers(min_value=-20, max_value=20).map(lambda h: BASE + timedelta(hours=h * 12))
maybe = lambda s: st.one_of(st.none(), s)
# (state, signing, sign due, signed at, a return: None or (its state, asked at))
rows = st.lists(st.tuples(st.sampled_from(list(ClueState)), st.sampled_from(["signed", "unsigned"]), maybe(instant),
                          maybe(instant), maybe(st.tuples(st.sampled_from(["requested", "reassigned", "refused"]),
                                                          instant))), min_size=1, max_size=12)
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


EARLY, LATE = BASE - timedelta(hours=12), BASE + timedelta(hours=12)


@SLOW
@given(drawn=rows, as_of=instant)
# a return asked in time excuses the signing, one asked late or decided does not; signed late
@example(drawn=[(ClueState.received, "unsigned", BASE, None, ("requested", EARLY)),
                (ClueState.received, "unsigned", BASE, None, ("requested", LATE)),
                (ClueState.received, "unsigned", BASE, None, ("refused", EARLY)),
                (ClueState.verifying, "signed", BASE, LATE, None),
                (ClueState.closed, "unsigned", BASE, None, None)], as_of=LATE + timedelta(hours=12))
def test_sign_for_overdue_in_python_and_in_sql_agree(engine, campaign, drawn, as_of):
    cid = campaign_id(engine, campaign)
    T, CR = Clue.__table__, ClueReturn.__table__
    with engine.connect() as conn, conn.begin() as tx:
        unit = conn.execute(select(Unit.id).where(Unit.campaign_id == cid, Unit.code == "county-a")).scalar_one()
        expected = {}
        for state, signing_, due, signed_at, ret in drawn:
            rid = conn.execute(insert(T).values(
                campaign_id=cid, number=f"S-{next(_seq):06d}", kind="clue", channel="12345", aspect_key="profit",
                summary="s", unit_id=unit, state=state.value, received_at=BASE, verify_due_at=BASE,
                assigned_at=BASE, sign_due_at=due, signing=signing_, signed_at=signed_at, reopen_count=0,
                reject_count=0, updated_at=BASE, updated_by="t", version=1).returning(T.c.id)).scalar_one()
            if ret is not None:
                conn.execute(insert(CR).values(campaign_id=cid, clue_id=rid, unit_id=unit, state=ret[0], reason="r",
                                               requested_by="t", requested_at=ret[1], updated_at=BASE,
                                               updated_by="t", version=1))
            waiting = ret is not None and ret[0] == "requested" and due is not None and ret[1] <= due
            expected[rid] = sign_for_overdue(state=state.value, signing=signing_, sign_due_at=due,
                                             signed_at=signed_at, return_waiting=waiting, as_of=as_of)
        found = set(conn.execute(select(T.c.id).where(T.c.id.in_(list(expected)), sign_for_overdue_sql(as_of)))
                    .scalars())
        assert found == {i for i, lapse in expected.items() if lapse}
        tx.rollback()


def test_the_drawn_instants_reach_both_sides_of_the_rule():
    # without this the property above could pass comparing empty sets
    assert sign_for_overdue(state="received", signing="unsigned", sign_due_at=BASE, signed_at=None,
                            return_waiting=False, as_of=BASE + timedelta(hours=12))
    assert not sign_for_overdue(state="received", signing="unsigned", sign_due_at=BASE, signed_at=None,
                                return_waiting=False, as_of=BASE)
