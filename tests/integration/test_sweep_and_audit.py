"""The deadline sweep's set-based steps fire once per natural key, and the
audit log is append-only and tamper-evident (SQLite and PostgreSQL).

The sweep is called step by step through services.ladder.sweep.run_step (no Prefect).
"""
from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from models.tables import AuditRecord, Clue, Lapse, Unit
from services.campaigns import units
from services.campaigns.load import campaign_id
from services.clues import lifecycle as clues
from services.core.audit import verify
from services.ladder import sweep
from statemachine.time.calendar import WorkingCalendar, end_of_day

from ..conftest import at

A, L, T, U = AuditRecord.__table__, Lapse.__table__, Clue.__table__, Unit.__table__


_runs = itertools.count()


def run_all(engine, cid, as_of) -> dict[str, int]:
    """One sweep at `as_of`: every step in order; how many lapses each added.

    Counted from the lapses table (each run has its own run_key), not from
    run_step's return value: see test_run_step_reports_how_many_lapses_were_new.
    """
    key = f"test-run-{next(_runs)}"
    params = sweep.parameters(engine, cid, as_of, WorkingCalendar())
    for step in sweep.STEPS:
        sweep.run_step(engine, step, campaign_id=cid, as_of=as_of, run_key=key, params=params)
    with engine.connect() as conn:
        new = dict(conn.execute(select(L.c.kind, func.count()).where(L.c.run_key == key)
                                .group_by(L.c.kind)).all())
    return {step: new.get(step, 0) for step in sweep.STEPS}


def lapses(engine, kind: str | None = None) -> list[dict]:
    q = select(L, U.c.code.label("unit")).join(U, U.c.id == L.c.unit_id).order_by(L.c.id)
    if kind:
        q = q.where(L.c.kind == kind)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


@pytest.fixture
def cid(engine, campaign) -> int:
    return campaign_id(engine, campaign)


def _add(engine, campaign, calendar, unit="county-a", when="2023-03-20"):
    item = clues.NewClue(channel="12345", aspect="profit", summary="罚款不开票", unit=unit)
    return clues.add_clues(engine, campaign, [item], actor="sup.city", now=at(when),
                           calendar=calendar)[0]


def _fire(engine, campaign, n, trigger, when, **data):
    actor = "sup.city" if trigger in ("approve", "reject", "transfer", "reopen") else "off.a"
    return clues.transition(engine, campaign, n, trigger, actor=actor, now=at(when),
                            data=clues.ClueInput(**data))


def _rectifying(engine, campaign, calendar, deadline=date(2023, 4, 30)):
    n = _add(engine, campaign, calendar)
    _fire(engine, campaign, n, "verify", "2023-03-21")
    _fire(engine, campaign, n, "substantiate", "2023-03-22", measures="退还罚款", deadline=deadline,
          owner="赵书涵")
    return n


# -- stage deadlines -----------------------------------------------------------------
@pytest.mark.parametrize("as_of", ["2023-04-07 23:00", "2023-04-07 23:59:59"])
def test_no_stage_lapse_before_the_stage_day_has_ended(engine, cid, as_of):
    assert run_all(engine, cid, at(as_of)) == dict.fromkeys(sweep.STEPS, 0)
    assert lapses(engine) == []


def test_a_unit_still_in_deploy_after_its_last_day_lapses_exactly_once(engine, campaign, cid):
    units.record_deliverable(engine, campaign, "county-b", "impl_plan", attachment="方案.pdf",
                             actor="off.b", now=at("2023-04-05"))
    units.advance(engine, campaign, "county-b", actor="off.b", now=at("2023-04-05"))
    assert run_all(engine, cid, at("2023-04-08 00:00"))["stage_deadline"] == 2
    found = lapses(engine, "stage_deadline")
    assert sorted(r["unit"] for r in found) == ["county-a", "town-c1"]
    for r in found:
        assert r["subject"] == "deploy" and r["key"] == f"stage:{r['unit_id']}:deploy"
        assert r["due_at"] == end_of_day(date(2023, 4, 7))
        assert r["detected_at"] == at("2023-04-08 00:00")


def test_a_second_sweep_at_the_same_instant_or_later_adds_no_stage_lapse(engine, cid):
    assert run_all(engine, cid, at("2023-04-08 00:00"))["stage_deadline"] == 3
    assert run_all(engine, cid, at("2023-04-08 00:00")) == dict.fromkeys(sweep.STEPS, 0)
    assert run_all(engine, cid, at("2023-06-01")) == dict.fromkeys(sweep.STEPS, 0)
    assert len(lapses(engine, "stage_deadline")) == 3


