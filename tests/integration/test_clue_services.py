"""Clue use cases against real SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date

import pytest

from services.campaigns.load import campaign_id
from services.clues import lifecycle as clues
from services.core.audit import verify
from statemachine.errors import ConflictError, GuardRefused, PermissionDenied

from ..conftest import at


def _add(engine, campaign, calendar, unit="county-a", **kw):
    item = clues.NewClue(channel=kw.get("channel", "12345"), aspect="profit",
                         summary=kw.get("summary", "罚款不开票"), unit=unit)
    return clues.add_clues(engine, campaign, [item], actor="sup.city", now=at("2023-03-20"),
                           calendar=calendar)[0]


def _substantiated(engine, campaign, calendar):
    n = _add(engine, campaign, calendar)
    clues.transition(engine, campaign, n, "verify", actor="off.a", now=at("2023-03-21"))
    clues.transition(engine, campaign, n, "substantiate", actor="off.a", now=at("2023-03-22"),
                     data=clues.ClueInput(measures="退还罚款并整改", deadline=date(2023, 4, 30),
                                          owner="赵书涵"))
    return n


def test_a_clue_walks_to_closure_and_every_step_is_audited(engine, campaign, calendar):
    n = _substantiated(engine, campaign, calendar)
    clues.transition(engine, campaign, n, "submit_evidence", actor="off.a", now=at("2023-04-20"),
                     data=clues.ClueInput(evidence="整改报告-附件17.pdf"))
    v = clues.transition(engine, campaign, n, "approve", actor="sup.city", now=at("2023-04-25"))
    assert v.state == "closed" and v.resolution == "approved"
    history = clues.get_clue(engine, campaign, n).history
    assert [h["trigger"] for h in history] == ["receive", "verify", "substantiate",
                                              "submit_evidence", "approve"]
    assert verify(engine, campaign_id(engine, campaign)).ok


def test_the_owning_units_own_supervisor_cannot_approve(engine, campaign, calendar):
    n = _substantiated(engine, campaign, calendar)
    clues.transition(engine, campaign, n, "submit_evidence", actor="off.a", now=at("2023-04-20"),
                     data=clues.ClueInput(evidence="x.pdf"))
    with pytest.raises(PermissionDenied, match="own unit"):
        clues.transition(engine, campaign, n, "approve", actor="sup.a", now=at("2023-04-21"))
    with pytest.raises(PermissionDenied):
        clues.transition(engine, campaign, n, "approve", actor="off.b", now=at("2023-04-21"))
    assert clues.get_clue(engine, campaign, n).state == "rectified"


def test_substantiating_needs_measures_deadline_and_owner(engine, campaign, calendar):
    n = _add(engine, campaign, calendar)
    clues.transition(engine, campaign, n, "verify", actor="off.a", now=at("2023-03-21"))
    with pytest.raises(GuardRefused, match="has_measures"):
        clues.transition(engine, campaign, n, "substantiate", actor="off.a", now=at("2023-03-22"))
    with pytest.raises(GuardRefused, match="has_owner"):
        clues.transition(engine, campaign, n, "substantiate", actor="off.a", now=at("2023-03-22"),
                         data=clues.ClueInput(measures="m", deadline=date(2023, 4, 1)))
    v = clues.get_clue(engine, campaign, n)
    assert v.state == "verifying" and v.version == 2


def test_a_stale_version_is_refused_with_what_changed(engine, campaign, calendar):
    n = _add(engine, campaign, calendar)
    clues.transition(engine, campaign, n, "verify", actor="off.a", now=at("2023-03-21"))
    with pytest.raises(ConflictError, match=r"changed since version 1.*version 2 \(verifying\).*off\.a"):
        clues.transition(engine, campaign, n, "dismiss", actor="off.a", now=at("2023-03-22"),
                         data=clues.ClueInput(reason="查无实据"), expected_version=1)
    assert clues.get_clue(engine, campaign, n).state == "verifying"


def test_verification_deadline_counts_working_days_across_qingming(engine, campaign, calendar):
    # received Mon 2023-04-03; 4-05 is 清明 (holiday): 10 working days → 2023-04-18
    item = clues.NewClue(channel="12328", aspect="profit", summary="s", unit="county-b")
    n = clues.add_clues(engine, campaign, [item], actor="off.b", now=at("2023-04-03"),
                        calendar=calendar)[0]
    v = clues.get_clue(engine, campaign, n)
    assert v.verify_due_at.astimezone(at("2023-01-01").tzinfo).date() == date(2023, 4, 18)


def _imported(engine, campaign, calendar, received: str):
    item = clues.NewClue(channel="12345", aspect="profit", summary="罚款不开票", unit="county-a",
                         received_at=at(received))
    n = clues.add_clues(engine, campaign, [item], actor="sup.city", now=at("2023-05-10"), calendar=calendar)[0]
    clues.transition(engine, campaign, n, "verify", actor="off.a", now=at("2023-05-10"))
    return n


SUBSTANTIATE = clues.ClueInput(measures="退还罚款", deadline=date(2023, 5, 8), owner="赵书涵")


def test_a_deadline_before_the_receipt_is_refused_one_by_one(engine, campaign, calendar):
    # acted as of a day before the deadline, so only the receipt (5-09) stands in the way
    n = _imported(engine, campaign, calendar, "2023-05-09 16:00")
    with pytest.raises(GuardRefused, match=r"deadline_after_receipt.*2023-05-08 is before the item was "
                                           r"received \(2023-05-09\)"):
        clues.transition(engine, campaign, n, "substantiate", actor="off.a", now=at("2023-05-05"),
                         data=SUBSTANTIATE, calendar=calendar)
    v = clues.get_clue(engine, campaign, n)
    assert v.state == "verifying" and v.deadline_at is None and v.version == 2
    # the receipt's own day is a deadline one may set
    v = clues.transition(engine, campaign, n, "substantiate", actor="off.a", now=at("2023-05-05"),
                         data=clues.ClueInput(measures="退还罚款", deadline=date(2023, 5, 9), owner="赵书涵"),
                         calendar=calendar)
    assert v.state == "rectifying"


def test_a_deadline_before_the_receipt_is_refused_in_a_set_too(engine, campaign, calendar):
    late = _imported(engine, campaign, calendar, "2023-05-09 08:00")   # received after the deadline's day
    early = _imported(engine, campaign, calendar, "2023-05-08 23:30")  # received on its day
    r = clues.bulk_transition(engine, campaign, "substantiate", actor="off.a", now=at("2023-05-05"),
                              data=SUBSTANTIATE, numbers=[late, early], calendar=calendar)
    assert [m[0] for m in r.moved] == [early] and r.skipped == 1
    assert clues.get_clue(engine, campaign, late).state == "verifying"
