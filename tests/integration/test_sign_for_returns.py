"""签收 and 退单 / 改派, on SQLite and PostgreSQL (statemachine/charts/signing.py, returns.py):
who may take each step and when, what a reassignment restarts, and the sweep's sign-for
lapses with the liaison's reminder, each found once."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from models.tables import Clue, ClueReturn, Lapse, OutboxMessage, Unit
from services.campaigns.load import campaign_id, load_plan
from services.campaigns.plans import read_plan
from services.clues import lifecycle as clues
from services.clues import returns, signing
from services.clues.reminders import remind_unsigned
from services.ladder import sweep
from statemachine.errors import GuardRefused, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from statemachine.time.calendar import WorkingCalendar
from statemachine.time.deadlines import assignment_clock
from statemachine.time.spans import parse_span

from ..conftest import SMALL_PLAN, at

T, CR, L, O, U = Clue.__table__, ClueReturn.__table__, Lapse.__table__, OutboxMessage.__table__, Unit.__table__
LIAISON = "liaison.a@example.test"


def signing_plan(tmp_path) -> str:
    """The small plan asking for 签收 within 1 working day and allowing 退单 within 2, with a
    liaison (fictional) for 甲县."""
    text = SMALL_PLAN.read_text(encoding="utf-8")
    text = text.replace("clues: {rectify_within_working_days: 90}",
                        "clues: {rectify_within_working_days: 90, sign_for: 1 working day, "
                        "return_window: 2 working days}")
    text = text.replace("{code: county-a, name: 甲县, level: county, parent: city}",
                        "{code: county-a, name: 甲县, level: county, parent: city, "
                        f"liaison: {{name: 赵书涵, email: {LIAISON}}}}}")
    text = text.replace("code: smoke-2023", "code: sign-2023", 1)  # beside the small plan's own campaign
    assert "sign_for" in text and LIAISON in text and "sign-2023" in text
    path = tmp_path / "signing-plan.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def signed_campaign(engine, tmp_path) -> str:
    path = signing_plan(tmp_path)
    plan = read_plan(path)
    load_plan(engine, plan, source=path, now=at("2023-03-15"))
    return plan.campaign.code


def _received(engine, campaign, calendar, when="2023-03-20", unit="county-a") -> str:
    item = clues.NewClue(channel="12345", aspect="profit", summary="路政执法只罚款不开票", unit=unit)
    return clues.add_clues(engine, campaign, [item], actor="sup.city", now=at(when), calendar=calendar)[0]


def _row(engine, number, campaign="sign-2023"):
    with engine.connect() as conn:
        return conn.execute(select(T, U.c.code.label("unit_code")).join(U, U.c.id == T.c.unit_id)
                            .where(T.c.number == number, T.c.campaign_id == campaign_id(engine, campaign))).one()


# -- 签收 -------------------------------------------------------------------------------------
# (who signs) → the refusal, or None when it is signed
SIGNERS = [
    ("off.a", None),
    ("sup.a", None),                   # a supervisor of the unit itself is a member of it
    ("sup.city", PermissionDenied),     # the level above does not sign in the unit's name
    ("off.b", PermissionDenied),        # another unit
    ("off.c1", PermissionDenied),       # a unit below
]


@pytest.mark.parametrize("actor,refused", SIGNERS)
def test_only_a_member_of_the_unit_signs_for_an_item(engine, signed_campaign, calendar, actor, refused):
    n = _received(engine, signed_campaign, calendar)
    before = _row(engine, n)
    assert (before.signing, before.signed_at) == ("unsigned", None)
    assert before.sign_due_at == assignment_clock(
        calendar, assigned_at=at("2023-03-20"), verify_working_days=10, sign_for=parse_span("1 working day"),
        return_window=parse_span("2 working days")).sign_due_at
    if refused is None:
        v = signing.sign(engine, signed_campaign, n, actor=actor, now=at("2023-03-21"))
        assert (v.signed_by, v.late) == (actor, False)
        after = _row(engine, n)
        assert (after.signing, after.signed_by, after.version) == ("signed", actor, before.version + 1)
        with pytest.raises(InvalidTransition):  # once
            signing.sign(engine, signed_campaign, n, actor=actor, now=at("2023-03-21"))
        history = clues.get_clue(engine, signed_campaign, n).history
        assert [(h["entity"], h["trigger"], h["actor"]) for h in history][-1] == ("clue_signing", "sign", actor)
    else:
        with pytest.raises(refused):
            signing.sign(engine, signed_campaign, n, actor=actor, now=at("2023-03-21"))
        assert _row(engine, n).signing == "unsigned"


def test_verifying_waits_for_the_signing(engine, signed_campaign, campaign, calendar):
    n = _received(engine, signed_campaign, calendar)
    with pytest.raises(GuardRefused, match="not signed for"):
        clues.transition(engine, signed_campaign, n, "verify", actor="off.a", now=at("2023-03-21"))
    # the set path holds the same row guard: the unsigned item is skipped
    r = clues.bulk_transition(engine, signed_campaign, "verify", actor="off.a", now=at("2023-03-21"), numbers=[n])
    assert (r.moved, r.skipped) == ([], 1)
    signing.sign(engine, signed_campaign, n, actor="off.a", now=at("2023-03-21 10:00"))
    assert clues.transition(engine, signed_campaign, n, "verify", actor="off.a", now=at("2023-03-21 11:00")).state \
        == "verifying"
    # a plan that asks for no signing: its items arrive signed and are verified at once
    m = _received(engine, campaign, calendar)
    assert _row(engine, m, campaign).signing == "signed" and _row(engine, m, campaign).sign_due_at is None
    assert clues.transition(engine, campaign, m, "verify", actor="off.a", now=at("2023-03-21")).state == "verifying"


# -- 退单 ------------------------------------------------------------------------------------
# (who returns, when) → the refusal, or None when the return is recorded (received 3-20 09:00,
# the window of 2 working days runs to the end of 3-22)
RETURNS = [
    ("off.a", "2023-03-21", None),
    ("sup.a", "2023-03-22 23:00", None),
    ("sup.city", "2023-03-21", PermissionDenied),   # the level above decides, it does not return
    ("off.b", "2023-03-21", PermissionDenied),      # not of the unit
    ("off.a", "2023-03-23", GuardRefused),          # after the window
]


@pytest.mark.parametrize("actor,when,refused", RETURNS)
def test_a_member_of_the_unit_returns_an_item_within_the_window(engine, signed_campaign, calendar, actor, when,
                                                                 refused):
    n = _received(engine, signed_campaign, calendar)
    if refused is None:
        v = returns.return_clue(engine, signed_campaign, n, reason="该路段属乙县管辖", actor=actor, now=at(when),
                                calendar=calendar)
        assert (v.state, v.unit) == ("requested", "甲县")
        with pytest.raises(GuardRefused, match="waits for the level above"):  # one at a time
            returns.return_clue(engine, signed_campaign, n, reason="再次退单", actor=actor, now=at(when),
                                calendar=calendar)
    else:
        with pytest.raises(refused):
            returns.return_clue(engine, signed_campaign, n, reason="该路段属乙县管辖", actor=actor, now=at(when),
                                calendar=calendar)
        with pytest.raises(NotFound):  # nothing was recorded
            returns.refuse_return(engine, signed_campaign, n, reason="x", actor="sup.city", now=at(when),
                                  calendar=calendar)


def test_an_item_being_verified_is_the_units_own(engine, signed_campaign, calendar):
    n = _received(engine, signed_campaign, calendar)
    signing.sign(engine, signed_campaign, n, actor="off.a", now=at("2023-03-20 10:00"))
    clues.transition(engine, signed_campaign, n, "verify", actor="off.a", now=at("2023-03-20 11:00"))
    with pytest.raises(GuardRefused, match="not yet being verified"):
        returns.return_clue(engine, signed_campaign, n, reason="不属本单位", actor="off.a", now=at("2023-03-21"),
                            calendar=calendar)
    with pytest.raises(InvalidInput, match="reason"):
        returns.return_clue(engine, signed_campaign, n, reason=" ", actor="off.a", now=at("2023-03-21"),
                            calendar=calendar)


# (who decides, trigger, to) → the refusal, or the unit that holds the item after it
DECISIONS = [
    ("sup.city", "reassign", "county-b", "county-b"),
    ("sup.city", "reassign", "town-c1", "town-c1"),       # any unit below the supervisor
    ("sup.city", "reassign", "county-a", GuardRefused),   # where it is already
    ("sup.city", "reassign", "city", GuardRefused),       # not below the supervisor
    ("sup.city", "reassign", "nowhere", GuardRefused),
    ("sup.city", "reassign", None, GuardRefused),
    ("sup.a", "reassign", "county-b", PermissionDenied),  # the unit's own supervisor
    ("off.a", "reassign", "county-b", PermissionDenied),
    ("sup.city", "refuse", None, "county-a"),
    ("sup.a", "refuse", None, PermissionDenied),
]


@pytest.mark.parametrize("actor,trigger,to,outcome", DECISIONS)
def test_the_level_above_reassigns_or_refuses(engine, signed_campaign, calendar, actor, trigger, to, outcome):
    n = _received(engine, signed_campaign, calendar)
    returns.return_clue(engine, signed_campaign, n, reason="该路段属乙县管辖", actor="off.a", now=at("2023-03-21"),
                        calendar=calendar)
    before = _row(engine, n)
    now = at("2023-03-22 10:00")

    def decide():
        if trigger == "reassign":
            return returns.reassign(engine, signed_campaign, n, to=to, actor=actor, now=now, calendar=calendar)
        return returns.refuse_return(engine, signed_campaign, n, reason="经核实属你单位职责", actor=actor, now=now,
                                     calendar=calendar)

    if not isinstance(outcome, str):
        with pytest.raises(outcome):
            decide()
        after = _row(engine, n)
        assert (after.unit_code, after.verify_due_at, after.version) == ("county-a", before.verify_due_at,
                                                                         before.version)
        return
    v = decide()
    after = _row(engine, n)
    assert after.unit_code == outcome
    with engine.connect() as conn:
        ret = conn.execute(select(CR).where(CR.c.clue_id == after.id)).one()
    assert (ret.unit_id, ret.requested_at, ret.decided_at) == (before.unit_id, at("2023-03-21"), now)
    if trigger == "reassign":
        clock = assignment_clock(calendar, assigned_at=now, verify_working_days=10,
                                 sign_for=parse_span("1 working day"), return_window=parse_span("2 working days"))
        # the clock restarts at the new unit, which must sign for it
        assert (after.assigned_at, after.verify_due_at, after.sign_due_at) == (now, clock.verify_due_at,
                                                                               clock.sign_due_at)
        assert (after.signing, after.assign_count, ret.state) == ("unsigned", 1, "reassigned")
        assert v.state == "reassigned"
        with pytest.raises(PermissionDenied):  # the old unit no longer signs for it
            signing.sign(engine, signed_campaign, n, actor="off.a", now=now)
    else:
        # the clock never stopped: the verification is due as before; the refusal is on record
        assert (after.verify_due_at, after.assigned_at, ret.state) == (before.verify_due_at, before.assigned_at,
                                                                      "refused")
        assert ret.decision == "经核实属你单位职责"
    trail = [(h["entity"], h["trigger"]) for h in clues.get_clue(engine, signed_campaign, n).history]
    assert ("clue_return", "return") in trail and ("clue_return", trigger) in trail


def test_refusing_needs_a_reason(engine, signed_campaign, calendar):
    n = _received(engine, signed_campaign, calendar)
    returns.return_clue(engine, signed_campaign, n, reason="不属本单位", actor="off.a", now=at("2023-03-21"),
                        calendar=calendar)
    with pytest.raises(GuardRefused, match="reason"):
        returns.refuse_return(engine, signed_campaign, n, reason=None, actor="sup.city", now=at("2023-03-22"),
                              calendar=calendar)


# -- the sweep ---------------------------------------------------------------------------------
def _sweep(engine, campaign, calendar: WorkingCalendar, as_of: datetime, key: str) -> int:
    cid = campaign_id(engine, campaign)
    params = sweep.start_run(engine, campaign_id=cid, as_of=as_of, run_key=key, calendar=calendar)
    new = sweep.run_step(engine, "sign_for_overdue", campaign_id=cid, as_of=as_of, run_key=key, params=params)
    remind_unsigned(engine, campaign_id=cid, run_key=key, now=as_of)
    return new


def _lapses(engine):
    with engine.connect() as conn:
        return sorted(conn.execute(select(L.c.key, L.c.subject, U.c.code).join(U, U.c.id == L.c.unit_id)
                                   .where(L.c.kind == "sign_for_overdue")).tuples().all())


def test_the_sweep_finds_each_late_signing_once_and_reminds_the_liaison(engine, signed_campaign, calendar):
    late, in_time, returned, moved = (_received(engine, signed_campaign, calendar) for _ in range(4))
    signing.sign(engine, signed_campaign, in_time, actor="off.a", now=at("2023-03-21"))
    returns.return_clue(engine, signed_campaign, returned, reason="不属本单位", actor="off.a",
                        now=at("2023-03-21"), calendar=calendar)
    returns.return_clue(engine, signed_campaign, moved, reason="属乙县", actor="off.a", now=at("2023-03-21"),
                        calendar=calendar)
    returns.reassign(engine, signed_campaign, moved, to="county-b", actor="sup.city", now=at("2023-03-21 10:00"),
                     calendar=calendar)
    ids = {n: _row(engine, n).id for n in (late, moved)}
    # due at the end of 3-21: nothing is late on 3-21
    assert _sweep(engine, signed_campaign, calendar, at("2023-03-21 18:00"), "s1") == 0
    assert _sweep(engine, signed_campaign, calendar, at("2023-03-22 12:00"), "s2") == 1
    assert _lapses(engine) == [(f"sign:{ids[late]}:0", late, "county-a")]
    # again, at the same instant and later: nothing new, no second reminder
    assert _sweep(engine, signed_campaign, calendar, at("2023-03-22 12:00"), "s3") == 0
    assert _sweep(engine, signed_campaign, calendar, at("2023-03-24 12:00"), "s4") == 1  # the reassigned one
    assert _lapses(engine)[-1] == (f"sign:{ids[moved]}:1", moved, "county-b")
    # signed late: already a lapse, not a second one
    signing.sign(engine, signed_campaign, late, actor="off.a", now=at("2023-03-24 13:00"))
    assert _sweep(engine, signed_campaign, calendar, at("2023-03-27 12:00"), "s5") == 0
    with engine.connect() as conn:
        sent = conn.execute(select(O.c.key, O.c.recipient, O.c.subject, O.c.body_text)
                            .where(O.c.key.like("remind:%")).order_by(O.c.key)).all()
    to_a = [m for m in sent if late in m.subject]
    assert sorted(m.recipient for m in to_a) == sorted(["county-a", "county-a", LIAISON])  # email, webhook, file
    assert all("未按时签收" in m.body_text and "赵书涵" in m.body_text for m in to_a)
    assert [m for m in sent if moved in m.subject] and all(m.recipient != LIAISON
                                                            for m in sent if moved in m.subject)
    assert len(sent) == len({m.key for m in sent})


# -- what the pages and the API offer (services/core/actions.py) --------------------------------
STEPS = {"sign", "return", "reassign", "refuse_return", "verify"}


def test_the_steps_offered_are_those_that_would_be_taken(engine, signed_campaign, calendar):
    from services.core.actions import ClueItem, allowed_actions
    from services.core.directory import actor as lookup

    n = _received(engine, signed_campaign, calendar)

    def offered(who: str, when: str) -> set[str]:
        with engine.connect() as conn:
            person = lookup(conn, campaign_id(engine, signed_campaign), who)
            return {a.trigger for a in allowed_actions(conn, signed_campaign, person, ClueItem(n), now=at(when))} \
                & STEPS

    assert offered("off.a", "2023-03-21") == {"sign", "return"}          # not verify: unsigned
    assert offered("sup.a", "2023-03-21") == {"sign", "return"}
    assert offered("sup.city", "2023-03-21") == set()                     # the level above waits for a return
    assert offered("off.b", "2023-03-21") == set()
    assert offered("off.a", "2023-03-23") == {"sign"}                     # the return window has closed
    signing.sign(engine, signed_campaign, n, actor="off.a", now=at("2023-03-21"))
    assert offered("off.a", "2023-03-21 10:00") == {"verify", "return"}
    returns.return_clue(engine, signed_campaign, n, reason="不属本单位", actor="off.a", now=at("2023-03-21 11:00"),
                        calendar=calendar)
    assert offered("off.a", "2023-03-21 12:00") == {"verify"}             # one return at a time
    # the level above decides it (and, the item signed, may verify on the unit's behalf: Who.unit)
    assert offered("sup.city", "2023-03-21 12:00") == {"verify", "reassign", "refuse_return"}
    assert offered("sup.a", "2023-03-21 12:00") == {"verify"}            # its own unit's return: not its call
    returns.reassign(engine, signed_campaign, n, to="county-b", actor="sup.city", now=at("2023-03-22"),
                     calendar=calendar)
    assert offered("off.b", "2023-03-22 10:00") == {"sign", "return"}
    assert offered("off.a", "2023-03-22 10:00") == set()
