"""What an operator reads after a night (services/ladder/board.py), on SQLite and
PostgreSQL: one row per case the pass acted on, in Chinese, with its 文号 and deadline
(an escalation by the case it opened), and what waits for a person with its colour."""
from __future__ import annotations

from services.campaigns.load import campaign_id
from services.clues import lifecycle as clues
from services.ladder import automatic as rnd
from services.ladder import sweep
from services.ladder.board import case_rows, waiting

from ..conftest import at

CHANNELS = ("webhook", "file")


def night(engine, campaign, calendar, when: str) -> dict[int, list[str]]:
    """Sweep and escalation pass as the nightly job runs them: case id → actions, in order."""
    as_of, cid = at(when), campaign_id(engine, campaign)
    params = sweep.parameters(engine, cid, as_of, calendar)
    for step in sweep.STEPS:
        sweep.run_step(engine, step, campaign_id=cid, as_of=as_of, run_key=f"r-{when}", params=params)
    lines = rnd.propose_for_lapses(engine, campaign, now=as_of, calendar=calendar)
    for step in (rnd.issue_automatic, rnd.escalate_unanswered, rnd.chase_overdue):
        lines += step(engine, campaign, now=as_of, calendar=calendar, channels=CHANNELS)
    acted: dict[int, list[str]] = {}
    for ln in lines:
        acted.setdefault(ln.case_id, []).append(ln.action)
    return acted


def test_one_row_per_case_in_chinese_and_escalations_by_the_case_they_opened(engine, campaign, calendar):
    cid = campaign_id(engine, campaign)
    first = night(engine, campaign, calendar, "2023-04-08 00:05")
    assert sorted(first.values()) == [["proposed", "issued"]] * 3  # the pass's lines list each twice
    rows = case_rows(engine, cid, first)
    assert [r.case_id for r in rows] == sorted(first)  # each once
    assert [(r.unit_name, r.cause, r.level, r.doc_number, r.due, r.state, r.action) for r in rows] == [
        (name, "未按期完成阶段任务", "通报批评", f"整治督〔2023〕{n}号", "2023-04-21", "已下发", "已下发通知")
        for n, name in enumerate(("甲县", "乙县", "甲县交通运输执法大队"), 1)]

    night(engine, campaign, calendar, "2023-04-22 00:05")  # chased
    up = night(engine, campaign, calendar, "2023-04-28 00:05")
    assert sorted(up.values()) == [["escalated"]] * 3
    rows = case_rows(engine, cid, up)
    assert {r.from_case for r in rows} == set(up) and not {r.case_id for r in rows} & set(up)
    assert {(r.level, r.state, r.doc_number, r.action) for r in rows} == {("函询约谈", "待确认", "—", "升级督办")}
    assert rows[0].as_row()["原案件"] == rows[0].from_case


def test_what_waits_for_a_person_longest_first_with_its_early_warning(engine, campaign, calendar):
    cid = campaign_id(engine, campaign)
    for when in ("2023-04-08 00:05", "2023-04-22 00:05", "2023-04-28 00:05"):
        night(engine, campaign, calendar, when)  # three 函询约谈 proposed on 04-28
    [number] = clues.add_clues(engine, campaign, [clues.NewClue(channel="12345", aspect="profit",
                                                                summary="设卡乱罚款", unit="county-a")],
                               actor="sup.city", now=at("2023-04-24 09:00"), calendar=calendar)
    for day, trigger, data in ((24, "verify", {}),
                               (25, "substantiate", dict(measures="退还罚款", deadline=at("2023-05-10").date(),
                                                         owner="赵书涵")),
                               (26, "submit_evidence", dict(evidence="票据.pdf"))):
        clues.transition(engine, campaign, number, trigger, actor="off.a", now=at(f"2023-04-{day} 10:00"),
                         data=clues.ClueInput(**data))

    rows = waiting(engine, cid, now=at("2023-04-28 09:00"), calendar=calendar)
    assert [(r.what, r.days) for r in rows] == [("待审核销号", 1)] + [("待确认督办", 0)] * 3
    assert rows[0].ref == number and rows[0].item == "设卡乱罚款" and rows[0].warning == "正常"
    assert {r.item for r in rows[1:]} == {"函询约谈 · 未按期完成阶段任务"}
    assert rows[1].as_row()["预警"] == "正常"

    def colour(when: str) -> str:
        return next(r.warning for r in waiting(engine, cid, now=at(when), calendar=calendar) if r.ref == number)

    # the 销号 holds up the item's deadline (05-10): blue within 3 days, yellow within 1, red after
    assert [colour(w) for w in ("2023-05-06 12:00", "2023-05-08 12:00", "2023-05-10 12:00", "2023-05-11 09:00")] \
        == ["正常", "蓝色预警", "黄色预警", "红色预警(逾期)"]
    late = waiting(engine, cid, now=at("2023-06-01 09:00"), calendar=calendar)
    assert {r.warning for r in late if r.what == "待确认督办"} == {"红色预警(逾期)"}  # a month undecided
