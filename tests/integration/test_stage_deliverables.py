"""An ongoing stage with a stated date (003's 总结提升: "10月25日前阶段性完成，长期推进")
owes its deliverables by then: a unit in it without them has one
`deliverables_overdue` lapse, answered by the ladder, while the stage stays
open; and the sweep (set-based) and the supervisor's status (unit by unit)
apply the one stage rule alike (statemachine/charts/unit_stage.stage_lapse)."""
from __future__ import annotations

import itertools
import shutil
from datetime import date, datetime

from hypothesis import given, settings, strategies as st
from sqlalchemy import select

from models.db import make_engine
from models.tables import EscalationCase, Lapse, Unit
from services.campaigns import units
from services.campaigns.load import campaign_id, load_plan
from services.campaigns.plans import read_plan
from services.ladder import automatic as rnd
from services.ladder import sweep
from services.reports.status import campaign_status
from statemachine.plan import Plan
from statemachine.time.calendar import end_of_day

from ..conftest import SMALL_PLAN, at

L, U, E = Lapse.__table__, Unit.__table__, EscalationCase.__table__
CHANNELS = ("file",)
STAGES = ("deploy", "self_check", "summary")
DELIVERABLES = {"deploy": ["impl_plan"], "self_check": ["self_report", "problem_list"],
                "summary": ["long_term_measures", "summary_report"]}


def plan() -> Plan:
    """The small plan with 003's last stage: ongoing, its deliverables due 10-25."""
    data = read_plan(SMALL_PLAN).model_dump()
    data["stages"][-1] = {"key": "summary", "name": "总结提升", "ongoing": True, "summary_due": "2023-10-25",
                          "deliverables": [{"key": "long_term_measures", "name": "长效机制"},
                                           {"key": "summary_report", "name": "工作总结"}]}
    return Plan.model_validate(data)


def load(engine) -> str:
    p = plan()
    load_plan(engine, p, source="small-plan-with-summary-due", now=at("2023-03-15"))
    return p.campaign.code


_runs = itertools.count()


def nightly(engine, code, calendar, as_of: datetime):
    """The nightly job's sweep and escalation pass (no Prefect); the new lapses' keys."""
    cid = campaign_id(engine, code)
    run_key = f"night-{next(_runs)}"
    params = sweep.parameters(engine, cid, as_of, calendar)
    for step in sweep.STEPS:
        sweep.run_step(engine, step, campaign_id=cid, as_of=as_of, run_key=run_key, params=params)
    kw = dict(now=as_of, calendar=calendar)
    rnd.propose_for_lapses(engine, code, **kw)
    rnd.issue_automatic(engine, code, channels=CHANNELS, **kw)
    with engine.connect() as conn:
        return conn.execute(select(L.c.kind, U.c.code, L.c.key, L.c.subject, L.c.due_at)
                            .join(U, U.c.id == L.c.unit_id).where(L.c.run_key == run_key)).all()


def walk(engine, code, unit: str, to: str, *, when="2023-04-01", deliver: tuple[str, ...] = ()):
    """Deliver each stage's deliverables and advance until `to`; then record `deliver` there."""
    for stage in STAGES[:STAGES.index(to)] if to in STAGES else STAGES:
        for key in DELIVERABLES[stage]:
            units.record_deliverable(engine, code, unit, key, attachment=f"{unit}/{key}.pdf",
                                     actor="sup.city", now=at(when), stage=stage)
        units.advance(engine, code, unit, actor="sup.city", now=at(when))
    for key in deliver:
        units.record_deliverable(engine, code, unit, key, attachment=f"{unit}/{key}.pdf", actor="sup.city",
                                 now=at(when), stage=to)


def stage_verdicts(engine, code, as_of) -> set[tuple[str, str]]:
    return {(u.code, u.stage_lapse) for u in campaign_status(engine, code, as_of=as_of).units
            if u.stage_lapse}


