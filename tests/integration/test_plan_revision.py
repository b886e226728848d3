"""A plan revised mid-campaign (issue 16 item 8), on SQLite and PostgreSQL.

The small plan: city (root) over county-a (with town-c1) and county-b; stages
deploy (ends 2023-04-07) → self_check (2023-05-10) → summary (ongoing).
"""
from __future__ import annotations

import hashlib
import json

import pytest
import yaml
from sqlalchemy import select

from models.tables import AuditRecord, Campaign, Clue, Lapse, PlanVersion, Stage, Unit
from services.campaigns import units
from services.campaigns.load import campaign_id
from services.campaigns.revision import WITHDRAWN, check_revision, revise_plan
from services.core.audit import verify
from statemachine.errors import ConflictError, PlanError
from statemachine.plan import Plan
from statemachine.time.calendar import WorkingCalendar, end_of_day

from ..conftest import SMALL_PLAN, at
from .test_sweep_and_audit import run_all

A, C, L, PV, S, U = (AuditRecord.__table__, Campaign.__table__, Lapse.__table__, PlanVersion.__table__,
                     Stage.__table__, Unit.__table__)
CAL = WorkingCalendar()


def revised(change) -> Plan:
    data = yaml.safe_load(SMALL_PLAN.read_text(encoding="utf-8"))
    change(data)
    return Plan.model_validate(data)


def stage(data, key) -> dict:
    return next(s for s in data["stages"] if s["key"] == key)


def snapshot(engine) -> dict:
    """Everything a revision may write."""
    with engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(select(t).order_by(t.c.id))]
                for t in (C, S, U, PV, L, A)}


def unit_rows(engine) -> dict:
    with engine.connect() as conn:
        return {r.code: r for r in conn.execute(select(U))}


def stage_lapses(engine) -> list[tuple]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(U.c.code, L.c.subject, L.c.due_at).join(U, U.c.id == L.c.unit_id)
                                   .where(L.c.kind == "stage_deadline")).all())


def revise(engine, plan, when, doc="示交发〔2023〕9号"):
    return revise_plan(engine, plan, source="revised.yaml", doc_number=doc, now=at(when), calendar=CAL,
                       actor="sup.city")


def test_a_check_shows_what_changes_and_changes_nothing(engine, campaign):
    before = snapshot(engine)
    plan = revised(lambda d: stage(d, "deploy").update(end="2023-04-20"))
    rev = check_revision(engine, plan, source="revised.yaml", calendar=CAL)
    assert rev.stages_moved == [("deploy", end_of_day(at("2023-04-07").date()), end_of_day(at("2023-04-20").date()))]
    assert sorted(u for u, *_ in rev.unit_deadlines) == ["county-a", "county-b", "town-c1"]
    assert not rev.stages_added and not rev.units_joining and not rev.relocated
    text = "\n".join(rev.lines())
    assert "动员部署 (deploy) 2023-04-07 → 2023-04-20" in text and "units' stage deadlines moving (3)" in text
    assert "乙县 (county-b) 动员部署 2023-04-07 → 2023-04-20" in text  # names, with the key beside
    assert snapshot(engine) == before
    same = check_revision(engine, revised(lambda d: None), source="same.yaml", calendar=CAL)
    assert same.changes_nothing and "nothing changes" in same.lines()[0]


def test_a_moved_stage_deadline_moves_the_units_and_the_sweep_lapses_by_the_new_date_only(engine, campaign):
    cid = campaign_id(engine, campaign)
    revise(engine, revised(lambda d: stage(d, "deploy").update(end="2023-04-20")), "2023-04-01")
    with engine.connect() as conn:
        assert conn.execute(select(S.c.due_at).where(S.c.key == "deploy")).scalar_one() == \
            end_of_day(at("2023-04-20").date())
    assert run_all(engine, cid, at("2023-04-10"))["stage_deadline"] == 0  # the old date is gone
    assert run_all(engine, cid, at("2023-04-21"))["stage_deadline"] == 3
    assert {(u, s, d) for u, s, d in stage_lapses(engine)} == \
        {(u, "deploy", end_of_day(at("2023-04-20").date())) for u in ("county-a", "county-b", "town-c1")}
    assert run_all(engine, cid, at("2023-04-22"))["stage_deadline"] == 0  # keyed: never twice
    assert verify(engine, cid).ok


