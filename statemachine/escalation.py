"""The escalation ladder (督办, DOMAIN §5) and the life of one case on it.

    level 1 通报批评 → 2 函询约谈 → 3 挂牌督办 → 4 追责问责 → 5 移交纪检监察

A case is one measure against one unit (optionally naming a clue or a stage):

    proposed ─issue─▶ issued ─acknowledge (签收)─▶ awaiting_response ─respond─▶ responded
    proposed ─withdraw─▶ withdrawn                    responded ─return_response─▶ awaiting_response
    issued|awaiting_response ─record_interview (约谈, level 2)─▶ awaiting_response
    responded ─resolve (levels 1–2)─▶ resolved        responded ─delist (摘牌, level 3)─▶ resolved
    issued|awaiting_response|responded ─decide (level 4: 追责 or 容错免责)─▶ resolved
    issued|awaiting_response ─conclude (level 5: the organ's follow-up)─▶ resolved
    issued|awaiting_response|responded ─escalate (levels 1–4)─▶ escalated (a new case one level up)

Chasing (催办) is not a transition: it is a notice sent once on an issued
case the day after its response deadline (DOMAIN §8).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from .table import Chart, Guard, Transition, required

__all__ = ["Level", "CaseState", "CaseContext", "CASE_CHART", "OPEN_CASE_STATES", "LEVEL_LABELS",
           "NOTICE_KIND", "CASE_LABELS", "UNIT_TRIGGERS", "SUPERVISOR_CASE_TRIGGERS", "next_level"]


class Level(enum.IntEnum):
    criticism = 1       # 通报批评
    interview = 2       # 函询约谈
    listed = 3          # 挂牌督办
    accountability = 4  # 追责问责
    transfer = 5        # 移交纪检监察


LEVEL_LABELS = {Level.criticism: "通报批评", Level.interview: "函询约谈", Level.listed: "挂牌督办",
                Level.accountability: "追责问责", Level.transfer: "移交纪检监察"}
# the document each level's issue produces (notifications/templates)
NOTICE_KIND = {Level.criticism: "criticism", Level.interview: "interview", Level.listed: "listed",
               Level.accountability: "accountability", Level.transfer: "transfer"}


def next_level(level: int) -> Level | None:
    return Level(level + 1) if level < Level.transfer else None


class CaseState(str, enum.Enum):
    proposed = "proposed"
    issued = "issued"
    awaiting_response = "awaiting_response"
    responded = "responded"
    resolved = "resolved"
    escalated = "escalated"
    withdrawn = "withdrawn"


CASE_LABELS = {CaseState.proposed: "待确认", CaseState.issued: "已下发", CaseState.awaiting_response: "待回复",
               CaseState.responded: "已回复", CaseState.resolved: "已办结", CaseState.escalated: "已升级",
               CaseState.withdrawn: "已撤回"}

OPEN_CASE_STATES = (CaseState.proposed, CaseState.issued, CaseState.awaiting_response,
                    CaseState.responded)


@dataclass
class CaseContext:
    level: int = 1
    reason: str | None = None
    minutes: str | None = None          # 约谈记录
    report_due: date | None = None      # the written report the interview demands
    response: str | None = None         # the unit's 整改报告 / reply
    attachment: str | None = None
    note: str | None = None             # the supervisor's verification (摘牌, 办结)
    decision: str | None = None         # accountable | exempt
    decision_text: str | None = None    # 处理结果
    grounds: str | None = None          # 容错免责 grounds (三个区分开来)
    receiving_organ: str | None = None  # the 纪检监察 organ receiving a transfer
    follow_up: str | None = None



def _levels(*allowed: Level):
    names = "/".join(LEVEL_LABELS[lv] for lv in allowed)

    def check(ctx: CaseContext) -> str | None:
        if ctx.level not in allowed:
            return f"only for {names}, this case is {LEVEL_LABELS[Level(ctx.level)]}"
        return None
    return check


def _decision(ctx: CaseContext) -> str | None:
    if ctx.decision not in ("accountable", "exempt"):
        return "a decision is required: accountable (追责) or exempt (容错免责)"
    if ctx.decision == "accountable" and not (ctx.decision_text or "").strip():
        return "an accountability decision needs what was decided (--text)"
    if ctx.decision == "exempt" and not (ctx.grounds or "").strip():
        return "a 容错免责 exemption needs its grounds under the 三个区分开来 (--grounds)"
    return None


def _transfer_has_organ(ctx: CaseContext) -> str | None:
    if ctx.level == Level.transfer and not (ctx.receiving_organ or "").strip():
        return "a transfer names the receiving discipline-inspection organ (--organ)"
    return None


HAS_REASON = Guard("has_reason", required("reason", "a reason (--reason)"))
HAS_RESPONSE = Guard("has_response", required("response", "the unit's report (--text)"))
HAS_MINUTES = Guard("has_minutes", required("minutes", "the interview minutes (--minutes)"))
HAS_REPORT_DUE = Guard("has_report_due", required("report_due", "the report's due date (--report-due)"))
HAS_NOTE = Guard("has_note", required("note", "the supervisor's verification (--note)"))
HAS_FOLLOW_UP = Guard("has_follow_up", required("follow_up", "the organ's follow-up (--text)"))
ORGAN_NAMED = Guard("organ_named", _transfer_has_organ)
DECISION_VALID = Guard("decision_valid", _decision)
INTERVIEW_ONLY = Guard("interview_only", _levels(Level.interview))
RESOLVABLE = Guard("resolvable_by_verification", _levels(Level.criticism, Level.interview))
LISTED_ONLY = Guard("listed_only", _levels(Level.listed))
ACCOUNTABILITY_ONLY = Guard("accountability_only", _levels(Level.accountability))
TRANSFER_ONLY = Guard("transfer_only", _levels(Level.transfer))
RESPONDS = Guard("answerable_by_report", _levels(Level.criticism, Level.interview, Level.listed))
BELOW_TOP = Guard("below_top", _levels(Level.criticism, Level.interview, Level.listed,
                                        Level.accountability))

S = CaseState
CASE_CHART: Chart[CaseState] = Chart(
    name="escalation",
    states=CaseState,
    final=frozenset({S.resolved, S.escalated, S.withdrawn}),
    transitions=[
        Transition("issue", (S.proposed,), S.issued, (ORGAN_NAMED,)),
        Transition("withdraw", (S.proposed,), S.withdrawn, (HAS_REASON,)),
        Transition("acknowledge", (S.issued,), S.awaiting_response),
        Transition("record_interview", (S.issued, S.awaiting_response), S.awaiting_response,
                   (INTERVIEW_ONLY, HAS_MINUTES, HAS_REPORT_DUE)),
        Transition("respond", (S.issued, S.awaiting_response), S.responded, (RESPONDS, HAS_RESPONSE)),
        Transition("return_response", (S.responded,), S.awaiting_response, (HAS_REASON,)),
        Transition("resolve", (S.responded,), S.resolved, (RESOLVABLE,)),
        Transition("delist", (S.responded,), S.resolved, (LISTED_ONLY, HAS_NOTE)),
        Transition("decide", (S.issued, S.awaiting_response, S.responded), S.resolved,
                   (ACCOUNTABILITY_ONLY, DECISION_VALID)),
        Transition("conclude", (S.issued, S.awaiting_response), S.resolved,
                   (TRANSFER_ONLY, HAS_FOLLOW_UP)),
        Transition("escalate", (S.issued, S.awaiting_response, S.responded), S.escalated,
                   (BELOW_TOP, HAS_REASON)),
    ],
)

# The unit answers; supervisors of a unit above it do everything else (ARCH decision 8).
UNIT_TRIGGERS = frozenset({"acknowledge", "respond"})
SUPERVISOR_CASE_TRIGGERS = frozenset(CASE_CHART.triggers) - UNIT_TRIGGERS
