"""Every number the final report prints equals the database's count, on SQLite and
PostgreSQL, and the report's figures agree with each other and with its ledger.

The counts here are read from the rows and counted by the domain's own rules
(statemachine/reports/counting.py `bucket`, the ladder's levels, the clue chart's
states), not by the report's SQL: the report once said 移交纪检监察 0 while its
ledger listed an item transferred to 纪检监察.
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import date

import openpyxl
import pytest
from sqlalchemy import select

from models.tables import Clue, EscalationCase, Unit
from services.clues.chart import overdue_sql
from services.clues.lifecycle import ClueInput, NewClue, add_clues, bulk_transition
from services.clues.typical import mark_typical
from services.ladder import cases as esc
from services.reports import generate as reports
from statemachine.charts.clue import ClueState
from statemachine.charts.ladder import LEVEL_LABELS, Level
from statemachine.reports.counting import DONE, Figures, bucket

from ..conftest import at

SUP = dict(actor="sup.city")
NOW = "2023-10-20 09:00"


def _add(engine, campaign, calendar, unit: str, n: int, *, kind: str = "clue") -> list[str]:
    channel = "自查自纠" if kind == "self_inspection" else "12345"
    return add_clues(engine, campaign, [NewClue(channel=channel, aspect="profit", summary=f"{unit} 问题 {i}",
                                                unit=unit, kind=kind) for i in range(n)],
                     now=at("2023-04-10"), calendar=calendar, **SUP)


def _step(engine, campaign, numbers, trigger, day: str, **data):
    moved = bulk_transition(engine, campaign, trigger, numbers=numbers, now=at(day), data=ClueInput(**data),
                            **SUP).moved
    assert len(moved) == len(numbers)


@pytest.fixture
def final(engine, campaign, calendar, tmp_path):
    """A campaign with an item in every state, measures at every level that a report
    counts apart, and the final report generated from it."""
    a = _add(engine, campaign, calendar, "county-a", 7)
    b = _add(engine, campaign, calendar, "county-b", 3)
    t = _add(engine, campaign, calendar, "town-c1", 2)
    selfs = _add(engine, campaign, calendar, "county-b", 3, kind="self_inspection")
    _step(engine, campaign, a + b + t[:1] + selfs, "verify", "2023-04-12")
    _step(engine, campaign, a[:1], "dismiss", "2023-04-13", reason="查无实据")
    _step(engine, campaign, a[1:6] + b + selfs, "substantiate", "2023-04-14", measures="立行立改",
          deadline=date(2023, 6, 30), owner="王主任")
    _step(engine, campaign, a[1:3] + selfs[:2], "submit_evidence", "2023-05-10", evidence="甲县/整改报告.pdf")
    _step(engine, campaign, a[1:3] + selfs[:2], "approve", "2023-05-12")
    _step(engine, campaign, a[3:4], "defer", "2023-05-15", stage_result="已拆除 3 处路障",
          long_term_measure="纳入年度执法检查")
    _step(engine, campaign, a[4:5] + b[:1], "transfer", "2023-05-20", reason="涉嫌违纪，移交纪检监察")
    mark_typical(engine, campaign, a[1], note="正面典型：取消罚没指标", now=at("2023-09-01"), **SUP)
    kw = dict(calendar=calendar, channels=())
    esc.escalate_unit(engine, campaign, "county-b", 1, actor="sup.city", now=at("2023-07-03"),
                      data=esc.CaseInput(reason="整改工作不力"), **kw)
    acc = esc.escalate_unit(engine, campaign, "county-a", 4, actor="sup.city", now=at("2023-07-05"),
                            data=esc.CaseInput(reason="整改弄虚作假"), **kw)
    esc.fire(engine, campaign, acc.id, "decide", actor="sup.city", now=at("2023-07-20"),
             data=esc.CaseInput(decision="accountable", decision_text="对相关责任人予以诫勉谈话"), **kw)
    esc.escalate_unit(engine, campaign, "county-b", 5, actor="sup.city", now=at("2023-07-21"),
                      data=esc.CaseInput(reason="辅警违纪线索", receiving_organ="示例市纪委监委"), **kw)
    g = reports.generate(engine, campaign, kind="final", out_dir=tmp_path, now=at(NOW), **SUP)
    return g


def _rows(engine):
    T, U, E = Clue.__table__, Unit.__table__, EscalationCase.__table__
    with engine.connect() as conn:
        clues = conn.execute(select(T.c.kind, T.c.state, T.c.aspect_key, U.c.path, U.c.name)
                             .join(U, U.c.id == T.c.unit_id)).all()
        overdue = conn.execute(select(T.c.id).where(overdue_sql(at(NOW)))).all()
        cases = conn.execute(select(E.c.level, E.c.issued_at, E.c.resolved_at, E.c.decision)).all()
        units = {r.name: r.path for r in conn.execute(select(U.c.name, U.c.path))}
    return clues, len(overdue), cases, units


def _figures(clues) -> Figures:
    return Figures.of(Counter(bucket(c.kind, c.state) for c in clues))


def _section(md: str, start: str, end: str) -> str:
    return md.split(start, 1)[1].split(end, 1)[0]


def test_every_number_in_the_final_report_is_the_databases(final, engine):
    md = final.markdown
    clues, overdue, cases, units = _rows(engine)
    figs = _figures(clues)

    # 二、工作成效: the sentence
    assert figs.sentence() in _section(md, "## 二、工作成效", "## 三")
    nums = [int(x) for x in re.findall(r"(\d+) 件", _section(md, "## 二、工作成效", "## 三"))]
    assert nums == [figs.clues, figs.concluded, figs.ongoing, figs.in_progress, figs.self_inspection,
                    figs.self_rectified]

    # 三、发现问题: per aspect, and the overdue items
    found = _section(md, "## 三、发现问题", "## 四")
    assert f"“逐利执法”问题：{len(clues)} 件，已整改 {sum(ClueState(c.state) in DONE for c in clues)} 件" in found
    assert f"逾期未整改问题 {overdue} 件" in found and overdue == 7  # every item open past its date

    # 四、追责问责: measures by level, decisions, transfers (items and units)
    issued = [c for c in cases if c.issued_at is not None]
    transferred_items = sum(c.state == ClueState.transferred.value for c in clues)
    transfer_cases = sum(c.level == Level.transfer for c in issued)
    text = _section(md, "## 四、追责问责", "## 五")
    by_level = "，".join(f"{LEVEL_LABELS[lv]} {sum(c.level == lv for c in issued)}" for lv in Level)
    assert f"共下发督办措施 {len(issued)} 项（{by_level}）" in text
    assert f"已办结 {sum(c.resolved_at is not None for c in issued)} 项" in text
    assert f"追责问责 {sum(c.decision == 'accountable' for c in cases)} 起" in text
    assert f"容错免责 {sum(c.decision == 'exempt' for c in cases)} 起" in text
    assert (f"移交纪检监察 {transferred_items + transfer_cases} 件（其中问题线索 {transferred_items} 件，"
            f"督办升级 {transfer_cases} 件") in text
    assert (transferred_items, transfer_cases) == (2, 1)

    # 附件1: the ledger counts every item and lists each transferred one as such
    ledger = _section(md, "### 附件1", "### 附件2")
    assert f"共 {len(clues)} 件。" in ledger
    assert ledger.count("| 移交纪检监察 |") == transferred_items
    assert len(re.findall(r"^\| \d+ \| XS-", ledger, re.M)) == len(clues)

    # 附件2: each unit's line is its subtree's figures
    table = _section(md, "### 附件2", "### 附件3")
    for name in ("甲县", "乙县"):
        mine = _figures([c for c in clues if c.path.startswith(units[name])])
        rate = f"{mine.rate * 100:.1f}%"
        assert re.search(rf"^\| {name} \| {mine.clues} \| {mine.concluded} \| {mine.ongoing} \| {mine.in_progress} "
                         rf"\| {mine.self_inspection} \| {mine.self_rectified} \| {re.escape(rate)} \|", table, re.M)

    # 附件4: one line per decision and per transfer, and the same count as 四
    annex = _section(md, "### 附件4", "### 附图")
    assert f"移交纪检监察 {transferred_items + transfer_cases} 件：" in annex
    assert len(re.findall(r"^- .*移交(示例市纪委监委|纪检监察机关)）$", annex, re.M)) == \
        transferred_items + transfer_cases
    assert f"追责问责 {sum(c.decision == 'accountable' for c in cases)} 起：" in annex


def test_the_workbook_agrees_with_the_report(final, engine):
    clues, _, cases, _ = _rows(engine)
    wb = openpyxl.load_workbook(final.files["xlsx"])
    ledger = wb["台账004"]
    progress = [r[0] for r in ledger.iter_rows(min_row=4, min_col=7, max_col=7, values_only=True) if r[0]]
    transferred = sum(c.state == ClueState.transferred.value for c in clues)
    assert progress.count("已移交纪检监察") == transferred
    sheet = wb["追责问责容错免责"]
    kinds = Counter(r[0] for r in sheet.iter_rows(min_row=4, max_col=1, values_only=True) if r[0])
    assert kinds == {"追责问责": 1, "移交纪检监察": transferred + 1}


def test_a_typical_cases_effect_is_words_not_a_file(final):
    typical = _section(final.markdown, "### 附件3", "### 附件4")
    assert "甲县/整改报告.pdf" not in typical and ".pdf" not in typical
    assert "成效：已整改到位，经审核销号。正面典型：取消罚没指标" in typical