def test_a_revision_is_a_stored_plan_version_with_its_sha256_and_audited_with_its_doc_number(engine, campaign):
    cid = campaign_id(engine, campaign)
    plan = revised(lambda d: stage(d, "deploy").update(end="2023-04-20"))
    revise(engine, plan, "2023-04-01")
    with engine.connect() as conn:
        versions = conn.execute(select(PV).order_by(PV.c.version)).all()
        camp = conn.execute(select(C)).one()
        [rec] = conn.execute(select(A).where(A.c.entity == "campaign", A.c.trigger == "revise")).all()
    assert [(v.version, v.doc_number) for v in versions] == [(1, "示交发〔2023〕1号"), (2, "示交发〔2023〕9号")]
    assert all(v.sha256 == hashlib.sha256(v.plan_json.encode()).hexdigest() for v in versions)
    assert camp.version == 2 and camp.plan_json == versions[1].plan_json
    detail = json.loads(rec.detail) if isinstance(rec.detail, str) else rec.detail
    assert (rec.actor, rec.to_state, detail["doc_number"], detail["plan_sha256"], detail["previous_sha256"]) == \
        ("sup.city", "v2", "示交发〔2023〕9号", versions[1].sha256, versions[0].sha256)
    assert verify(engine, cid).ok


def _into_self_check(engine, campaign, unit="county-a", actor="off.a"):
    units.record_deliverable(engine, campaign, unit, "impl_plan", attachment="方案.pdf", actor=actor,
                             now=at("2023-04-01"))
    units.advance(engine, campaign, unit, actor=actor, now=at("2023-04-02"))


def _drop_self_check_add_fix(d):
    d["stages"] = [stage(d, "deploy"), {"key": "fix", "name": "集中整改", "end": "2023-06-30"},
                   stage(d, "summary")]


def test_a_unit_in_a_removed_stage_goes_to_the_next_remaining_one_and_its_old_lapses_stay(engine, campaign):
    cid = campaign_id(engine, campaign)
    _into_self_check(engine, campaign)
    run_all(engine, cid, at("2023-05-11"))  # county-a late in self_check, the others in deploy
    before = stage_lapses(engine)
    assert [(u, s) for u, s, _ in before] == [("county-a", "self_check"), ("county-b", "deploy"),
                                              ("town-c1", "deploy")]
    rev = revise(engine, revised(_drop_self_check_add_fix), "2023-05-12")
    assert rev.relocated == [("county-a", "self_check", "fix")] and rev.stages_removed == ["self_check"]
    rows = unit_rows(engine)
    assert (rows["county-a"].stage_key, rows["county-a"].version) == ("fix", 3)
    assert sum(run_all(engine, cid, at("2023-05-13")).values()) == 0  # nothing raised again
    assert stage_lapses(engine) == before  # history kept
    with engine.connect() as conn:
        assert conn.execute(select(A.c.from_state, A.c.to_state).where(A.c.trigger == "restage")).all() == \
            [("self_check", "fix")]
    assert verify(engine, cid).ok


