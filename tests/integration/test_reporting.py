"""Reporting duties on real databases: what is owed, submissions (on time,
late, refused), and the sweep's `missed_report` lapse feeding the ladder."""
from __future__ import annotations


import pytest
import yaml
from sqlalchemy import func, select

from models.tables import AuditRecord, EscalationCase, Lapse, ReportSubmission
from services.campaigns.load import campaign_id, load_plan
from services.campaigns.plans import read_plan
from services.ladder import sweep
from services.ladder.automatic import propose_for_lapses
from services.reports import duties as reporting
from statemachine.errors import ConflictError, InvalidInput, NotFound, PermissionDenied

from ..conftest import SMALL_PLAN, at

DUTIES = [
    {"key": "weekly", "name": "专项整治工作周报",
     "schedule": {"kind": "weekly", "weekday": "thu", "at": "12:00"}, "start": "2023-04-20",
     "until": "2023-05-31"},
    {"key": "monthly", "name": "专项整治工作简报", "schedule": {"kind": "monthly", "day": 25},
     "start": "2023-04-01", "until": "2023-10-31"},
    {"key": "city_report", "name": "全市总结报告", "schedule": {"kind": "once", "due": "2023-10-15"},
     "owed_by": "lead"},
]


@pytest.fixture
def duty_campaign(engine, tmp_path) -> str:
    data = yaml.safe_load(SMALL_PLAN.read_text(encoding="utf-8"))
    data["reporting"] = DUTIES
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    plan = read_plan(path)
    load_plan(engine, plan, source=str(path), now=at("2023-03-15"))
    return plan.campaign.code


def _sweep(engine, campaign, calendar, when: str) -> int:
    cid = campaign_id(engine, campaign)
    as_of = at(when)
    params = sweep.parameters(engine, cid, as_of, calendar)
    return sweep.run_step(engine, "missed_report", campaign_id=cid, as_of=as_of, run_key=when,
                          params=params)


def count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_owed_lists_every_participant_and_the_next_report(engine, duty_campaign):
    lines = reporting.owed(engine, duty_campaign, as_of=at("2023-04-19 10:00"))
    # participants: county-a, county-b, town-c1 (the city is the lead office)
    weekly = [ln for ln in lines if ln.duty == "weekly"]
    assert {ln.unit for ln in weekly} == {"county-a", "county-b", "town-c1"}
    assert {ln.period for ln in weekly} == {"2023-04-20"}
    assert {ln.status for ln in weekly} == {"due_soon"}
    assert not [ln for ln in lines if ln.duty == "city_report" and ln.unit != "city"]
    scoped = reporting.owed(engine, duty_campaign, as_of=at("2023-04-19 10:00"), unit="county-a")
    assert {ln.unit for ln in scoped} == {"county-a", "town-c1"}  # a unit and those below it


def test_on_time_late_and_missing(engine, duty_campaign):
    on_time = reporting.submit(engine, duty_campaign, unit="county-a", duty="weekly", attachment="甲县/周报1.docx",
                               actor="off.a", now=at("2023-04-20 11:30"))
    assert (on_time.period, on_time.status) == ("2023-04-20", "submitted")
    # after 12:00 on Thursday, with the week's report missing, it is that report, late
    late = reporting.submit(engine, duty_campaign, unit="county-b", duty="weekly", attachment="乙县/周报1.docx",
                            actor="off.b", now=at("2023-04-20 15:00"))
    assert (late.period, late.status) == ("2023-04-20", "late")
    status = {ln.unit: ln.status for ln in reporting.owed(engine, duty_campaign, as_of=at("2023-04-21"),
                                                          duty="weekly") if ln.period == "2023-04-20"}
    assert status == {"county-a": "submitted", "county-b": "late", "town-c1": "missing"}
    assert [ln.unit for ln in reporting.owed(engine, duty_campaign, as_of=at("2023-04-21"),
                                             status="missing", duty="weekly")] == ["town-c1"]
    # the next one submitted early is the next period's
    nxt = reporting.submit(engine, duty_campaign, unit="county-a", duty="weekly", attachment="甲县/周报2.docx",
                           actor="off.a", now=at("2023-04-24 09:00"))
    assert (nxt.period, nxt.status) == ("2023-04-27", "submitted")


