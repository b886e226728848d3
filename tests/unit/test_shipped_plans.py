"""The shipped plans (deploy/plans/*.yaml) validate and keep the seeds' facts (docs/domain.md §1–§4).

They also must not carry the real people, phone numbers or mailboxes the seed
documents print: shipped contacts are fictional.
"""
from __future__ import annotations

import re
from datetime import date, time
from pathlib import Path

import pytest
import yaml

from statemachine.plan import Plan

PLANS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "plans"

EXPECTED = {
    "000-neimenggu-2023": ("neimenggu-2023", "NM"),
    "001-etuokeqianqi-2023": ("etuokeqianqi-2023", "EQ"),
    "002-city-2023": ("city-2023", "CS"),
    "003-xinzhou-2023": ("xinzhou-2023", "XZ"),
    "004-haixi-2023": ("haixi-2023", "HX"),
    "default-five-stage": ("default-2023", "DF"),
}
COMMON_ASPECTS = ["profit", "nonstandard", "rigid", "rough", "rent_seeking"]

# Real people, numbers and mailboxes printed in the seeds (names written without the
# spaces the seeds pad two-character names with). None may appear in a shipped plan.
REAL = {
    "000": ["杨伟东", "郑光照", "白清元", "庄林义", "云慧", "奇慧", "刘琪"],
    "001": ["热希", "阿荣娜", "卢强明", "康占锋", "赵占荣", "刘建军", "薛照葶", "马言江", "王丽霞",
            "高永军", "周喜悦", "尚生强", "胡章来", "袁海兵", "武世平"],
    "003": ["左百胜", "张祥生", "王卓斌", "郝建国", "于雷", "郑晓勇", "董晋骞", "张海峰", "陈文军",
            "智利军", "范文荣", "张俊马", "沈杏花", "戴晋荣", "杨璐", "刘怀远", "袁慧军", "白保存",
            "石变成", "13935011611", "xzjtzfd"],
    "004": ["王稼荣", "鲁关亚", "朱强", "韩辉", "李明", "谈重浩", "李军", "卓玛杰", "刘峰", "李绩龙",
            "沈元林", "姜磊", "张文魁", "张海龙", "杜兵", "任静", "冯尚君", "旦增尖措",
            "0977-8227673", "0977-8223651", "8227673", "8223651", "735746759"],
}
FORBIDDEN = sorted({s for v in REAL.values() for s in v})

XINZHOU_ANNEX4 = ["原平市", "宁武县", "保德县", "定襄县", "繁峙县", "神池县", "代县", "静乐县",
                  "岢岚县", "五寨县", "偏关县", "河曲县", "五台县", "五台山风景区"]
HAIXI_COUNTIES = ["格尔木市", "德令哈市", "茫崖市", "都兰县", "乌兰县", "天峻县", "大柴旦行委"]
NEIMENGGU_LEAGUES = ["呼和浩特市", "包头市", "乌海市", "赤峰市", "通辽市", "鄂尔多斯市", "呼伦贝尔市",
                     "巴彦淖尔市", "乌兰察布市", "兴安盟", "锡林郭勒盟", "阿拉善盟"]


def _files() -> list[Path]:
    return sorted(PLANS_DIR.glob("*.yaml"))


def _load(stem: str) -> Plan:
    return Plan.model_validate(yaml.safe_load((PLANS_DIR / f"{stem}.yaml").read_text(encoding="utf-8")))


def _stages(plan: Plan) -> list[tuple[str, date | None]]:
    return [(s.name, s.end) for s in plan.stages]


def _duty(plan: Plan, key: str):
    return next(d for d in plan.reporting if d.key == key)


