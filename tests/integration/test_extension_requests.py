"""延期 as a request and a decision, on SQLite and PostgreSQL (statemachine/charts/extension.py)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from models.tables import AuditRecord, Clue, Lapse
from services.campaigns.load import campaign_id
from services.clues import extensions as ext
from services.ladder import sweep
from statemachine.errors import GuardRefused, InvalidInput, NotFound, PermissionDenied

from ..conftest import at
from .test_clue_services import _substantiated  # deadline 2023-04-30

L, T, A = Lapse.__table__, Clue.__table__, AuditRecord.__table__


def _deadline(engine, number):
    with engine.connect() as conn:
        return conn.execute(select(T.c.deadline).where(T.c.number == number)).scalar_one()


def _rectify_lapses(engine, campaign, calendar, as_of):
    cid = campaign_id(engine, campaign)
    params = sweep.parameters(engine, cid, as_of, calendar)
    sweep.run_step(engine, "rectify_overdue", campaign_id=cid, as_of=as_of, run_key=f"r{as_of:%m%d}",
                   params=params)
    with engine.connect() as conn:
        return conn.execute(select(L.c.subject, L.c.due_at).where(L.c.kind == "rectify_overdue")).all()


# (who asks, when, until) → the refusal, or None when the request is recorded
REQUESTS = [
    ("off.a", "2023-04-20", date(2023, 5, 15), None),
    ("sup.city", "2023-04-20", date(2023, 5, 15), None),                 # on the unit's behalf
    ("off.b", "2023-04-20", date(2023, 5, 15), PermissionDenied),        # another unit
    ("off.a", "2023-05-02", date(2023, 5, 15), GuardRefused),            # after the deadline
    ("off.a", "2023-04-20", date(2023, 4, 30), GuardRefused),            # not later
    ("off.a", "2023-04-20", date(2023, 9, 30), GuardRefused),            # beyond the plan's limit
]


@pytest.mark.parametrize("actor,when,until,refused", REQUESTS)
def test_a_unit_asks_before_its_deadline(engine, campaign, calendar, actor, when, until, refused):
    n = _substantiated(engine, campaign, calendar)
    if refused is None:
        v = ext.request_extension(engine, campaign, n, until=until, reason="汛期施工受阻", actor=actor,
                                  now=at(when), calendar=calendar)
        assert (v.state, v.asked, v.previous) == ("requested", until, date(2023, 4, 30))
        with pytest.raises(InvalidInput, match="waits for a decision"):  # one at a time
            ext.request_extension(engine, campaign, n, until=until, reason="再次申请", actor=actor,
                                  now=at(when), calendar=calendar)
    else:
        with pytest.raises(refused):
            ext.request_extension(engine, campaign, n, until=until, reason="汛期施工受阻", actor=actor,
                                  now=at(when), calendar=calendar)
        with pytest.raises(NotFound):  # nothing was recorded
            ext.refuse_extension(engine, campaign, n, actor="sup.city", now=at(when), reason="x")
    assert _deadline(engine, n) == date(2023, 4, 30)  # asking never moves it


# (who decides, trigger, until granted) → the refusal, or the deadline after it
DECISIONS = [
    ("sup.city", "approve", None, date(2023, 5, 15)),
    ("sup.city", "approve", date(2023, 5, 10), date(2023, 5, 10)),   # a shorter date than asked
    ("sup.city", "approve", date(2023, 5, 20), GuardRefused),        # later than asked
    ("sup.city", "approve", date(2023, 4, 30), GuardRefused),        # not later than the deadline
    ("sup.a", "approve", None, PermissionDenied),                    # the unit's own supervisor
    ("off.a", "approve", None, PermissionDenied),                    # the unit itself
    ("sup.city", "refuse", None, date(2023, 4, 30)),
    ("sup.a", "refuse", None, PermissionDenied),
]


@pytest.mark.parametrize("actor,trigger,until,outcome", DECISIONS)
def test_the_level_above_decides(engine, campaign, calendar, actor, trigger, until, outcome):
    n = _substantiated(engine, campaign, calendar)
    ext.request_extension(engine, campaign, n, until=date(2023, 5, 15), reason="汛期施工受阻", actor="off.a",
                          now=at("2023-04-20"), calendar=calendar)

    def decide():
        if trigger == "approve":
            return ext.approve_extension(engine, campaign, n, actor=actor, now=at("2023-04-25"), until=until,
                                         calendar=calendar)
        return ext.refuse_extension(engine, campaign, n, actor=actor, now=at("2023-04-25"), reason="理由不充分")

    if isinstance(outcome, type):
        with pytest.raises(outcome):
            decide()
        assert _deadline(engine, n) == date(2023, 4, 30)
        return
    v = decide()
    assert v.state == ("approved" if trigger == "approve" else "refused")
    assert _deadline(engine, n) == outcome
    with pytest.raises(NotFound):  # decided once
        ext.refuse_extension(engine, campaign, n, actor="sup.city", now=at("2023-04-26"), reason="再议")
    with engine.connect() as conn:
        steps = [r.trigger for r in conn.execute(select(A.c.trigger).where(A.c.entity.in_(["extension", "clue"]))
                                                 .order_by(A.c.id))]
    assert steps[-2:] == (["approve", "extend"] if trigger == "approve" else ["request_extension", "refuse"])


def test_refusing_needs_a_reason_and_the_plan_limits_how_many(engine, campaign, calendar):
    n = _substantiated(engine, campaign, calendar)
    ext.request_extension(engine, campaign, n, until=date(2023, 5, 15), reason="汛期", actor="off.a",
                          now=at("2023-04-20"), calendar=calendar)
    with pytest.raises(GuardRefused, match="reason"):
        ext.refuse_extension(engine, campaign, n, actor="sup.city", now=at("2023-04-21"), reason=None)
    ext.approve_extension(engine, campaign, n, actor="sup.city", now=at("2023-04-21"), calendar=calendar)
    with pytest.raises(GuardRefused, match="allows 1 extension"):  # the small plan's default: one
        ext.request_extension(engine, campaign, n, until=date(2023, 5, 30), reason="再延", actor="off.a",
                              now=at("2023-05-10"), calendar=calendar)


def test_no_lapse_for_the_old_deadline_while_a_timely_request_waits_or_once_approved(engine, campaign, calendar):
    n = _substantiated(engine, campaign, calendar)
    ext.request_extension(engine, campaign, n, until=date(2023, 5, 15), reason="汛期", actor="off.a",
                          now=at("2023-04-28"), calendar=calendar)
    assert _rectify_lapses(engine, campaign, calendar, at("2023-05-04")) == []   # waiting
    ext.approve_extension(engine, campaign, n, actor="sup.city", now=at("2023-05-05"), calendar=calendar)
    assert _deadline(engine, n) == date(2023, 5, 15)  # asked in time: granted after the old deadline
    assert _rectify_lapses(engine, campaign, calendar, at("2023-05-10")) == []
    assert [s for s, _ in _rectify_lapses(engine, campaign, calendar, at("2023-05-16"))] == [n]


def test_a_refused_request_leaves_the_old_deadline_overdue(engine, campaign, calendar):
    n = _substantiated(engine, campaign, calendar)
    ext.request_extension(engine, campaign, n, until=date(2023, 5, 15), reason="汛期", actor="off.a",
                          now=at("2023-04-28"), calendar=calendar)
    ext.refuse_extension(engine, campaign, n, actor="sup.city", now=at("2023-05-04"), reason="理由不充分")
    assert [s for s, _ in _rectify_lapses(engine, campaign, calendar, at("2023-05-04 12:00"))] == [n]


def test_a_request_on_a_clue_not_being_rectified_is_refused(engine, campaign, calendar):
    from .test_clue_services import _add

    n = _add(engine, campaign, calendar)
    with pytest.raises(GuardRefused, match="rectifying"):
        ext.request_extension(engine, campaign, n, until=date(2023, 5, 15), reason="汛期", actor="off.a",
                              now=at("2023-04-20"), calendar=calendar)


@pytest.mark.parametrize("first", ["request", "direct"])
def test_a_direct_extend_counts_against_the_plan_limit_like_an_approved_request(engine, campaign, calendar, first):
    from services.clues import lifecycle as clues

    n = _substantiated(engine, campaign, calendar)
    if first == "request":
        ext.request_extension(engine, campaign, n, until=date(2023, 5, 15), reason="汛期", actor="off.a",
                              now=at("2023-04-20"), calendar=calendar)
        ext.approve_extension(engine, campaign, n, actor="sup.city", now=at("2023-04-21"), calendar=calendar)
    else:
        clues.transition(engine, campaign, n, "extend", actor="sup.city", now=at("2023-04-21"),
                         data=clues.ClueInput(reason="汛期", deadline=date(2023, 5, 15)), calendar=calendar)
    # the small plan allows one: a second, by either path, is refused and moves nothing
    with pytest.raises(GuardRefused, match="allows 1 extension"):
        clues.transition(engine, campaign, n, "extend", actor="sup.city", now=at("2023-05-08"),
                         data=clues.ClueInput(reason="再延", deadline=date(2023, 5, 30)), calendar=calendar)
    with pytest.raises(GuardRefused, match="allows 1 extension"):
        ext.request_extension(engine, campaign, n, until=date(2023, 5, 30), reason="再延", actor="off.a",
                              now=at("2023-05-08"), calendar=calendar)
    r = clues.bulk_transition(engine, campaign, "extend", actor="sup.city", now=at("2023-05-08"), numbers=[n],
                              data=clues.ClueInput(reason="再延", deadline=date(2023, 5, 30)), calendar=calendar)
    assert (r.moved, r.skipped) == ([], 1)
    assert _deadline(engine, n) == date(2023, 5, 15)


def test_a_direct_extend_within_the_limit_moves_the_deadline_in_bulk_too(engine, campaign, calendar):
    from services.clues import lifecycle as clues

    n = _substantiated(engine, campaign, calendar)
    r = clues.bulk_transition(engine, campaign, "extend", actor="sup.city", now=at("2023-04-21"), numbers=[n],
                              data=clues.ClueInput(reason="汛期", deadline=date(2023, 5, 15)), calendar=calendar)
    assert [m[0] for m in r.moved] == [n] and _deadline(engine, n) == date(2023, 5, 15)
