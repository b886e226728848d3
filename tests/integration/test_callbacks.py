"""回访 and 重办 on SQLite and PostgreSQL (services/clues/callbacks.py): owed after 销号 of an item
with a reporter's contact, made by the supervising level, a lapse of that level when late
(found by the sweep once), and 不满意 with the unit at fault sends the item back."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import insert, select

from models.tables import Clue, ClueCallback, Lapse, Unit
from services.campaigns.load import campaign_id
from services.clues import lifecycle as clues
from services.clues.callbacks import call_back, callback_overdue_sql, redo
from services.clues.record import item_record
from services.ladder import sweep
from statemachine.charts.callback import CallbackState, callback_overdue
from statemachine.charts.clue import ClueState
from statemachine.errors import GuardRefused, InvalidInput, PermissionDenied

from ..conftest import at
from .test_merging import _item, _to

T, CB, L, U = Clue.__table__, ClueCallback.__table__, Lapse.__table__, Unit.__table__
CLOSED_ON = at("2023-03-24")  # _to's fourth step: 销号 on Friday 2023-03-24


def _closed(engine, calendar, *, phone="13800000101", ref="GD-001"):
    return _to(engine, calendar, _item(engine, calendar, ref=ref, name="韩雪松", phone=phone), "closed")


def test_a_callback_falls_due_after_the_close_by_the_plans_working_days(engine, campaign, calendar):
    n = _closed(engine, calendar)
    r = item_record(engine, campaign, n)
    # the small plan keeps the default of 3 working days: Mon 27, Tue 28, Wed 29 March
    assert (r.callback, r.callback_due_at) == ("owed", at("2023-03-29 23:59:59.999999"))
    anonymous = _to(engine, calendar, _item(engine, calendar), "closed")  # no contact: nobody to call
    assert item_record(engine, campaign, anonymous).callback == "none"


# (who calls, result, unit at fault) → the refusal, or the callback state after it
CALLBACKS = [
    ("sup.city", "满意", False, "made"),
    ("sup.city", "basically_satisfied", False, "made"),
    ("sup.city", "未联系上", False, "made"),                 # tried: counts as made
    ("sup.city", "不满意", False, "made"),
    ("sup.city", "不满意", True, "at_fault"),
    ("sup.city", "满意", True, GuardRefused),                # at fault only where dissatisfied
    ("sup.city", "很好", False, InvalidInput),               # no such result
    ("sup.a", "满意", False, PermissionDenied),              # the unit's own supervisor
    ("off.a", "满意", False, PermissionDenied),              # the unit itself
]


@pytest.mark.parametrize("actor,result,at_fault,outcome", CALLBACKS)
def test_the_supervising_level_records_the_callback(engine, campaign, calendar, actor, result, at_fault, outcome):
    n = _closed(engine, calendar)
    if isinstance(outcome, type):
        with pytest.raises(outcome):
            call_back(engine, campaign, n, result=result, unit_at_fault=at_fault, actor=actor, now=at("2023-03-27"))
        assert item_record(engine, campaign, n).callback == "owed" and item_record(engine, campaign, n).callbacks == []
        return
    v = call_back(engine, campaign, n, result=result, note="反映人表示", unit_at_fault=at_fault, actor=actor,
                  now=at("2023-03-27"))
    r = item_record(engine, campaign, n)
    assert r.callback == outcome and v.on_time
    assert [(b.result, b.unit_at_fault, b.by, b.on_time, b.redo) for b in r.callbacks] == \
        [(v.result, at_fault, "sup.city", True, False)]
    with engine.connect() as conn:  # owed by the level above the item's unit
        assert conn.execute(select(U.c.code).join(CB, CB.c.owed_by_unit_id == U.c.id)).scalar_one() == "city"
    with pytest.raises(GuardRefused, match="made already"):  # once per close
        call_back(engine, campaign, n, result="满意", actor="sup.city", now=at("2023-03-28"))


def test_no_callback_is_owed_by_an_open_or_anonymous_item(engine, campaign, calendar):
    for n in (_to(engine, calendar, _item(engine, calendar, phone="13800000101"), "rectified"),
              _to(engine, calendar, _item(engine, calendar), "closed")):
        with pytest.raises(GuardRefused, match="no callback is owed"):
            call_back(engine, campaign, n, result="满意", actor="sup.city", now=at("2023-03-27"))


def test_redo_reopens_after_a_callback_found_the_unit_at_fault(engine, campaign, calendar):
    n = _closed(engine, calendar)
    with pytest.raises(GuardRefused, match="callback_at_fault"):  # no callback found fault yet
        redo(engine, campaign, n, reason="群众不满意", actor="sup.city", now=at("2023-03-27"), calendar=calendar)
    call_back(engine, campaign, n, result="不满意", unit_at_fault=True, actor="sup.city", now=at("2023-03-27"))
    with pytest.raises(GuardRefused, match="has_redo_callback"):  # never by the generic transition
        clues.transition(engine, campaign, n, "redo", actor="sup.city", now=at("2023-03-27"),
                         data=clues.ClueInput(reason="x", deadline=date(2023, 5, 1)), calendar=calendar)
    with pytest.raises(PermissionDenied):
        redo(engine, campaign, n, reason="群众不满意", actor="sup.a", now=at("2023-03-27"), calendar=calendar)
    v = redo(engine, campaign, n, reason="群众不满意", actor="sup.city", now=at("2023-03-27"), calendar=calendar)
    # the plan's 90 working days from Monday 2023-03-27 (the deadline arithmetic's own limit)
    assert v.state == "rectifying" and v.deadline == calendar.add_working_days(date(2023, 3, 27), 90)
    r = item_record(engine, campaign, n)
    assert r.callback == "none" and [b.redo for b in r.callbacks] == [True]
    assert clues.get_clue(engine, campaign, n).history[-1]["trigger"] == "redo"
    # closed again: owed again, and a second redo needs a second callback at fault
    clues.transition(engine, campaign, n, "submit_evidence", actor="off.a", now=at("2023-04-03"),
                     data=clues.ClueInput(evidence="重办报告.pdf"))
    clues.transition(engine, campaign, n, "approve", actor="sup.city", now=at("2023-04-04"), calendar=calendar)
    assert item_record(engine, campaign, n).callback == "owed"


def _sweep(engine, campaign, calendar, as_of, key):
    cid = campaign_id(engine, campaign)
    params = sweep.parameters(engine, cid, as_of, calendar)
    return sweep.run_step(engine, "callback_overdue", campaign_id=cid, as_of=as_of, run_key=key, params=params)


def test_a_late_callback_is_the_supervising_levels_lapse_once(engine, campaign, calendar):
    late, made = _closed(engine, calendar), _closed(engine, calendar, phone="13800000103", ref="GD-003")
    call_back(engine, campaign, made, result="满意", actor="sup.city", now=at("2023-03-28"))
    assert _sweep(engine, campaign, calendar, at("2023-03-29 23:00"), "r1") == 0  # not yet due
    assert _sweep(engine, campaign, calendar, at("2023-03-30 08:00"), "r2") == 1
    assert _sweep(engine, campaign, calendar, at("2023-03-30 08:00"), "r3") == 0  # the same run again
    assert _sweep(engine, campaign, calendar, at("2023-04-05 08:00"), "r4") == 0  # and later
    with engine.connect() as conn:
        rows = conn.execute(select(L.c.kind, L.c.subject, U.c.code, L.c.due_at)
                            .join(U, U.c.id == L.c.unit_id)).all()
    assert [tuple(r) for r in rows] == [("callback_overdue", late, "city", at("2023-03-29 23:59:59.999999"))]
    # made late, it is recorded as late; the lapse stays
    v = call_back(engine, campaign, late, result="满意", actor="sup.city", now=at("2023-04-05"))
    assert not v.on_time and _sweep(engine, campaign, calendar, at("2023-04-06 08:00"), "r5") == 0


_n = iter(range(10 ** 6))
instant = st.integers(min_value=-20, max_value=20).map(lambda h: at("2023-05-01") + timedelta(hours=h * 12))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(list(ClueState)), st.sampled_from(list(CallbackState)),
                               st.one_of(st.none(), instant)), min_size=1, max_size=10), as_of=instant)
def test_the_callback_rule_in_python_and_in_sql_agree(engine, campaign, rows, as_of):
    cid = campaign_id(engine, campaign)
    with engine.connect() as conn, conn.begin() as tx:
        unit = conn.execute(select(U.c.id).where(U.c.code == "county-a")).scalar_one()
        expected = {}
        for state, cb, due in rows:
            rid = conn.execute(insert(T).values(
                campaign_id=cid, number=f"CB-{next(_n):06d}", kind="clue", channel="12345", aspect_key="profit",
                summary="s", unit_id=unit, state=state.value, received_at=at("2023-04-01"),
                verify_due_at=at("2023-04-10"), reopen_count=0, reject_count=0, callback=cb.value,
                callback_due_at=due, updated_at=at("2023-04-01"), updated_by="t", version=1)
                .returning(T.c.id)).scalar_one()
            expected[rid] = callback_overdue(state=state.value, callback=cb.value, callback_due_at=due, as_of=as_of)
        found = set(conn.execute(select(T.c.id).where(T.c.id.in_(list(expected)),
                                                       callback_overdue_sql(as_of))).scalars())
        assert found == {i for i, late in expected.items() if late}
        tx.rollback()
