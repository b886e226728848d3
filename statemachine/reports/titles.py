"""The words a generated report carries as a 公文 of its own (docs/domain.md §10):
its title, its 主送 and the place a unit's documents are named after.

A report is the reporting organ's document, not the plan's: "忻州市交通运输局关于
全市交通运输执法领域突出问题专项整治工作情况的月报", never "…工作实施方案工作月报",
and the plan's 文号 is the plan's, cited in the text, never shown as the report's.
"""
from __future__ import annotations

import re

__all__ = ["campaign_subject", "report_title", "report_addressee", "place_of", "TASK_FORCE", "KIND_WORDS"]

# what the title ends with, per report kind (statemachine/reports/duties.py REPORT_KINDS)
KIND_WORDS = {"weekly": "周报", "monthly": "月报", "stage": "总结", "final": "总结报告"}
# the body every plan sets up to lead the campaign (000's deliverable 专项整治领导小组)
TASK_FORCE = "专项整治工作领导小组"

_PLAN_WORDS = ("工作实施方案", "实施方案", "工作方案", "方案")
_SCOPE = re.compile(r"^全(?:省|市|区|州|盟|旗|县)")
# 州 in 忻州市 is part of the city's name, not a 州 of its own
_PLACE = re.compile(r"^(.+?(?:自治区|自治州|自治县|自治旗|特别行政区|省|市|州(?!市)|盟|地区|县|区|旗))")


def campaign_subject(plan_title: str) -> str:
    """The campaign a plan's title names, without the plan: "关于开展全市…专项整治
    实施方案" → "全市…专项整治"; "…专项整治行动工作方案" → "…专项整治行动"."""
    s = plan_title.strip().strip("《》")
    for lead in ("关于开展", "关于"):
        if s.startswith(lead):
            s = s[len(lead):]
            break
    for tail in _PLAN_WORDS:
        if s.endswith(tail) and len(s) > len(tail):
            s = s[: -len(tail)]
            break
    if s.endswith("工作") and len(s) > 2:
        s = s[:-2]
    return s


def report_title(*, organ: str, plan_title: str, kind: str, stage: str | None = None,
                 lead: bool = True) -> str:
    """`organ`: the reporting unit's name; `lead`: it is the plan's own (root) unit, so
    a "全市…" in the plan's title is its own scope; another unit reports on its part."""
    subject = campaign_subject(plan_title)
    if not lead:
        subject = _SCOPE.sub("", subject) or subject
    if kind == "stage" and stage:
        subject += stage if stage.endswith("阶段") else f"{stage}阶段"
    return f"{organ}关于{subject}工作情况的{KIND_WORDS[kind]}"


def report_addressee(*, parent: str | None, issuing_unit: str, organ: str) -> str:
    """主送: the level above; for the lead unit, the plan's issuing organ when that is
    another one (a 依法治办 whose plan a 交通运输厅 carries out), else the campaign's
    leading group."""
    if parent:
        return parent
    if issuing_unit and not organ.startswith(issuing_unit):  # 市委依法治市办（市司法局） is itself
        return issuing_unit
    return TASK_FORCE


def place_of(unit_name: str) -> str:
    """The place a unit's name begins with: "忻州市交通运输局" → "忻州市"; the whole
    name when it names none."""
    m = _PLACE.match(unit_name.strip())
    return m.group(1) if m else unit_name.strip()