def test_missing_reports_are_lapses_once_and_feed_the_ladder(engine, duty_campaign, calendar):
    reporting.submit(engine, duty_campaign, unit="county-a", duty="weekly", attachment="a.docx",
                     actor="off.a", now=at("2023-04-20 10:00"))
    reporting.submit(engine, duty_campaign, unit="town-c1", duty="weekly", attachment="c1.docx",
                     actor="off.c1", now=at("2023-04-20 14:00"))  # late but in
    assert _sweep(engine, duty_campaign, calendar, "2023-04-20 11:59") == 0  # not due yet
    assert _sweep(engine, duty_campaign, calendar, "2023-04-20 23:00") == 1  # county-b only
    with engine.connect() as conn:
        lapse = conn.execute(select(Lapse)).one()
    assert (lapse.kind, lapse.subject, lapse.key.split(":")[0]) == ("missed_report", "weekly/2023-04-20", "report")
    assert lapse.due_at == at("2023-04-20 12:00")
    assert _sweep(engine, duty_campaign, calendar, "2023-04-21 00:10") == 0  # once per report
    # a late submission afterwards does not undo the lapse
    reporting.submit(engine, duty_campaign, unit="county-b", duty="weekly", attachment="b.docx",
                     actor="off.b", now=at("2023-04-21 09:00"), period="2023-04-20")
    assert count(engine, Lapse) == 1
    # the month's briefing (25th) and the next week's report: all three units missed them
    assert _sweep(engine, duty_campaign, calendar, "2023-04-28 00:00") == 6
    assert count(engine, Lapse, Lapse.kind == "missed_report") == 7
    result = propose_for_lapses(engine, duty_campaign, now=at("2023-04-28 01:00"), calendar=calendar)
    assert result
    with engine.connect() as conn:
        cases = conn.execute(select(EscalationCase.cause, EscalationCase.level)).all()
    assert {(c.cause, c.level) for c in cases} == {("missed_report", 1)}
    assert len(cases) == 3  # one case per unit and cause, every lapse linked to it


def test_the_lead_office_owes_the_citywide_report(engine, duty_campaign, calendar):
    with pytest.raises(InvalidInput, match="乙县 does not owe 'city_report': it is owed by the lead office"):
        reporting.submit(engine, duty_campaign, unit="county-b", duty="city_report", attachment="x",
                         actor="off.b", now=at("2023-10-10"))
    done = reporting.submit(engine, duty_campaign, unit="city", duty="city_report", attachment="全市报告.pdf",
                            actor="sup.city", now=at("2023-10-14"))
    assert (done.period, done.status) == ("2023-10-15", "submitted")


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(duty="weekly", attachment=""), InvalidInput, "attachment reference is required"),
    (dict(duty="yearly", attachment="x"), InvalidInput, "unknown reporting duty 'yearly'"),
    (dict(duty="weekly", attachment="x", period="2023-04-21"), InvalidInput, "no period '2023-04-21'"),
    (dict(duty="weekly", attachment="x", actor="off.b"), PermissionDenied, "may not submit reports for 甲县"),
    (dict(duty="weekly", attachment="x", unit="county-z"), NotFound, "unknown unit 'county-z'"),
])
def test_bad_submissions_are_refused_and_change_nothing(engine, duty_campaign, kwargs, error, message):
    args = dict(unit="county-a", actor="off.a", now=at("2023-04-20 10:00")) | kwargs
    before = count(engine, AuditRecord)
    with pytest.raises(error, match=message):
        reporting.submit(engine, duty_campaign, **args)
    assert count(engine, ReportSubmission) == 0 and count(engine, AuditRecord) == before


def test_a_second_submission_for_the_same_period_is_a_conflict(engine, duty_campaign):
    reporting.submit(engine, duty_campaign, unit="county-a", duty="monthly", attachment="4月简报.docx",
                     actor="off.a", now=at("2023-04-24"), period="2023-04")
    with pytest.raises(ConflictError, match="甲县: 'monthly' for 2023-04 was already submitted by off.a"):
        reporting.submit(engine, duty_campaign, unit="county-a", duty="monthly", attachment="again.docx",
                         actor="sup.city", now=at("2023-04-25"), period="2023-04")
    assert count(engine, ReportSubmission) == 1


def test_a_supervisor_above_may_submit_for_a_unit_and_it_is_audited(engine, duty_campaign):
    reporting.submit(engine, duty_campaign, unit="town-c1", duty="monthly", attachment="简报.docx",
                     actor="sup.a", now=at("2023-04-24"), period="2023-04", note="代报")
    with engine.connect() as conn:
        rec = conn.execute(select(AuditRecord).where(AuditRecord.trigger == "submit_report")).one()
    assert (rec.entity, rec.actor, rec.to_state) == ("report", "sup.a", "submitted")
    assert '"period": "2023-04"' in rec.detail
