"""The escalation ladder (督办, docs/domain.md §8) and the life of one case on it.

    level 1 通报批评 → 2 函询约谈 → 3 挂牌督办 → 4 追责问责 → 5 移交纪检监察

A case is one measure against one unit (optionally naming a clue or a stage):

    proposed ─issue─▶ issued ─acknowledge (签收)─▶ awaiting_response ─respond─▶ responded
    proposed ─withdraw─▶ withdrawn                    responded ─return_response─▶ awaiting_response
    issued|awaiting_response ─record_interview (约谈, level 2)─▶ awaiting_response
    responded ─resolve (levels 1–2)─▶ resolved        responded ─delist (摘牌, level 3)─▶ resolved
    issued|awaiting_response|responded ─decide (level 4: 追责 or 容错免责)─▶ resolved
    issued|awaiting_response ─conclude (level 5: the organ's follow-up)─▶ resolved
    issued|awaiting_response|responded ─escalate (levels 1–4)─▶ escalated (a new case one level up)

    issued|awaiting_response ─chase (催办, the nightly job)─▶ the same state

Chasing (催办) leaves the case where it is: it stamps the case and sends a
notice, once per response deadline, the day after it passed (docs/domain.md §8.4).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from statemachine.authority import Who
from .table import Chart, Guard, Transition, required

__all__ = ["Level", "CaseState", "CaseContext", "CASE_CHART", "OPEN_CASE_STATES", "LEVEL_LABELS",
           "NOTICE_KIND", "CASE_LABELS", "UNIT_TRIGGERS", "SUPERVISOR_CASE_TRIGGERS", "next_level", "AWAITING", "chase_due", "escalation_due"]


class Level(enum.IntEnum):
    criticism = 1       # 通报批评
    interview = 2       # 函询约谈
    listed = 3          # 挂牌督办
    accountability = 4  # 追责问责
    transfer = 5        # 移交纪检监察


LEVEL_LABELS = {Level.criticism: "通报批评", Level.interview: "函询约谈", Level.listed: "挂牌督办",
                Level.accountability: "追责问责", Level.transfer: "移交纪检监察"}
# the document each level's issue produces (notifications/documents/templates)
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
    chased: bool = False                # 催办 sent for the current deadline (row)



def _levels(name: str, *allowed: Level) -> Guard:
    """A guard on the case's level (a row fact): declared as data so that the set
    path compiles the same rule to `level IN (…)`."""
    names = "/".join(LEVEL_LABELS[lv] for lv in allowed)

    def check(ctx: CaseContext) -> str | None:
        if ctx.level not in allowed:
            return f"only for {names}, this case is {LEVEL_LABELS[Level(ctx.level)]}"
        return None
    return Guard(name, check, row_dependent=True, row_in=("level", frozenset(int(a) for a in allowed)))


def _not_chased(ctx: CaseContext) -> str | None:
    return "chased already (催办 goes out once per deadline)" if ctx.chased else None


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
INTERVIEW_ONLY = _levels("interview_only", Level.interview)
RESOLVABLE = _levels("resolvable_by_verification", Level.criticism, Level.interview)
LISTED_ONLY = _levels("listed_only", Level.listed)
ACCOUNTABILITY_ONLY = _levels("accountability_only", Level.accountability)
TRANSFER_ONLY = _levels("transfer_only", Level.transfer)
RESPONDS = _levels("answerable_by_report", Level.criticism, Level.interview, Level.listed)
BELOW_TOP = _levels("below_top", Level.criticism, Level.interview, Level.listed, Level.accountability)
NOT_CHASED = Guard("not_chased", _not_chased, row_dependent=True)

S, SUP = CaseState, Who.supervisor
CASE_CHART: Chart[CaseState] = Chart(
    name="escalation",
    states=CaseState,
    final=frozenset({S.resolved, S.escalated, S.withdrawn}),
    transitions=[
        # the unit answers; supervisors of a unit above it do everything else
        # (docs/architecture.md decision 8)
        Transition("issue", (S.proposed,), S.issued, (ORGAN_NAMED,), by=SUP),
        Transition("withdraw", (S.proposed,), S.withdrawn, (HAS_REASON,), by=SUP),
        Transition("acknowledge", (S.issued,), S.awaiting_response, by=Who.unit),
        Transition("record_interview", (S.issued, S.awaiting_response), S.awaiting_response,
                   (INTERVIEW_ONLY, HAS_MINUTES, HAS_REPORT_DUE), by=SUP),
        Transition("respond", (S.issued, S.awaiting_response), S.responded, (RESPONDS, HAS_RESPONSE),
                   by=Who.unit),
        Transition("return_response", (S.responded,), S.awaiting_response, (HAS_REASON,), by=SUP),
        Transition("resolve", (S.responded,), S.resolved, (RESOLVABLE,), by=SUP),
        Transition("delist", (S.responded,), S.resolved, (LISTED_ONLY, HAS_NOTE), by=SUP),
        Transition("decide", (S.issued, S.awaiting_response, S.responded), S.resolved,
                   (ACCOUNTABILITY_ONLY, DECISION_VALID), by=SUP),
        Transition("conclude", (S.issued, S.awaiting_response), S.resolved,
                   (TRANSFER_ONLY, HAS_FOLLOW_UP), by=SUP),
        Transition("escalate", (S.issued, S.awaiting_response, S.responded), S.escalated,
                   (BELOW_TOP, HAS_REASON), by=SUP),
        # 催办 (docs/domain.md §8.4): the nightly job's reminder on an unanswered case, once per
        # deadline; the case stays where it is (services/ladder: the chase rule)
        Transition("chase", (S.issued,), S.issued, (NOT_CHASED,), by=Who.system),
        Transition("chase", (S.awaiting_response,), S.awaiting_response, (NOT_CHASED,), by=Who.system),
    ],
)

UNIT_TRIGGERS = CASE_CHART.triggers_by(Who.unit)
SUPERVISOR_CASE_TRIGGERS = CASE_CHART.triggers_by(Who.supervisor)
# the states in which a response is outstanding: chased the day after its deadline,
# escalated when the chase's own deadline passes too
AWAITING = (S.issued, S.awaiting_response)


def chase_due(*, state: str, chased_at, response_due_at, as_of) -> bool:
    """催办 (docs/domain.md §8.4): once the response deadline has passed (it ends at the end of
    its day, so: from the next day), once per deadline. SQL form beside the ladder's
    use cases (services/ladder/cases.py `chase_due_sql`)."""
    return CaseState(state) in AWAITING and chased_at is None and response_due_at is not None \
        and response_due_at < as_of


def escalation_due(*, state: str, level: int, chase_due_at, as_of) -> bool:
    """Still unanswered when the chase's own deadline has passed: one level up
    (a transfer to 纪检监察 is the top). SQL form: `escalation_due_sql`."""
    return CaseState(state) in AWAITING and chase_due_at is not None and chase_due_at < as_of \
        and level < Level.transfer