def test_a_unit_in_the_ongoing_stage_without_its_deliverables_lapses_once_and_the_stage_stays_open(
        engine, calendar):
    code = load(engine)
    walk(engine, code, "county-a", "summary")
    walk(engine, code, "county-b", "summary", deliver=("long_term_measures", "summary_report"))
    walk(engine, code, "town-c1", "summary", deliver=("long_term_measures",))  # half of it
    assert nightly(engine, code, calendar, at("2023-10-25 23:59")) == []
    assert stage_verdicts(engine, code, at("2023-10-25 23:59")) == set()

    found = nightly(engine, code, calendar, at("2023-10-26 00:05"))
    ids = {u: campaign_unit_id(engine, u) for u in ("county-a", "town-c1")}
    assert sorted(found) == sorted(
        ("deliverables_overdue", u, f"deliverables:{ids[u]}:summary", "summary", end_of_day(date(2023, 10, 25)))
        for u in ("county-a", "town-c1"))
    # the status, unit by unit, finds what the sweep found
    assert stage_verdicts(engine, code, at("2023-10-26 00:05")) == \
        {("county-a", "deliverables_overdue"), ("town-c1", "deliverables_overdue")}
    # the ladder answers it: 通报批评, issued by itself, naming the cause in Chinese
    with engine.connect() as conn:
        cases = conn.execute(select(U.c.code, E.c.cause, E.c.level, E.c.state, E.c.reason)
                             .join(U, U.c.id == E.c.unit_id).order_by(U.c.code)).all()
    assert [tuple(c) for c in cases] == [(u, "deliverables_overdue", 1, "issued", "未按期提交阶段性成果")
                                         for u in ("county-a", "town-c1")]
    # recorded once: again, and on later nights, nothing new
    for when in ("2023-10-26 00:05", "2023-10-27 00:05", "2023-12-31 00:05"):
        assert nightly(engine, code, calendar, at(when)) == []
    # the stage stays open: the unit still delivers in it, and is then on time
    for key in DELIVERABLES["summary"]:
        units.record_deliverable(engine, code, "county-a", key, attachment="a.pdf", actor="off.a",
                                 now=at("2023-10-28"))
    status = {u.code: u for u in campaign_status(engine, code, as_of=at("2023-10-29")).units}
    assert (status["county-a"].stage, status["county-a"].stage_lapse) == ("总结提升", None)
    assert status["county-a"].stage_due == end_of_day(date(2023, 10, 25))
    assert status["town-c1"].stage_lapse == "deliverables_overdue"


def campaign_unit_id(engine, code: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(U.c.id).where(U.c.code == code)).scalar_one()


def test_a_unit_that_never_reached_the_ongoing_stage_is_late_in_its_own_stage_only(engine, calendar):
    code = load(engine)
    walk(engine, code, "county-a", "self_check")
    found = nightly(engine, code, calendar, at("2023-10-26 00:05"))
    assert sorted((k, u, s) for k, u, _, s, _ in found) == [
        ("stage_deadline", "county-a", "self_check"), ("stage_deadline", "county-b", "deploy"),
        ("stage_deadline", "town-c1", "deploy")]


# -- the sweep and the status agree, whatever the units did -------------------------------------
INSTANTS = [at(t) for t in ("2023-04-07 23:59", "2023-04-08 00:05", "2023-05-10 12:00", "2023-05-11 00:05",
                            "2023-10-25 23:59", "2023-10-26 00:05", "2024-01-02 09:00")]
UNITS = ("county-a", "county-b", "town-c1")


@st.composite
def positions(draw):
    """Per unit: how far it walked (3: completed) and what it recorded of its stage."""
    out = {}
    for unit in UNITS:
        idx = draw(st.integers(0, 3))
        stage = STAGES[idx] if idx < 3 else None
        got = draw(st.sets(st.sampled_from(DELIVERABLES[stage]))) if stage else set()
        out[unit] = (idx, got)
    return out


@settings(max_examples=25, deadline=None)
@given(positions(), st.sampled_from(INSTANTS))
def test_the_sweep_and_the_status_apply_the_one_stage_rule_alike(sqlite_template, tmp_path_factory, calendar,
                                                                 where, as_of):
    path = tmp_path_factory.mktemp("agree") / "rectify.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        code = load(engine)
        for unit, (idx, got) in where.items():
            if idx == 3:
                walk(engine, code, unit, "summary", deliver=tuple(DELIVERABLES["summary"]))
                units.advance(engine, code, unit, actor="sup.city", now=at("2023-04-01"))
            else:
                walk(engine, code, unit, STAGES[idx], deliver=tuple(sorted(got)))
        swept = {(u, k) for k, u, *_ in nightly(engine, code, calendar, as_of)
                 if k in ("stage_deadline", "deliverables_overdue")}
        assert swept == stage_verdicts(engine, code, as_of)
    finally:
        engine.dispose()
