"""The parts every notice of a campaign shares (GB/T 9704-2012), from its plan.

发文机关 and its 标志, the campaign's name as a body says it, the 依据
sentence, 主送机关 (the unit's organ by its full name), 抄送 (the unit's
分管领导 and the task force) and 版记 (印发机关). The ladder's notices and a
round's notice take them from here, so they head and close alike.
"""
from __future__ import annotations

import re

from statemachine.plan import Plan, UnitSpec

__all__ = ["campaign_name", "common_fields", "organ_of", "copies_to"]

# a plan's title names a document (…专项整治工作实施方案); a notice names the work
_PLAN_WORDS = re.compile(r"(工作)?(实施|行动)?(工作)?方案(的通知)?$")


def campaign_name(title: str) -> str:
    """全市交通运输执法领域突出问题专项整治 from 全市…专项整治工作实施方案."""
    name = _PLAN_WORDS.sub("", re.sub(r"^关于(开展|印发)?", "", title.strip().strip("《》")))
    name = re.sub(r"(工作|行动)$", "", name)
    return name or title


def common_fields(plan: Plan) -> dict:
    info, docs = plan.campaign, plan.documents
    out = {"issuer_name": info.issuing_unit,
           "issuer_mark": docs.issuer_mark or f"{info.issuing_unit}文件",
           "campaign_title": campaign_name(info.title),
           "grounds": f"根据《{info.title}》（{info.doc_number}）有关要求",
           "printer": docs.printer or f"{info.issuing_unit}办公室"}
    if docs.contact:
        out["contact"] = docs.contact
        if docs.phone:
            out["phone"] = docs.phone
    return out


def _spec(plan: Plan, code: str) -> UnitSpec | None:
    return next((u for u in plan.units if u.code == code), None)


def organ_of(plan: Plan, code: str, fallback: str) -> str:
    """主送机关 of a unit; a unit the plan no longer lists keeps its stored name."""
    spec = _spec(plan, code)
    return plan.organ_of(spec) if spec is not None else fallback


def copies_to(plan: Plan, code: str | None) -> list[str]:
    """抄送: the unit's 分管领导 (by the organ and name the plan gives) and the task force."""
    docs, out = plan.documents, []
    spec = _spec(plan, code) if code else None
    if spec is not None and docs.cc_leader and spec.leader is not None:
        out.append(f"{plan.organ_of(spec)}分管负责同志{spec.leader.name}")
    if docs.task_force:
        out.append(docs.task_force)
    return out
