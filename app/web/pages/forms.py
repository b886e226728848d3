"""What an action's form asks for: a field for each guard on what the person supplies
(services/core/actions.py lists them as the action's `needs`), and how a posted
field becomes the services' input. The rule stays in the chart's guard: a field
left empty is refused by it, with its one line, and nothing changes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.core.actions import Action
from statemachine.charts.lookback import METHODS
from statemachine.errors import InvalidInput

__all__ = ["Field", "fields_for", "text", "day", "number", "TEXT_MAX"]

TEXT_MAX = 4000


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"          # text | textarea | date | select
    required: bool = True
    options: tuple[tuple[str, str], ...] = ()


DECISIONS = (("accountable", "追责问责"), ("exempt", "容错免责"))

# a guard on the person's input → the fields that satisfy it (statemachine/charts/)
NEEDS: dict[str, tuple[Field, ...]] = {
    "has_measures": (Field("measures", "整改措施", "textarea"),),
    "has_deadline": (Field("deadline", "完成时限", "date"),),
    "has_owner": (Field("owner", "责任人"),),
    "has_reason": (Field("reason", "理由", "textarea"),),
    "has_target": (Field("to", "改派至单位（代码或名称）"),),
    "has_until": (Field("until", "申请延期至", "date"),),
    "has_evidence": (Field("evidence", "可验证成果（材料名称、文号或说明）", "textarea"),),
    "has_stage_result": (Field("stage_result", "阶段性成效", "textarea"),),
    "has_long_term_measure": (Field("long_term_measure", "长期举措", "textarea"),),
    "has_merge_target": (Field("into", "并入的事项编号（保留的事项）"),),
    "has_response": (Field("response", "整改报告", "textarea"),),
    "has_minutes": (Field("minutes", "约谈记录", "textarea"),),
    "has_report_due": (Field("report_due", "书面整改报告报送期限", "date"),),
    "has_note": (Field("note", "核实情况", "textarea"),),
    "has_follow_up": (Field("follow_up", "办理结果", "textarea"),),
    "decision_valid": (Field("decision", "处理决定", "select", options=DECISIONS),
                       Field("decision_text", "处理结果（追责时填写）", "textarea", required=False),
                       Field("grounds", "容错免责依据（三个区分开来）", "textarea", required=False)),
}
# fields a step takes without a guard asking for them
OPTIONAL: dict[tuple[str, str], tuple[Field, ...]] = {
    ("clue", "substantiate"): (Field("result_form", "成果形式", required=False),),
    ("clue", "approve_extension"): (Field("until", "批准延期至（不填则按申请）", "date", required=False),
                                    Field("reason", "意见", "textarea", required=False)),
    ("clue", "resume"): (Field("reason", "说明", "textarea", required=False),),
    ("case", "issue"): (Field("required_action", "整改要求（不填则按措施默认）", "textarea", required=False),),
    ("case", "resolve"): (Field("note", "核实情况", "textarea", required=False),),
    ("case", "respond"): (Field("attachment", "附件（文件名或文号）", required=False),),
}
# a 函询约谈's arrangements, where one is issued: confirming it, or escalating a 通报批评 to it
INTERVIEW_FIELDS = (Field("interview_at", "约谈时间（YYYY-MM-DD HH:MM，不填则按方案）", required=False),
                    Field("interview_place", "约谈地点（不填则按方案）", required=False),
                    Field("attendees", "参加人员（不填则按方案）", required=False))
# a check's outcome, recorded by one form (services/lookback/checks.py `record_check`)
CHECK_FIELDS = (Field("method", "核查方式", "select", required=False, options=tuple(METHODS.items())),
                Field("findings", "核查情况", "textarea", required=False),
                Field("checked_on", "核查日期（默认今天）", "date", required=False))
RELAPSE_FIELDS = (Field("deadline", "重新整改的完成时限（默认按本轮规则）", "date", required=False),)


def fields_for(kind: str, action: Action, *, level: int | None = None) -> list[Field]:
    """The form of `action` on an item of `kind` (clue, case, check)."""
    if kind == "check":
        if action.trigger == "revise":
            return [Field("reason", "更正理由", "textarea")]
        return [*CHECK_FIELDS, *(RELAPSE_FIELDS if action.trigger != "confirm" else ())]
    out: list[Field] = []
    for need in action.needs:
        if need == "organ_named":  # the receiving organ: only a transfer (level 5) names one
            if level == 5:
                out.append(Field("receiving_organ", "接收的纪检监察机关"))
            continue
        out.extend(NEEDS.get(need, ()))
    out.extend(OPTIONAL.get((kind, action.trigger), ()))
    if kind == "case" and (action.trigger, level) in (("issue", 2), ("escalate", 1)):
        out.extend(INTERVIEW_FIELDS)
    return out


def text(value: str | None) -> str | None:
    """A posted text: None when left empty."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def day(value: str | None, label: str) -> date | None:
    value = text(value)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{label}: '{value[:40]}' 不是日期（YYYY-MM-DD）") from None


def number(value: str | None, label: str) -> int | None:
    value = text(value)
    if value is None:
        return None
    if not value.isdigit() or len(value) > 12:
        raise InvalidInput(f"{label}: '{value[:40]}' 不是整数")
    return int(value)
