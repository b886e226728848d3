"""bench/sweep.py measures the sweep against a hand-written floor; the ratio
means something only while the floor makes exactly the sweep's rows. Checked
here on a campaign where every kind of lapse the floor writes occurs."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from bench.sweep import clear_lapses, floor, lapse_rows
from models.tables import Lapse
from services.campaigns.load import campaign_id, load_plan
from services.clues import lifecycle as clues
from services.clues.signing import sign
from services.ladder import sweep
from services.reports import duties as reporting
from statemachine.plan import Plan

from ..conftest import at
from .test_stage_deliverables import plan as plan_with_summary_due, walk

L = Lapse.__table__


def test_the_benchmarks_floor_makes_exactly_the_sweeps_lapses(engine, calendar):
    data = plan_with_summary_due().model_dump()
    data["reporting"] = [
        {"key": "monthly", "name": "工作月报", "schedule": {"kind": "monthly", "day": 25},
         "start": "2023-04-01", "until": "2023-10-31"},
        {"key": "stage_summary", "name": "阶段小结", "schedule": {"kind": "stage_end"}},
        {"key": "lead_report", "name": "总结报告", "schedule": {"kind": "once", "due": "2023-10-15"},
         "owed_by": "lead"}]
    data["clues"]["sign_for"] = "1 working day"  # 签收: an unsigned item is a lapse too
    plan = Plan.model_validate(data)
    load_plan(engine, plan, source="floor", now=at("2023-03-15"))
    code, cid = plan.campaign.code, campaign_id(engine, plan.campaign.code)
    walk(engine, code, "county-a", "summary")          # owes 长效机制 since 10-25
    walk(engine, code, "county-b", "self_check")       # late in 自查自纠 since 05-10
    reporting.submit(engine, code, unit="county-b", duty="monthly", period="2023-04", attachment="4.pdf",
                     actor="off.b", now=at("2023-04-20"))
    numbers = clues.add_clues(engine, code, [clues.NewClue(channel="12345", aspect="profit", summary=s,
                                                           unit="county-a") for s in ("罚款不开票", "乱设卡点")],
                              actor="sup.city", now=at("2023-05-02"), calendar=calendar)
    sign(engine, code, numbers[1], actor="off.a", now=at("2023-05-03"))  # numbers[0] is never signed
    clues.transition(engine, code, numbers[1], "verify", actor="off.a", now=at("2023-05-03"))
    clues.transition(engine, code, numbers[1], "substantiate", actor="off.a", now=at("2023-05-04"),
                     data=clues.ClueInput(measures="撤除卡点", deadline=date(2023, 6, 30), owner="赵书涵"))
    # closed by 销号 in May with a reporter's contact: its callback (回访) is long overdue
    called = clues.add_clues(engine, code, [clues.NewClue(channel="12345", aspect="profit", summary="违规罚款",
                                                          unit="county-a", reporter_phone="13800000101")],
                             actor="sup.city", now=at("2023-05-02"), calendar=calendar)[0]
    sign(engine, code, called, actor="off.a", now=at("2023-05-03"))  # the plan asks for 签收 first
    for step, who, day in (("verify", "off.a", "05-03"), ("substantiate", "off.a", "05-04"),
                           ("submit_evidence", "off.a", "05-05"), ("approve", "sup.city", "05-08")):
        clues.transition(engine, code, called, step, actor=who, now=at(f"2023-{day}"), calendar=calendar,
                         data=clues.ClueInput(measures="退还罚款", deadline=date(2023, 6, 30), owner="赵书涵",
                                              evidence="退款凭证.pdf"))

    as_of = at("2023-10-26 00:05")
    params = sweep.parameters(engine, cid, as_of, calendar)
    for step in sweep.STEPS:
        sweep.run_step(engine, step, campaign_id=cid, as_of=as_of, run_key="sweep", params=params)
    by_sweep = lapse_rows(engine)
    with engine.connect() as conn:
        kinds = dict(conn.execute(select(L.c.kind, func.count()).group_by(L.c.kind)).all())
    assert set(kinds) == {"stage_deadline", "deliverables_overdue", "verify_overdue", "rectify_overdue",
                          "no_progress", "missed_report", "sign_for_overdue", "callback_overdue"}
    clear_lapses(engine)
    _, made = floor(engine, cid, as_of)
    assert made == len(by_sweep) == sum(kinds.values())
    assert lapse_rows(engine) == by_sweep
