"""Golden files: the text of every notice kind for one fixed, fictional case, as the
receiving office reads it (tests/golden/notices/*.txt).

A change to a template, to the facts' wording (services/ladder/cases.py
`fact_line`) or to the letterhead shows up here as a diff to read sentence by
sentence. After reviewing it, regenerate with

    RECTIFY_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/test_notice_golden.py

and commit the files. Beside the comparison, every text is held to what the
issue's reviewers found: no internal keys, no doubled words or sentences, no
template seams, no 抽样种子.
"""
from __future__ import annotations

import os
import re
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from notifications.documents.notices import render_notice
from services.ladder.cases import Ladder, _interview, fact_line
from services.notices.letterhead import common_fields, copies_to
from statemachine.plan import Plan
from statemachine.time.calendar import TZ

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "notices"
UPDATE = os.environ.get("RECTIFY_UPDATE_GOLDEN") == "1"
PLAN = Plan.model_validate({
    "campaign": {"code": "shili-2023", "title": "全市交通运输执法领域突出问题专项整治工作实施方案",
                 "doc_number": "示交发〔2023〕56号", "issuing_unit": "示例市交通运输局",
                 "period": {"start": "2023-03-15", "end": "2023-10-31"}},
    "aspects": [{"key": "profit", "name": "“逐利执法”问题"}],
    "units": [{"code": "city", "name": "示例市交通运输局", "level": "prefecture"},
              {"code": "jiaxian", "name": "甲县", "level": "county", "parent": "city",
               "leader": {"name": "赵书涵", "role": "分管领导（甲县交通运输局）", "phone": "13800000001"}}],
    "stages": [{"key": "deploy", "name": "安排部署", "end": "2023-04-07",
                "deliverables": [{"key": "impl_plan", "name": "实施方案"}, {"key": "ledger", "name": "工作台账"}]},
               {"key": "summary", "name": "总结提升", "ongoing": True}],
    "reporting": [{"key": "monthly", "name": "工作推进情况", "schedule": {"kind": "monthly", "day": 20}}],
    "documents": {"task_force": "示例市交通运输执法领域突出问题专项整治工作领导小组办公室",
                  "contact": "钱文博", "phone": "0350-0000000"},
})
DUE = datetime(2023, 4, 7, 23, 59, 59, tzinfo=TZ)
FACTS = [
    fact_line(PLAN, "stage_deadline", "deploy", DUE),
    fact_line(PLAN, "deliverables_overdue", "deploy", DUE),
    fact_line(PLAN, "verify_overdue", "XS-2023-00011", datetime(2023, 4, 20, 23, 59, tzinfo=TZ),
              number="XS-2023-00011", summary="群众反映国道示例线超限检测站违规设卡拦车"),
    fact_line(PLAN, "rectify_overdue", "XS-2023-00012", datetime(2023, 5, 10, 23, 59, tzinfo=TZ),
              number="XS-2023-00012", summary="执法大队下达罚没指标，以罚代管"),
    fact_line(PLAN, "missed_report", "monthly/2023-04", datetime(2023, 4, 20, 23, 59, tzinfo=TZ)),
    fact_line(PLAN, "no_progress", "no_progress", datetime(2023, 4, 3, 16, 0, tzinfo=TZ)),
]
BASE = {**common_fields(PLAN), "doc_number": "示交督〔2023〕7号", "addressee": PLAN.organ_of("jiaxian"),
        "date": date(2023, 5, 12), "cc": copies_to(PLAN, "jiaxian"), "facts": FACTS,
        "deadline": date(2023, 5, 26), "required_action": "对照通报指出的问题立即整改"}