def test_the_next_stage_lapses_on_its_own_key_and_an_ongoing_stage_never(engine, campaign, cid):
    for key in ("impl_plan", "self_report", "problem_list"):
        units.record_deliverable(engine, campaign, "county-b", key, attachment=f"{key}.pdf",
                                 actor="off.b", now=at("2023-04-01"),
                                 stage="deploy" if key == "impl_plan" else "self_check")
    units.advance(engine, campaign, "county-b", actor="off.b", now=at("2023-04-02"))
    assert run_all(engine, cid, at("2023-05-11"))["stage_deadline"] == 3  # a, c1 deploy; b self_check
    assert {(r["unit"], r["subject"]) for r in lapses(engine)} == \
        {("county-a", "deploy"), ("town-c1", "deploy"), ("county-b", "self_check")}
    units.advance(engine, campaign, "county-b", actor="off.b", now=at("2023-05-12"))  # → summary
    assert run_all(engine, cid, at("2023-12-31")) == dict.fromkeys(sweep.STEPS, 0)


def test_run_step_reports_how_many_lapses_were_new(engine, cid):
    params = sweep.parameters(engine, cid, at("2023-04-08"), WorkingCalendar())
    found = {step: sweep.run_step(engine, step, campaign_id=cid, as_of=at("2023-04-08"), run_key="r1",
                                  params=params) for step in sweep.STEPS}
    again = {step: sweep.run_step(engine, step, campaign_id=cid, as_of=at("2023-04-08"), run_key="r2",
                                  params=params) for step in sweep.STEPS}
    assert found == dict.fromkeys(sweep.STEPS, 0) | {"stage_deadline": 3}
    assert again == dict.fromkeys(sweep.STEPS, 0)


def test_a_scheduled_fire_time_is_claimed_exactly_once(engine, campaign):
    from services.campaigns.firings import claim, holder_of

    when = at("2023-04-08 02:00")
    first = claim(engine, job="sweep:smoke-2023", scheduled=when, holder="host-1", now=when)
    second = claim(engine, job="sweep:smoke-2023", scheduled=when, holder="host-2", now=when)
    assert (first, second) == (True, False)
    assert holder_of(engine, job="sweep:smoke-2023", scheduled=when) == "host-1"


# -- clue deadlines ------------------------------------------------------------------
def test_an_unverified_clue_past_its_verification_due_lapses_once(engine, campaign, calendar, cid):
    n = _add(engine, campaign, calendar)
    due = clues.get_clue(engine, campaign, n).verify_due_at
    assert run_all(engine, cid, due)["verify_overdue"] == 0
    assert run_all(engine, cid, due + timedelta(seconds=1))["verify_overdue"] == 1
    assert run_all(engine, cid, due + timedelta(seconds=1))["verify_overdue"] == 0
    assert run_all(engine, cid, due + timedelta(days=30))["verify_overdue"] == 0
    [lapse] = lapses(engine, "verify_overdue")
    assert (lapse["subject"], lapse["unit"], lapse["due_at"]) == (n, "county-a", due)


def test_a_clue_still_being_verified_lapses_but_a_substantiated_one_does_not(engine, campaign,
                                                                             calendar, cid):
    verifying = _add(engine, campaign, calendar)
    _fire(engine, campaign, verifying, "verify", "2023-03-21")
    done = _rectifying(engine, campaign, calendar, deadline=date(2023, 7, 31))
    due = clues.get_clue(engine, campaign, done).verify_due_at
    run_all(engine, cid, due + timedelta(days=1))
    assert [r["subject"] for r in lapses(engine, "verify_overdue")] == [verifying]


def test_a_rectifying_clue_past_its_deadline_lapses_once(engine, campaign, calendar, cid):
    n = _rectifying(engine, campaign, calendar)
    assert run_all(engine, cid, at("2023-04-30 23:00"))["rectify_overdue"] == 0
    assert run_all(engine, cid, at("2023-05-01 00:00"))["rectify_overdue"] == 1
    assert run_all(engine, cid, at("2023-05-01 00:00"))["rectify_overdue"] == 0
    assert run_all(engine, cid, at("2023-07-01"))["rectify_overdue"] == 0
    [lapse] = lapses(engine, "rectify_overdue")
    clue_id = lapse["clue_id"]
    assert (lapse["subject"], lapse["key"]) == (n, f"rectify:{clue_id}:0")
    assert lapse["due_at"] == end_of_day(date(2023, 4, 30))


def test_a_reopened_clue_can_lapse_again_once_on_its_new_deadline(engine, campaign, calendar, cid):
    n = _rectifying(engine, campaign, calendar)
    assert run_all(engine, cid, at("2023-05-01"))["rectify_overdue"] == 1
    _fire(engine, campaign, n, "submit_evidence", "2023-05-02", evidence="整改报告.pdf")
    _fire(engine, campaign, n, "approve", "2023-05-03")
    _fire(engine, campaign, n, "reopen", "2023-05-10", reason="回头看发现反弹",
          deadline=date(2023, 5, 31))
    assert run_all(engine, cid, at("2023-05-20"))["rectify_overdue"] == 0
    assert run_all(engine, cid, at("2023-06-01"))["rectify_overdue"] == 1
    assert run_all(engine, cid, at("2023-06-01"))["rectify_overdue"] == 0
    found = lapses(engine, "rectify_overdue")
    assert [r["key"].rsplit(":", 1)[1] for r in found] == ["0", "1"]
    assert found[1]["due_at"] == end_of_day(date(2023, 5, 31))


