"""A report's own title, its 主送, and the place a unit's forms are titled after, for
the shipped plans' wordings (statemachine/reports/titles.py)."""
from __future__ import annotations

import pytest

from statemachine.reports.titles import TASK_FORCE, place_of, report_addressee, report_title


@pytest.mark.parametrize("organ, plan_title, kind, lead, want", [
    ("忻州市交通运输局", "全市交通运输执法领域突出问题专项整治工作实施方案", "monthly", True,
     "忻州市交通运输局关于全市交通运输执法领域突出问题专项整治工作情况的月报"),
    ("宁武县交通运输局", "全市交通运输执法领域突出问题专项整治工作实施方案", "weekly", False,
     "宁武县交通运输局关于交通运输执法领域突出问题专项整治工作情况的周报"),
    ("海西州交通运输局", "海西州交通运输执法领域突出问题专项整治行动工作方案", "final", True,
     "海西州交通运输局关于海西州交通运输执法领域突出问题专项整治行动工作情况的总结报告"),
    ("市委依法治市办", "关于开展全市道路交通安全和运输执法领域突出问题专项整治实施方案", "final", True,
     "市委依法治市办关于全市道路交通安全和运输执法领域突出问题专项整治工作情况的总结报告"),
])
def test_the_title_is_the_reporting_organs_not_the_plans(organ, plan_title, kind, lead, want):
    title = report_title(organ=organ, plan_title=plan_title, kind=kind, lead=lead)
    assert title == want and "方案" not in title


def test_a_stage_summary_names_its_stage_once():
    assert report_title(organ="甲县", plan_title="示例专项整治", kind="stage", stage="自查自纠") == \
        "甲县关于示例专项整治自查自纠阶段工作情况的总结"
    assert report_title(organ="甲县", plan_title="示例专项整治", kind="stage", stage="集中整治阶段").count("阶段") == 1


def test_the_addressee_is_the_level_above():
    assert report_addressee(parent="忻州市交通运输局", issuing_unit="忻州市交通运输局", organ="宁武县交通运输局") == \
        "忻州市交通运输局"
    assert report_addressee(parent=None, issuing_unit="自治区党委全面依法治区委员会办公室",
                            organ="内蒙古自治区交通运输厅") == "自治区党委全面依法治区委员会办公室"
    assert report_addressee(parent=None, issuing_unit="忻州市交通运输局", organ="忻州市交通运输局") == TASK_FORCE


@pytest.mark.parametrize("name, place", [("忻州市交通运输局", "忻州市"), ("宁武县交通运输局", "宁武县"),
                                         ("海西州交通运输局", "海西州"), ("鄂托克前旗交通运输局", "鄂托克前旗"),
                                         ("内蒙古自治区交通运输厅", "内蒙古自治区"), ("专项整治办", "专项整治办")])
def test_place_of_a_unit(name, place):
    assert place_of(name) == place