def test_every_expected_plan_is_shipped():
    assert {p.stem for p in _files()} == set(EXPECTED)


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.stem)
def test_plan_validates(path: Path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#"), "a shipped plan opens with a comment naming its source"
    plan = Plan.model_validate(yaml.safe_load(text))
    code, prefix = EXPECTED[path.stem]
    assert plan.campaign.code == code
    assert plan.campaign.timezone == "Asia/Shanghai"
    assert plan.clues.number_prefix == prefix
    assert [a.key for a in plan.aspects][:5] == COMMON_ASPECTS
    assert plan.stages[-1].ongoing or path.stem.startswith("000")


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.stem)
def test_people_and_contacts_are_fictional_and_complete(path: Path):
    text = path.read_text(encoding="utf-8")
    compact = re.sub(r"\s+", "", text)
    leaked = [s for s in FORBIDDEN if s in text or s in compact]
    assert not leaked, f"{path.name} carries real names/numbers from the seeds: {leaked}"
    plan = Plan.model_validate(yaml.safe_load(text))
    contacts = [c for u in plan.units for c in (u.liaison, u.leader) if c] + list(plan.people)
    for c in contacts:
        assert re.fullmatch(r"1380000\d{4}", c.phone), (c.name, c.phone)
        assert c.email.endswith("@example.org"), (c.name, c.email)
    for u in plan.units:
        assert u.liaison is not None, f"{u.code} has no 联络员"
        if u.level == "county":
            assert u.leader is not None, f"{u.code} has no 分管领导"
    by_unit = {}
    for p in plan.people:
        by_unit.setdefault(p.unit, set()).add(p.role)
    assert "supervisor" in by_unit.get(plan.root.code, set())
    for u in plan.participants():
        assert "officer" in by_unit.get(u.code, set()), f"no officer for {u.code}"
    parents = {u.parent for u in plan.units if u.parent}
    for u in plan.units:  # intermediate units have a supervisor of their own
        if u.parent is not None and u.code in parents:
            assert "supervisor" in by_unit.get(u.code, set()), f"no supervisor at {u.code}"


def test_000_neimenggu():
    plan = _load("000-neimenggu-2023")
    assert plan.campaign.issued_on == date(2023, 3, 14)
    assert plan.campaign.issuing_unit == "自治区党委全面依法治区委员会办公室"
    assert [s.name for s in plan.stages] == ["部署动员", "自查自纠", "查纠整改", "总结提升"]
    assert plan.campaign.period.start.month == 3 and plan.campaign.period.end.month == 10
    assert all(date(2023, 3, 1) <= s.end <= date(2023, 10, 31) for s in plan.stages)
    leagues = [u for u in plan.units if u.level == "prefecture"]
    assert len(leagues) == 12
    assert sorted(u.name for u in leagues) == sorted(NEIMENGGU_LEAGUES)
    assert {u.name for u in plan.units if u.level == "department"} == {"自治区公安厅", "自治区交通运输厅"}
    assert all(u.parent == plan.root.code for u in plan.units if u is not plan.root)
    kinds = {d.schedule.kind: d for d in plan.reporting}
    assert kinds["weekly"].schedule.weekday == "mon"
    assert "monthly" in kinds and "stage_end" in kinds


def test_001_etuokeqianqi_keeps_the_inconsistent_summary_date():
    plan = _load("001-etuokeqianqi-2023")
    assert plan.campaign.doc_number == "鄂前交发〔2023〕29号"
    assert "鄂交发〔2023〕62号" in plan.campaign.implements
    assert plan.root.level == "county" and plan.root.name == "鄂托克前旗交通运输局"
    assert any(u.level == "team" and "执法大队" in u.name for u in plan.units)
    assert _stages(plan) == [("动员部署", date(2023, 3, 25)), ("自查自纠", date(2023, 6, 30)),
                             ("查纠整改", date(2023, 10, 31)), ("总结提升", None)]
    rectify, summary = plan.stages[2], plan.stages[3]
    assert rectify.start == date(2023, 7, 1)
    assert summary.ongoing and summary.summary_due == date(2023, 10, 1)
    assert summary.summary_due < rectify.end
    assert plan.reporting and all(d.schedule.kind == "monthly" and d.schedule.day == "last"
                                  for d in plan.reporting)


def test_002_city():
    plan = _load("002-city-2023")
    assert plan.root.name.startswith("市委依法治市办")
    assert {"市公安局", "市交通运输局"} <= {u.name for u in plan.units}
    assert len([u for u in plan.units if u.level == "county"]) >= 3
    assert _stages(plan) == [("安排部署", date(2023, 4, 5)), ("查纠整治", date(2023, 6, 30)),
                             ("实地督察", date(2023, 8, 31)), ("整改查处", date(2023, 10, 15)),
                             ("总结提升", None)]
    assert plan.stages[-1].ongoing
    final = _duty(plan, "final_report")
    assert final.typical_cases == 5
    assert "追责问责" in final.note and "容错免责" in final.note