CASES = {
    "criticism": ("criticism", {}),
    "interview": ("interview", {"required_action": "对照约谈指出的问题逐项整改",
                                "interview_at": datetime(2023, 5, 17, 9, 30, tzinfo=TZ),
                                "interview_place": "示例市交通运输局三楼会议室",
                                "attendees": "你单位主要负责同志、分管负责同志"}),
    # a supervisor gave the time and place for this case (services/ladder/cases.py `_interview`);
    # who attends is the plan's default, as it is for anything not given
    "interview-arranged": ("interview", {"required_action": "对照约谈指出的问题逐项整改", **_interview(
        Ladder(0, PLAN, None, ()), SimpleNamespace(interview_scheduled_at=datetime(2023, 5, 16, 14, 30, tzinfo=TZ),
                                                   interview_place="示例市交通运输局五楼第二会议室",
                                                   interview_attendees=None),
        datetime(2023, 5, 12, 10, 0, tzinfo=TZ))}),
    "listed": ("listed", {"facts": [fact_line(PLAN, "rectify_overdue", "XS-2023-00012",
                                              datetime(2023, 5, 10, 23, 59, tzinfo=TZ), number="XS-2023-00012",
                                              summary="执法大队下达罚没指标，以罚代管")],
                          "required_action": "制定整改方案，明确责任人员和整改措施，逐项整改",
                          "attachments": ["挂牌督办问题清单"]}),
    "chase": ("chase", {"chased_doc_number": "示交督〔2023〕3号", "chased_title": "关于对甲县交通运输局的通报批评",
                        "original_deadline": date(2023, 4, 21)}),
    "delisting": ("delisting", {"listed_doc_number": "示交督〔2023〕5号", "listed_title": "挂牌督办通知书",
                                "verification": "经实地核查，罚没指标文件已废止，相关责任人已作处理。"}),
    "accountability": ("accountability", {"required_action": "配合调查核实，如实说明情况"}),
    "accountability-accountable": ("accountability", {"required_action": "配合调查核实，如实说明情况",
                                                      "decision": "accountable",
                                                      "decision_text": "对相关责任人进行诫勉谈话"}),
    "accountability-exempt": ("accountability", {"required_action": "配合调查核实，如实说明情况",
                                                 "decision": "exempt",
                                                 "exemption_grounds": "系为推动发展的无意过失，未谋取私利"}),
    "transfer": ("transfer", {"receiving_organ": "示例市纪委监委", "cc": copies_to(PLAN, None)}),
    "inspection": ("inspection", {"addressee": "各有关单位", "cc": copies_to(PLAN, None),
                                  "round_title": "专项整治问题整改“回头看”", "kind_label": "整改“回头看”",
                                  "facts": ["核查范围：示例市交通运输局及所属各单位",
                                            "抽查方式：每个单位随机抽取 30%（每单位不少于 1 件），共 12 件"]}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_kind_reads_as_its_golden_file(name):
    kind, extra = CASES[name]
    text = render_notice(kind, BASE | extra, check_code="12-ABCDEF01").text
    path = GOLDEN / f"{name}.txt"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with RECTIFY_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_keys_doubled_words_or_template_seams(name):
    kind, extra = CASES[name]
    text = render_notice(kind, BASE | extra).text
    assert not re.findall(r"\b[a-z_]{3,}\b", text), "an internal key in the text"
    assert not re.search(r"([\u4e00-\u9fff]{2,})\1", text), "a doubled word"
    sentences = [s for s in re.split(r"[。；]", text) if s.strip()]
    assert len(sentences) == len(set(sentences)), "a doubled sentence"
    assert not [s for s in sentences if s.count("书面报送") > 1 or s.count("并于") > 1]
    assert "。。" not in text and "实施方案中" not in text and "抽样种子" not in text
    assert "甲县：" not in text  # 主送 is the organ, never the bare county
    if kind not in ("transfer", "inspection"):
        assert "甲县交通运输局：" in text
    assert "抄送：" in text and "示例市交通运输局办公室　　2023年5月12日印发" in text


def test_the_facts_name_stages_reports_and_clues_in_chinese():
    assert FACTS == [
        "未按期完成“安排部署”阶段任务（阶段截止时间为2023年4月7日）",
        "未按期提交“安排部署”阶段成果（实施方案、工作台账），应于2023年4月7日前提交",
        "问题线索“群众反映国道示例线超限检测站违规设卡拦车”（编号XS-2023-00011）未按期核查，核查期限为2023年4月20日",
        "问题“执法大队下达罚没指标，以罚代管”（编号XS-2023-00012）未按期整改到位，整改期限为2023年5月10日",
        "未按时报送工作推进情况（2023年4月），应于2023年4月20日前报送",
        "在办问题自2023年4月3日以来无办理进展，整改工作长期停滞（“躺平式”整改）",
    ]
