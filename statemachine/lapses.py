"""What a lapse is about: each cause once, with its labels and its default level.

A lapse is a missed duty recorded once per natural key by the sweep (or by a
look-back round's finding); on the ladder each cause is answered by the
plan's rule for it, by default the level below. `manual` is the cause of a
supervisor's own measure: a case without a lapse.

    cause                 recorded when                                   default
    stage_deadline        a unit is still in a stage after its deadline   1 通报批评
    deliverables_overdue  an ongoing stage's deliverables are not in by    1
                          its stated date (the stage itself stays open)
    verify_overdue        a clue is not verified within N working days    1
    rectify_overdue       a clue is not rectified by its deadline         1
    missed_report         a report a duty asks for was not sent by its due 1
    no_progress           open clues nobody touched for N working days    1
                          (“躺平式”整改)
    repeated_reject       a 销号 refused again and again (敷衍塞责)          2 函询约谈
    faked                 a check found the result faked (弄虚作假)          4 追责问责
    check_overdue         a look-back check not made by the round's       — (not on
                          deadline (the inspectors' lapse)                    the ladder)
    sign_for_overdue      an item not signed for (签收) within the plan's    — (not on
                          clues.sign_for (the unit's liaison is reminded)     the ladder)
    callback_overdue      a reporter not called back (回访) in time after   — (not on
                          销号 (the supervising level's lapse; the         the ladder)
                          ranking counts it)
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Cause", "CauseInfo", "CAUSES", "LADDER_CAUSES", "label", "short_label"]


class Cause(str, enum.Enum):
    stage_deadline = "stage_deadline"
    deliverables_overdue = "deliverables_overdue"
    verify_overdue = "verify_overdue"
    rectify_overdue = "rectify_overdue"
    missed_report = "missed_report"
    no_progress = "no_progress"
    repeated_reject = "repeated_reject"
    faked = "faked"
    check_overdue = "check_overdue"
    sign_for_overdue = "sign_for_overdue"
    callback_overdue = "callback_overdue"
    manual = "manual"


@dataclass(frozen=True)
class CauseInfo:
    label: str          # how a notice states the fact (通报批评: 未按期完成阶段任务：…)
    short: str          # a table's column (阶段逾期)
    level: int | None   # the default rule's level; None: not answered on the ladder


CAUSES: dict[Cause, CauseInfo] = {
    Cause.stage_deadline: CauseInfo("未按期完成阶段任务", "阶段逾期", 1),
    Cause.deliverables_overdue: CauseInfo("未按期提交阶段性成果", "阶段成果逾期", 1),
    Cause.verify_overdue: CauseInfo("问题线索未按期核查", "核查超时", 1),
    Cause.rectify_overdue: CauseInfo("问题整改逾期", "整改逾期", 1),
    Cause.missed_report: CauseInfo("未按时报送材料", "报送逾期", 1),
    Cause.no_progress: CauseInfo("整改工作长期无进展（“躺平式”整改）", "长期无进展(躺平)", 1),
    Cause.repeated_reject: CauseInfo("整改成效经审核多次未通过、销号被退回", "销号屡被退回", 2),
    Cause.faked: CauseInfo("弄虚作假", "弄虚作假", 4),
    Cause.check_overdue: CauseInfo("督察核查未按期完成", "督察核查逾期", None),
    # a reminder to the liaison and a count in the units' ranking, not a measure of the ladder
    Cause.sign_for_overdue: CauseInfo("问题线索未按时签收", "超时签收", None),
    Cause.callback_overdue: CauseInfo("未按期回访反映人", "回访逾期", None),
    Cause.manual: CauseInfo("督办事项", "督办事项", None),
}

# the causes a plan's escalation rules may name (a lapse of each is answered on the ladder)
LADDER_CAUSES: tuple[str, ...] = tuple(c.value for c, i in CAUSES.items() if i.level is not None)


def label(cause: str) -> str:
    """A notice's wording of a cause; an unknown one as given (an older database)."""
    try:
        return CAUSES[Cause(cause)].label
    except ValueError:
        return cause


def short_label(cause: str) -> str:
    try:
        return CAUSES[Cause(cause)].short
    except ValueError:
        return cause