def test_003_xinzhou():
    plan = _load("003-xinzhou-2023")
    c = plan.campaign
    assert (c.doc_number, c.issued_on) == ("忻交发〔2023〕56号", date(2023, 4, 7))
    assert (c.period.start, c.period.end) == (date(2023, 3, 15), date(2023, 10, 31))
    assert len(plan.aspects) == 6
    assert (plan.aspects[5].key, plan.aspects[5].name) == ("public_concern", "群众反映强烈的问题")
    # 附件4: 市交通局 + 14 county-level units; plus the enforcement team hosting the office
    assert len(plan.units) == 16
    assert plan.root.name == "忻州市交通运输局" and plan.root.level == "prefecture"
    counties = [u for u in plan.units if u.level == "county"]
    assert [u.name for u in counties] == XINZHOU_ANNEX4
    assert all(u.parent == plan.root.code for u in counties)
    team = [u for u in plan.units if u not in counties and u is not plan.root]
    assert len(team) == 1 and "综合行政执法队" in team[0].name and team[0].level == "department"
    wts = next(u for u in counties if u.name == "五台山风景区")
    assert "五台山旅发局" in wts.liaison.role
    assert sorted(u.code for u in plan.participants()) == sorted(u.code for u in counties)
    assert _stages(plan) == [("安排部署", date(2023, 4, 7)), ("自查自纠", date(2023, 5, 10)),
                             ("深入整改", date(2023, 8, 31)), ("实地督导", date(2023, 9, 30)),
                             ("总结提升", None)]
    assert plan.stages[1].start == date(2023, 4, 8) and plan.stages[2].start == date(2023, 5, 11)
    assert plan.stages[-1].ongoing and plan.stages[-1].summary_due == date(2023, 10, 25)
    assert "inspector" in {p.role for p in plan.people}
    self_check = _duty(plan, "self_check_report")
    assert (self_check.schedule.kind, self_check.schedule.day) == ("monthly", 8)
    assert self_check.start.month == 4
    items = _duty(plan, "item_list")
    assert (items.schedule.day, items.start) == (20, date(2023, 5, 1))
    assert _duty(plan, "work_progress").schedule.day == 20
    final = _duty(plan, "final_summary")
    assert (final.schedule.kind, final.schedule.due, final.typical_cases) == \
        ("once", date(2023, 9, 10), 3)


def test_004_haixi():
    plan = _load("004-haixi-2023")
    c = plan.campaign
    assert c.doc_number == "西交运字〔2023〕85号"
    assert "西法办发〔2023〕4号" in c.implements and "青交〔2023〕73号" in c.implements
    assert (plan.aspects[5].key, plan.aspects[5].name) == ("duty_failure", "执法履职不到位问题")
    assert plan.root.name == "海西州交通运输局"
    assert [u.name for u in plan.units if u.level == "county"] == HAIXI_COUNTIES
    assert any(u.name == "州交通运输综合行政执法监督局" and u.level == "department" for u in plan.units)
    assert _stages(plan) == [("安排部署", date(2023, 4, 20)), ("查摆问题", date(2023, 5, 10)),
                             ("集中整治", date(2023, 9, 30)), ("总结报告", date(2023, 10, 31)),
                             ("巩固提升", None)]
    assert plan.stages[1].summary_due == date(2023, 5, 15)
    assert plan.stages[-1].ongoing
    weekly = [d for d in plan.reporting if d.schedule.kind == "weekly"]
    assert len(weekly) == 1
    assert (weekly[0].schedule.weekday, weekly[0].schedule.at) == ("thu", time(12, 0))
    once = {d.schedule.due: d for d in plan.reporting if d.schedule.kind == "once"}
    assert {date(2023, 4, 17), date(2023, 7, 20), date(2023, 9, 20), date(2023, 10, 8),
            date(2023, 10, 15)} <= set(once)
    assert once[date(2023, 10, 8)].typical_cases == 2
    assert once[date(2023, 10, 15)].owed_by == "lead"
    monthly = [d for d in plan.reporting if d.schedule.kind == "monthly"]
    assert [d.schedule.day for d in monthly] == [25]


def test_default_has_the_design_card_stages():
    plan = _load("default-five-stage")
    assert [s.name for s in plan.stages] == ["动员部署", "自查自纠", "查纠整改", "实地督察", "总结提升"]
    assert plan.stages[-1].ongoing and not any(s.ongoing for s in plan.stages[:-1])
    assert (plan.campaign.period.start, plan.campaign.period.end) == (date(2023, 3, 15),
                                                                      date(2023, 10, 31))
    assert [u.level for u in plan.units] == ["province", "prefecture", "county", "county"]