@pytest.mark.parametrize("path", [
    ["submit_evidence"],                              # rectified
    ["defer"],                                        # long_term
    ["submit_evidence", "approve"],                   # closed (销号)
    ["transfer"],                                     # transferred
], ids=["rectified", "long_term", "closed-approved", "transferred"])
def test_settled_clues_never_lapse(engine, campaign, calendar, cid, path):
    n = _rectifying(engine, campaign, calendar)
    inputs = {"submit_evidence": dict(evidence="x.pdf"), "approve": {}, "transfer": dict(reason="违纪"),
              "defer": dict(stage_result="阶段成效", long_term_measure="长效机制")}
    for i, trigger in enumerate(path):
        _fire(engine, campaign, n, trigger, f"2023-04-1{i}", **inputs[trigger])
    run_all(engine, cid, at("2023-12-31"))
    assert [r for r in lapses(engine) if r["clue_id"] is not None] == []


def test_a_dismissed_clue_never_lapses(engine, campaign, calendar, cid):
    n = _add(engine, campaign, calendar)
    _fire(engine, campaign, n, "verify", "2023-03-21")
    _fire(engine, campaign, n, "dismiss", "2023-03-22", reason="查无实据")
    run_all(engine, cid, at("2023-12-31"))
    assert [r for r in lapses(engine) if r["clue_id"] is not None] == []


# -- the audit log -------------------------------------------------------------------
def _unguard(conn, verb: str) -> None:
    """What an attacker with DDL rights does first: switch the append-only trigger off."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
    else:
        conn.execute(text(f"DROP TRIGGER audit_log_no_{verb}"))


def _some_history(engine, campaign, calendar) -> None:
    n = _add(engine, campaign, calendar)
    _fire(engine, campaign, n, "verify", "2023-03-21")
    _fire(engine, campaign, n, "dismiss", "2023-03-22", reason="查无实据")


def _seqs(engine, cid) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(select(A.c.seq).where(A.c.campaign_id == cid).order_by(A.c.seq))
                    .scalars())


def test_an_untouched_log_verifies(engine, campaign, calendar, cid):
    _some_history(engine, campaign, calendar)
    result = verify(engine, cid)
    assert result.ok and result.records == 7 and result.broken_at is None  # load, 3 enrolls, 3 clue


@pytest.mark.parametrize("seq", [1, 5, 7])
def test_an_altered_row_breaks_the_chain_at_that_row(engine, campaign, calendar, cid, seq):
    _some_history(engine, campaign, calendar)
    with engine.begin() as conn:
        _unguard(conn, "update")
        conn.execute(text("UPDATE audit_log SET reason = '篡改' WHERE campaign_id = :c AND seq = :s"),
                     {"c": cid, "s": seq})
    result = verify(engine, cid)
    assert not result.ok and result.broken_at == seq and "altered" in result.why


def test_an_altered_row_with_a_recomputed_hash_breaks_the_chain_at_the_next_row(engine, campaign,
                                                                                 calendar, cid):
    from statemachine.audit import record_hash

    _some_history(engine, campaign, calendar)
    with engine.begin() as conn:
        _unguard(conn, "update")
        row = dict(conn.execute(select(A).where(A.c.campaign_id == cid, A.c.seq == 5)).one()._mapping)
        row["actor"] = "someone.else"
        conn.execute(text("UPDATE audit_log SET actor = :a, hash = :h WHERE campaign_id = :c AND seq = 5"),
                     {"a": row["actor"], "h": record_hash(row["prev_hash"], row), "c": cid})
    result = verify(engine, cid)
    assert result.broken_at == 6 and "prev_hash" in result.why


def test_deleting_the_last_row_is_detected(engine, campaign, calendar, cid):
    _some_history(engine, campaign, calendar)
    last = _seqs(engine, cid)[-1]
    with engine.begin() as conn:
        _unguard(conn, "delete")
        conn.execute(text("DELETE FROM audit_log WHERE campaign_id = :c AND seq = :s"),
                     {"c": cid, "s": last})
    result = verify(engine, cid)
    assert not result.ok and result.broken_at == last and "deleted" in result.why


def test_deleting_a_row_in_the_middle_is_detected_as_a_gap(engine, campaign, calendar, cid):
    _some_history(engine, campaign, calendar)
    with engine.begin() as conn:
        _unguard(conn, "delete")
        conn.execute(text("DELETE FROM audit_log WHERE campaign_id = :c AND seq = 3"), {"c": cid})
    result = verify(engine, cid)
    assert result.broken_at == 4 and "gap" in result.why


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET reason = '篡改' WHERE campaign_id = :c AND seq = 2",
    "DELETE FROM audit_log WHERE campaign_id = :c AND seq = 2",
    "DELETE FROM audit_log WHERE campaign_id = :c",
], ids=["update", "delete-one", "delete-all"])
def test_the_database_refuses_to_change_the_audit_log(engine, campaign, calendar, cid, statement):
    _some_history(engine, campaign, calendar)
    before = _seqs(engine, cid)
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text(statement), {"c": cid})
    assert _seqs(engine, cid) == before
    assert verify(engine, cid).ok