def test_a_unit_joins_at_the_first_stage_and_one_leaving_keeps_its_history_without_new_lapses(engine, campaign):
    cid = campaign_id(engine, campaign)

    def change(d):
        d["units"] = [u for u in d["units"] if u["code"] != "town-c1"] + \
            [{"code": "county-d", "name": "丁县", "level": "county", "parent": "city"}]
        d["people"] = [p for p in d["people"] if p["unit"] != "town-c1"] + \
            [{"username": "off.d", "name": "冯思远", "unit": "county-d"}]

    rev = revise(engine, revised(change), "2023-04-01")
    assert (rev.units_joining, rev.units_leaving, rev.people_added) == (["county-d"], ["town-c1"], ["off.d"])
    rows = unit_rows(engine)
    assert (rows["county-d"].participates, rows["county-d"].stage_key) == (True, "deploy")
    assert rows["county-d"].path == f"{rows['city'].path}{rows['county-d'].id}/"
    assert (rows["town-c1"].participates, rows["town-c1"].stage_key) == (False, WITHDRAWN)
    assert {u.code: u.stage_name for u in units.list_units(engine, campaign)}["town-c1"] == "已退出"
    run_all(engine, cid, at("2023-04-10"))
    assert [u for u, *_ in stage_lapses(engine)] == ["county-a", "county-b", "county-d"]
    with engine.connect() as conn:
        assert conn.execute(select(A.c.to_state).where(A.c.trigger.in_(["enroll", "withdraw"]),
                                                       A.c.at == at("2023-04-01"))).scalars().all() == \
            ["deploy", WITHDRAWN]
    assert verify(engine, cid).ok


def test_a_leaving_unit_rejoins_at_the_first_stage(engine, campaign):
    revise(engine, revised(lambda d: next(u for u in d["units"] if u["code"] == "county-b")
                           .update(participates=False)), "2023-04-01")
    assert unit_rows(engine)["county-b"].stage_key == WITHDRAWN
    revise(engine, revised(lambda d: None), "2023-04-03", doc="示交发〔2023〕10号")
    assert (unit_rows(engine)["county-b"].participates, unit_rows(engine)["county-b"].stage_key) == (True, "deploy")


@pytest.mark.parametrize("change,why", [
    (lambda d: next(u for u in d["units"] if u["code"] == "county-a").update(level="team"),
     "unit 'county-a' changes level (county → team)"),
    (lambda d: next(u for u in d["units"] if u["code"] == "town-c1").update(parent="county-b"),
     "unit 'town-c1' moves from 'county-a' to 'county-b'"),
    (lambda d: d.update(stages=[stage(d, "self_check"), stage(d, "deploy"), stage(d, "summary")]),
     "the stages kept change their order"),
    (lambda d: d.update(clues={"number_prefix": "QT"}), "number prefix"),
], ids=["level", "parent", "order", "prefix"])
def test_a_malformed_revision_is_refused_in_one_line_and_changes_nothing(engine, campaign, change, why):
    before = snapshot(engine)
    with pytest.raises(PlanError) as e:
        revise(engine, revised(change), "2023-04-01")
    assert why in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(PlanError):
        check_revision(engine, revised(change), source="x.yaml", calendar=CAL)
    assert snapshot(engine) == before


def test_a_revision_that_changes_nothing_or_lacks_a_doc_number_is_refused(engine, campaign):
    before = snapshot(engine)
    with pytest.raises(ConflictError, match="nothing to revise"):
        revise(engine, revised(lambda d: None), "2023-04-01")
    with pytest.raises(PlanError, match="文号"):
        revise(engine, revised(lambda d: stage(d, "deploy").update(end="2023-04-20")), "2023-04-01", doc=" ")
    assert snapshot(engine) == before


_FAIL_AUDIT = {
    "sqlite": ["CREATE TRIGGER no_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'refused'); END"],
    "postgresql": ["CREATE FUNCTION no_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ "
                   "LANGUAGE plpgsql",
                   "CREATE TRIGGER no_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION no_audit()"],
}


