"""Participating units: deliverables and stage advancement (SQLite and PostgreSQL).

The small plan's stages: deploy (impl_plan) → self_check (self_report,
problem_list) → summary (ongoing, nothing required) → completed.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from models.tables import AuditRecord, DeliverableRecord
from services.campaigns import units
from services.campaigns.load import campaign_id
from services.core.audit import verify
from statemachine.errors import ConflictError, GuardRefused, InvalidInput, InvalidTransition, \
    PermissionDenied

from ..conftest import at

A, D = AuditRecord.__table__, DeliverableRecord.__table__

PLAN_STAGES = [("deploy", "动员部署", ["impl_plan"]),
               ("self_check", "自查自纠", ["self_report", "problem_list"]),
               ("summary", "总结提升", [])]


def _unit(engine, campaign, code) -> units.UnitStatus:
    return next(u for u in units.list_units(engine, campaign) if u.code == code)


def _record(engine, campaign, key, unit="county-a", actor="off.a", when="2023-04-01", **kw):
    units.record_deliverable(engine, campaign, unit, key, attachment=kw.pop("attachment", f"{key}.pdf"),
                             actor=actor, now=at(when), **kw)


def _deliverable_audit(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(A).where(A.c.trigger == "record_deliverable").order_by(A.c.seq))]


# -- recording deliverables ------------------------------------------------------
def test_a_recorded_deliverable_keeps_who_when_and_the_attachment_and_is_audited(engine, campaign):
    _record(engine, campaign, "impl_plan", attachment="  甲县实施方案.pdf ", when="2023-03-28 16:20")
    with engine.connect() as conn:
        row = conn.execute(select(D)).one()
    assert (row.stage_key, row.key, row.recorded_by, row.attachment) == \
        ("deploy", "impl_plan", "off.a", "甲县实施方案.pdf")
    assert row.recorded_at == at("2023-03-28 16:20")
    [rec] = _deliverable_audit(engine)
    assert (rec["actor"], rec["entity_id"], rec["to_state"]) == ("off.a", row.id, "deploy")
    assert rec["at"] == at("2023-03-28 16:20")
    assert "甲县实施方案.pdf" in rec["detail"] and "impl_plan" in rec["detail"]
    assert verify(engine, campaign_id(engine, campaign)).ok


@pytest.mark.parametrize("attachment", ["", "   "], ids=["empty", "blank"])
def test_a_deliverable_needs_an_attachment(engine, campaign, attachment):
    with pytest.raises(InvalidInput, match="attachment"):
        _record(engine, campaign, "impl_plan", attachment=attachment)
    assert _deliverable_audit(engine) == []


def test_an_unknown_deliverable_is_refused_naming_the_expected_keys(engine, campaign):
    with pytest.raises(InvalidInput, match=r"no deliverable 'ledger' \(expected: impl_plan\)"):
        _record(engine, campaign, "ledger")
    with pytest.raises(InvalidInput, match=r"expected: self_report, problem_list"):
        _record(engine, campaign, "impl_plan", stage="self_check")


def test_an_unknown_stage_is_refused_naming_the_plans_stages(engine, campaign):
    with pytest.raises(InvalidInput, match=r"unknown stage 'audit' \(one of deploy, self_check, summary\)"):
        _record(engine, campaign, "impl_plan", stage="audit")


def test_a_deliverable_cannot_be_recorded_twice(engine, campaign):
    _record(engine, campaign, "impl_plan", when="2023-03-28")
    with pytest.raises(ConflictError, match=r"already recorded by off\.a at 2023-03-28"):
        _record(engine, campaign, "impl_plan", actor="sup.city", when="2023-03-29")
    assert len(_deliverable_audit(engine)) == 1


def test_the_same_deliverable_of_another_unit_is_its_own(engine, campaign):
    _record(engine, campaign, "impl_plan", unit="county-a", actor="off.a")
    _record(engine, campaign, "impl_plan", unit="county-b", actor="off.b")
    assert len(_deliverable_audit(engine)) == 2


# -- permissions -------------------------------------------------------------------
def test_another_units_officer_cannot_record_for_a_unit(engine, campaign):
    with pytest.raises(PermissionDenied, match="off.b"):
        _record(engine, campaign, "impl_plan", unit="county-a", actor="off.b")
    assert _deliverable_audit(engine) == []


def test_an_officer_cannot_record_for_the_unit_below_it(engine, campaign):
    with pytest.raises(PermissionDenied):
        _record(engine, campaign, "impl_plan", unit="town-c1", actor="off.a")


@pytest.mark.parametrize("actor,unit", [("sup.city", "county-a"), ("sup.city", "town-c1"),
                                        ("sup.a", "town-c1"), ("off.c1", "town-c1")])
def test_the_unit_itself_or_a_supervisor_above_it_may_record(engine, campaign, actor, unit):
    _record(engine, campaign, "impl_plan", unit=unit, actor=actor)
    assert [r["actor"] for r in _deliverable_audit(engine)] == [actor]


def test_another_units_officer_cannot_advance_a_unit(engine, campaign):
    _record(engine, campaign, "impl_plan")
    with pytest.raises(PermissionDenied):
        units.advance(engine, campaign, "county-a", actor="off.b", now=at("2023-04-02"))
    assert _unit(engine, campaign, "county-a").stage_key == "deploy"


def test_a_unit_outside_the_campaigns_stages_is_refused(engine, campaign):
    with pytest.raises(InvalidInput, match="does not take part"):
        units.advance(engine, campaign, "city", actor="sup.city", now=at("2023-04-02"))


# -- advancing ---------------------------------------------------------------------
def test_advance_is_refused_while_deliverables_are_missing_listing_them(engine, campaign):
    with pytest.raises(GuardRefused, match=r"\(deliverables_in\): deliverables missing: impl_plan$"):
        units.advance(engine, campaign, "county-a", actor="off.a", now=at("2023-04-01"))
    u = _unit(engine, campaign, "county-a")
    assert (u.stage_key, u.version) == ("deploy", 1)


def test_advance_lists_only_the_deliverables_still_missing(engine, campaign):
    _record(engine, campaign, "impl_plan")
    units.advance(engine, campaign, "county-a", actor="off.a", now=at("2023-04-02"))
    _record(engine, campaign, "problem_list", when="2023-04-20")
    with pytest.raises(GuardRefused, match=r"deliverables missing: self_report$"):
        units.advance(engine, campaign, "county-a", actor="off.a", now=at("2023-04-21"))
    assert _unit(engine, campaign, "county-a").stage_key == "self_check"


def test_advance_is_allowed_once_the_deliverables_are_in_and_is_audited(engine, campaign):
    _record(engine, campaign, "impl_plan")
    assert units.advance(engine, campaign, "county-a", actor="off.a", now=at("2023-04-02")) == "self_check"
    u = _unit(engine, campaign, "county-a")
    assert (u.stage_key, u.stage_name, u.version) == ("self_check", "自查自纠", 2)
    with engine.connect() as conn:
        rec = conn.execute(select(A).where(A.c.trigger == "advance")).one()
    assert (rec.actor, rec.entity, rec.from_state, rec.to_state) == ("off.a", "unit", "deploy", "self_check")
    assert verify(engine, campaign_id(engine, campaign)).ok


def test_deliverables_of_an_earlier_stage_do_not_count_for_the_next(engine, campaign):
    _record(engine, campaign, "impl_plan")
    units.advance(engine, campaign, "county-a", actor="off.a", now=at("2023-04-02"))
    with pytest.raises(GuardRefused, match="self_report, problem_list"):
        units.advance(engine, campaign, "county-a", actor="off.a", now=at("2023-04-03"))


def test_a_unit_walks_every_stage_of_the_plan_to_completed(engine, campaign):
    assert [(u.stage_key, u.stage_name) for u in units.list_units(engine, campaign)
            if u.code != "city"] == [(PLAN_STAGES[0][0], PLAN_STAGES[0][1])] * 3
    for day, (key, name, deliverables) in enumerate(PLAN_STAGES, start=1):
        assert (_unit(engine, campaign, "county-a").stage_key,
                _unit(engine, campaign, "county-a").stage_name) == (key, name)
        for d in deliverables:
            _record(engine, campaign, d, when=f"2023-05-{day:02d}")
        units.advance(engine, campaign, "county-a", actor="off.a", now=at(f"2023-05-{day:02d} 18:00"))
    u = _unit(engine, campaign, "county-a")
    assert (u.stage_key, u.stage_name, u.version) == ("completed", "已完成", 1 + len(PLAN_STAGES))
    with pytest.raises(InvalidTransition, match=r"'completed'.*none \(final state\)"):
        units.advance(engine, campaign, "county-a", actor="off.a", now=at("2023-06-01"))
    assert _unit(engine, campaign, "county-a").version == 1 + len(PLAN_STAGES)
    # the other units stay where they were
    assert _unit(engine, campaign, "county-b").stage_key == "deploy"


def test_a_stale_expected_version_is_refused_saying_what_changed(engine, campaign):
    _record(engine, campaign, "impl_plan")
    units.advance(engine, campaign, "county-a", actor="off.a", now=at("2023-04-02"), expected_version=1)
    _record(engine, campaign, "self_report")
    _record(engine, campaign, "problem_list")
    with pytest.raises(ConflictError, match=r"since version 1: now version 2 in stage 'self_check'"):
        units.advance(engine, campaign, "county-a", actor="sup.city", now=at("2023-04-03"),
                      expected_version=1)
    assert _unit(engine, campaign, "county-a").stage_key == "self_check"
    assert units.advance(engine, campaign, "county-a", actor="sup.city", now=at("2023-04-03"),
                         expected_version=2) == "summary"