def test_a_failure_at_the_last_write_leaves_nothing_changed(engine, campaign):
    """One unit of work: the audit records are written last (at commit); when the
    database refuses them, the stages, units, people, clues and plan version written
    before are gone too."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    _into_self_check(engine, campaign)
    before = snapshot(engine)
    with engine.begin() as conn:
        for stmt in _FAIL_AUDIT[engine.dialect.name]:
            conn.execute(text(stmt))

    def change(d):
        _drop_self_check_add_fix(d)
        d["units"].append({"code": "county-d", "name": "丁县", "level": "county", "parent": "city"})
        d["people"].append({"username": "off.d", "name": "冯思远", "unit": "county-d"})

    import psycopg

    # PostgreSQL's audit rows go by COPY, whose refusal psycopg raises itself
    with pytest.raises((DBAPIError, psycopg.Error), match="refused"):
        revise(engine, revised(change), "2023-05-12")
    assert snapshot(engine) == before


def test_a_person_left_out_and_added_back_is_updated_not_added_twice(engine, campaign):
    revise(engine, revised(lambda d: d.update(people=[p for p in d["people"] if p["username"] != "off.b"])),
           "2023-04-01")
    rev = revise(engine, revised(lambda d: next(p for p in d["people"] if p["username"] == "off.b")
                                 .update(name="钱文远")), "2023-04-02", doc="示交发〔2023〕10号")
    assert (rev.people_added, rev.people_changed) == ([], ["off.b"])


def test_a_unit_leaving_with_open_items_is_refused(engine, campaign):
    from services.clues import lifecycle as clues

    clues.add_clues(engine, campaign, [clues.NewClue(channel="12345", aspect="profit", unit="town-c1",
                                                     summary="设卡乱罚款")], actor="sup.city",
                    now=at("2023-04-03"), calendar=CAL)
    before = snapshot(engine)

    def change(d):
        d["units"] = [u for u in d["units"] if u["code"] != "town-c1"]
        d["people"] = [p for p in d["people"] if p["unit"] != "town-c1"]

    with pytest.raises(PlanError, match="unit 'town-c1' leaves with open items"):
        revise(engine, revised(change), "2023-04-04")
    assert snapshot(engine) == before


def test_verification_deadlines_from_the_plan_budget_are_recomputed(
        engine, campaign):
    from services.clues import lifecycle as clues
    from statemachine.time.calendar import due_end_of_day_after_working_days

    new = [clues.NewClue(channel="12345", aspect="profit", unit=u, summary="设卡乱罚款")
           for u in ("county-a", "county-b")]
    numbers = clues.add_clues(engine, campaign, new, actor="sup.city", now=at("2023-04-03"), calendar=CAL)
    rev = revise(engine, revised(lambda d: d["clues"].update(verify_within_working_days=5)), "2023-04-04")
    assert [n for _, n, *_ in rev.clue_deadlines] == numbers
    with engine.connect() as conn:
        due = dict(conn.execute(select(Clue.__table__.c.number, Clue.__table__.c.verify_due_at)).all())
    assert due == {n: due_end_of_day_after_working_days(CAL, at("2023-04-03"), 5) for n in numbers}


def test_a_recomputed_verification_deadline_keeps_the_days_its_clock_stood(engine, campaign):
    from services.clues import lifecycle as clues, suspension
    from statemachine.time.deadlines import Pause, moved_deadline

    new = [clues.NewClue(channel="12345", aspect="profit", unit="county-a", summary=s)
           for s in ("设卡乱罚款", "违规收费", "趸船占道")]
    parked, standing, plain = clues.add_clues(engine, campaign, new, actor="sup.city", now=at("2023-04-03"),
                                              calendar=CAL)
    suspension.suspend(engine, campaign, parked, reason="等待司法裁判", actor="sup.city", now=at("2023-04-04"))
    suspension.resume(engine, campaign, parked, actor="sup.city", now=at("2023-04-11"), calendar=CAL)
    suspension.suspend(engine, campaign, standing, reason="季节性施工", actor="sup.city", now=at("2023-04-10"))
    revise(engine, revised(lambda d: d["clues"].update(verify_within_working_days=5)), "2023-04-12")
    with engine.connect() as conn:
        due = dict(conn.execute(select(Clue.__table__.c.number, Clue.__table__.c.verify_due_at)).all())
    budget = CAL.add_working_days(at("2023-04-03").date(), 5)
    # 04-04 … 04-10 stood: four working days (04-05 is 清明); a standing spell moves it when resumed
    assert due[parked] == end_of_day(moved_deadline(CAL, due=budget, pauses=(Pause(at("2023-04-04").date(),
                                                                                  at("2023-04-11").date()),)))
    assert due[parked] == end_of_day(CAL.add_working_days(budget, 4))
    assert due[standing] == due[plain] == end_of_day(budget)
    suspension.resume(engine, campaign, standing, actor="sup.city", now=at("2023-04-12"), calendar=CAL)
    with engine.connect() as conn:
        after = conn.execute(select(Clue.__table__.c.verify_due_at).where(Clue.__table__.c.number == standing)
                             ).scalar_one()
    assert after == end_of_day(CAL.add_working_days(budget, 2))  # 4-10 and 4-11 stood


def test_a_revised_sign_for_moves_the_signing_deadline_of_unsigned_items_only(engine, campaign):
    """签收 deadlines came from the plan's `clues.sign_for`: a revision that changes it
    recomputes them from each unsigned item's assignment; an item signed for keeps its
    record, and a plan that no longer asks for signing leaves nothing owed."""
    from services.clues import lifecycle as clues, signing
    from statemachine.time.spans import parse_span, span_end

    def sign_for(span):
        return lambda d: d["clues"].update(sign_for=span)

    def dues() -> dict:
        with engine.connect() as conn:
            return dict(conn.execute(select(Clue.__table__.c.number, Clue.__table__.c.sign_due_at)).all())

    # items filed before the plan asked for signing arrive signed: a revision adds nothing to them
    [before] = clues.add_clues(engine, campaign, [clues.NewClue(channel="12345", aspect="profit", unit="county-a",
                                                                summary="设卡乱罚款")],
                               actor="sup.city", now=at("2023-04-03"), calendar=CAL)
    rev = revise(engine, revised(sign_for("1 working day")), "2023-04-03 12:00", doc="示交发〔2023〕9号")
    assert rev.sign_deadlines == [] and dues()[before] is None
    new = [clues.NewClue(channel="12345", aspect="profit", unit=u, summary="违规收费") for u in ("county-a", "county-b")]
    signed, unsigned = clues.add_clues(engine, campaign, new, actor="sup.city", now=at("2023-04-04 09:00"),
                                       calendar=CAL)
    signing.sign(engine, campaign, signed, actor="off.a", now=at("2023-04-04 10:00"))
    was = dues()
    assert was[unsigned] == span_end(CAL, at("2023-04-04 09:00"), parse_span("1 working day"))

    check = check_revision(engine, revised(sign_for("4 working hours")), source="plan.yaml", calendar=CAL)
    assert [(n, old) for _, n, old, _ in check.sign_deadlines] == [(unsigned, was[unsigned])]
    assert any("签收" in line and unsigned in line for line in check.lines())
    rev = revise(engine, revised(sign_for("4 working hours")), "2023-04-04 11:00", doc="示交发〔2023〕10号")
    moved = span_end(CAL, at("2023-04-04 09:00"), parse_span("4 working hours"))
    assert [(n, new) for _, n, _, new in rev.sign_deadlines] == [(unsigned, moved)]
    assert dues() == {**was, unsigned: moved}  # the signed one keeps the deadline it met
    with engine.connect() as conn:
        [detail] = conn.execute(select(A.c.detail).where(A.c.entity == "clue", A.c.trigger == "revise")).scalars()
    assert json.loads(detail)["sign_due_at"] == [was[unsigned].isoformat(), moved.isoformat()]

    rev = revise(engine, revised(lambda d: d["clues"].pop("sign_for", None)), "2023-04-04 11:30",
                 doc="示交发〔2023〕11号")
    assert [(n, new) for _, n, _, new in rev.sign_deadlines] == [(unsigned, None)]
    assert dues()[unsigned] is None and dues()[signed] == was[signed]
