"""The problem/clue (问题线索) lifecycle of docs/domain.md §5.3, as one table.

    received ─verify─▶ verifying ─substantiate─▶ rectifying ─submit_evidence─▶ rectified ─approve─▶ closed
                       verifying ─dismiss─▶ closed          rectified ─reject─▶ rectifying
                       rectifying ─defer─▶ long_term ─submit_evidence─▶ rectified
                       rectifying ─extend (延期)─▶ rectifying
    any open state ─transfer─▶ transferred            closed ─reopen─▶ rectifying
    any open state ─merge (合并)─▶ merged              closed ─redo (重办)─▶ rectifying

`merged` is final: the item's sources went to the item it was merged into
(services/clues/merging.py); `redo` follows a callback (回访) that found the
unit at fault (statemachine/charts/callback.py), never the generic transition.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from statemachine.authority import Who
from statemachine.time.deadlines import (DeadlineLimit, deadline_refusal, extension_refusal, extensions_left_refusal,
                                         receipt_refusal)
from .table import Chart, Guard, Transition, required

__all__ = ["ClueState", "ClueContext", "CLUE_CHART", "OPEN_STATES", "LABELS", "TRIGGER_LABELS", "DEADLINE_TRIGGERS",
           "SUPERVISOR_TRIGGERS", "VERIFY_PENDING", "RECTIFY_PENDING", "overdue", "overdue_cause", "ItemKind",
           "ITEM_KINDS", "kind_for_channel"]


class ClueState(str, enum.Enum):
    received = "received"
    verifying = "verifying"
    rectifying = "rectifying"
    rectified = "rectified"
    long_term = "long_term"
    closed = "closed"
    transferred = "transferred"
    merged = "merged"  # 已合并: a duplicate, its sources moved to the item kept


class ItemKind(str, enum.Enum):
    """What an item is (docs/domain.md §5.1); every kind runs the same chart."""

    clue = "clue"                        # 问题线索: from a channel (12345, 信访 …)
    self_inspection = "self_inspection"  # 自查自纠问题: found by the unit itself
    carried_over = "carried_over"        # 上年度遗留问题: from an earlier campaign's list


ITEM_KINDS = {ItemKind.clue.value: "问题线索", ItemKind.self_inspection.value: "自查自纠问题",
              ItemKind.carried_over.value: "上年度遗留问题"}
SELF_INSPECTION_CHANNEL = "自查自纠"


def kind_for_channel(channel: str) -> str:
    """An item's kind when none is given: a unit's own finding, else a clue."""
    return (ItemKind.self_inspection if channel == SELF_INSPECTION_CHANNEL else ItemKind.clue).value


LABELS = {
    ClueState.received: "受理",
    ClueState.verifying: "核查中",
    ClueState.rectifying: "整改中",
    ClueState.rectified: "整改完成(申请销号)",
    ClueState.long_term: "持续推进",
    ClueState.closed: "办结/销号",
    ClueState.transferred: "移交纪检监察",
    ClueState.merged: "已合并",
}

TRIGGER_LABELS = {
    "verify": "核查", "substantiate": "查实", "dismiss": "查无实据", "submit_evidence": "申请销号",
    "approve": "销号", "reject": "退回整改", "defer": "转持续推进", "transfer": "移交纪检监察",
    "reopen": "重新整改(回头看)", "extend": "延期", "merge": "合并", "redo": "重办",
}

OPEN_STATES = (
    ClueState.received, ClueState.verifying, ClueState.rectifying,
    ClueState.rectified, ClueState.long_term,
)


@dataclass
class ClueContext:
    """What guards may look at: the actor's input and the row's relevant facts."""

    actor: str = ""
    actor_unit: int | None = None
    owner_unit: int | None = None   # 责任单位 (row)
    owner: str | None = None        # 责任人/联系人 (row or input)
    measures: str | None = None     # 整改措施
    deadline: date | None = None    # 完成时限
    reason: str | None = None
    evidence: str | None = None     # 可验证成果: attachment reference
    stage_result: str | None = None  # 阶段性成效
    long_term_measure: str | None = None  # 长期举措
    # what bounds a deadline set now (statemachine/time/deadlines.py), and the row's running one
    limit: DeadlineLimit | None = None
    as_of: datetime | None = None
    row_deadline: date | None = None
    row_deadline_at: datetime | None = None
    row_received: date | None = None  # the Beijing date the item was received
    # 签收 (statemachine/charts/signing.py): 'unsigned' until the unit signs for it; a str,
    # never None, so nothing a person supplies stands in for it (services/core/actions.py)
    signing: str = "signed"
    row_extensions: int | None = None  # extensions the item has had (clues.extension_count)
    max_extensions: int | None = None  # the plan's clues.max_extensions (the use case reads it)
    # given only by the use cases of 合并 and 重办 (services/clues/merging.py, callbacks.py):
    # the item kept, and the callback that found the unit at fault
    merge_into: str | None = None
    redo_callback: int | None = None
    row_callback: str | None = None  # the row's callback state (statemachine/charts/callback.py)



HAS_MEASURES = Guard("has_measures", required("measures", "rectification measures (--measures)"))
HAS_DEADLINE = Guard("has_deadline", required("deadline", "a rectification deadline (--deadline)"))
HAS_OWNER = Guard("has_owner", required("owner", "a responsible person (--owner)"), row_dependent=True)
HAS_REASON = Guard("has_reason", required("reason", "a reason (--reason)"))
HAS_EVIDENCE = Guard("has_evidence", required("evidence", "verifiable evidence (--evidence)"))
HAS_STAGE_RESULT = Guard("has_stage_result", required("stage_result", "the stage result (--stage-result)"))
HAS_MERGE_TARGET = Guard("has_merge_target", required(
    "merge_into", "the item to merge into (rectify clue merge DUP --into KEEP)"))
HAS_REDO_CALLBACK = Guard("has_redo_callback", required(
    "redo_callback", "the callback that found the unit at fault, which 'rectify clue redo' gives,"))


def _unit_at_fault(ctx: ClueContext) -> str | None:
    if ctx.row_callback != "at_fault":
        return "重办 follows a callback (回访) that found the unit at fault (不满意 --unit-at-fault)"
    return None


# the row's callback column says 不满意 with the unit at fault, not yet sent back
CALLBACK_AT_FAULT = Guard("callback_at_fault", _unit_at_fault, row_dependent=True,
                          row_in=("callback", frozenset({"at_fault"})))
HAS_LONG_TERM = Guard("has_long_term_measure", required("long_term_measure", "a long-term measure (--long-term)"))


def _within_limit(extending: bool):
    def check(ctx: ClueContext) -> str | None:
        if ctx.deadline is None:
            return None  # has_deadline says so
        if ctx.limit is None:  # a use case that sets a deadline always gives its limit
            return "no deadline limit was given for this step"
        return deadline_refusal(ctx.deadline, ctx.limit, extending=extending)
    return check


def _extends(ctx: ClueContext) -> str | None:
    if ctx.deadline is None:
        return None
    if ctx.as_of is None:
        return "no instant was given for this step"
    return extension_refusal(current=ctx.row_deadline, current_due=ctx.row_deadline_at, new=ctx.deadline,
                             as_of=ctx.as_of)


def _extensions_left(ctx: ClueContext) -> str | None:
    # unknown counts (a page offering actions from a list row) refuse nothing; the use
    # cases always give both (services/clues/lifecycle.py, services/clues/extensions.py)
    if ctx.row_extensions is None or ctx.max_extensions is None:
        return None
    return extensions_left_refusal(granted_before=ctx.row_extensions, max_extensions=ctx.max_extensions)


def _after_receipt(ctx: ClueContext) -> str | None:
    if ctx.deadline is None:
        return None  # has_deadline says so
    if ctx.row_received is None:  # the single path always gives the row's receipt
        return "the item's receipt date was not given for this step"
    return receipt_refusal(ctx.deadline, ctx.row_received)


def _signed(ctx: ClueContext) -> str | None:
    if ctx.signing != "signed":
        return "its unit has not signed for it (签收) yet: 'rectify clue sign NUMBER' first"
    return None


# 签收 before 办理, as on 12345 platforms: an unsigned item is signed for (or returned) first
SIGNED_FOR = Guard("signed_for", _signed, row_dependent=True, row_in=("signing", frozenset({"signed"})))
# docs/domain.md §5.2: a deadline lies within the plan's working days of the day it is set
DEADLINE_WITHIN_LIMIT = Guard("deadline_within_limit", _within_limit(False))
EXTENSION_WITHIN_LIMIT = Guard("extension_within_limit", _within_limit(True))
# 延期: asked for before the deadline passes, to a later day (the row's deadline)
EXTENDS_IN_TIME = Guard("extends_in_time", _extends, row_dependent=True)
# the plan's clues.max_extensions, counted alike for a direct extend and an approved request
EXTENSIONS_LEFT = Guard("extensions_left", _extensions_left, row_dependent=True)
# never before the item was received (a deadline of 2022 on a clue of 2023)
DEADLINE_AFTER_RECEIPT = Guard("deadline_after_receipt", _after_receipt, row_dependent=True)

S = ClueState
CLUE_CHART: Chart[ClueState] = Chart(
    name="clue",
    states=ClueState,
    final=frozenset({S.transferred, S.merged}),
    transitions=[
        Transition("verify", (S.received,), S.verifying, (SIGNED_FOR,)),
        Transition("substantiate", (S.verifying,), S.rectifying,
                   (HAS_MEASURES, HAS_DEADLINE, DEADLINE_WITHIN_LIMIT, DEADLINE_AFTER_RECEIPT, HAS_OWNER)),
        Transition("dismiss", (S.verifying,), S.closed, (HAS_REASON,)),
        Transition("submit_evidence", (S.rectifying, S.long_term), S.rectified, (HAS_EVIDENCE,)),
        # 销号 is never granted by the unit that did the work (docs/domain.md §5.4): a supervisor above it
        Transition("approve", (S.rectified,), S.closed, by=Who.supervisor),
        Transition("reject", (S.rectified,), S.rectifying, (HAS_REASON,), by=Who.supervisor),
        Transition("defer", (S.rectifying,), S.long_term, (HAS_STAGE_RESULT, HAS_LONG_TERM)),
        Transition("transfer", OPEN_STATES, S.transferred, (HAS_REASON,), by=Who.supervisor),
        Transition("reopen", (S.closed,), S.rectifying, (HAS_REASON, HAS_DEADLINE, DEADLINE_WITHIN_LIMIT,
                                                           DEADLINE_AFTER_RECEIPT), by=Who.supervisor),
        # 延期: granted by the level above, never by the unit itself (docs/domain.md §5.7)
        Transition("extend", (S.rectifying,), S.rectifying,
                   (HAS_REASON, HAS_DEADLINE, EXTENSION_WITHIN_LIMIT, DEADLINE_AFTER_RECEIPT, EXTENDS_IN_TIME,
                    EXTENSIONS_LEFT), by=Who.supervisor),
        # 合并: a supervisor above both items' units; a closed or transferred item stays as it is
        Transition("merge", OPEN_STATES, S.merged, (HAS_REASON, HAS_MERGE_TARGET), by=Who.supervisor),
        # 重办: back to rectifying with a new deadline after a callback found the unit at fault
        Transition("redo", (S.closed,), S.rectifying,
                   (CALLBACK_AT_FAULT, HAS_REASON, HAS_REDO_CALLBACK, HAS_DEADLINE, DEADLINE_WITHIN_LIMIT,
                    DEADLINE_AFTER_RECEIPT), by=Who.supervisor),
    ],
)

# triggers only a supervisor of an ancestor unit may fire (from the chart: its `by`)
SUPERVISOR_TRIGGERS = CLUE_CHART.triggers_by(Who.supervisor)
# triggers that set a deadline: their use case gives the limit (ClueContext.limit)
DEADLINE_TRIGGERS = frozenset(t.trigger for t in CLUE_CHART.transitions
                              if {DEADLINE_WITHIN_LIMIT, EXTENSION_WITHIN_LIMIT} & set(t.guards))


# -- when a clue is overdue (docs/domain.md: the deadlines of a clue) ------------------------
# A clue owes its verification while received or verifying (within N working days of
# receipt), and its rectification while rectifying (by the deadline set when it was
# substantiated). Long-term items (持续推进) have no deadline; closed ones owe nothing.
# The SQL form sits beside the clue chart as stored (services/clues/chart.py) and a test
# proves the two agree.
VERIFY_PENDING = (ClueState.received, ClueState.verifying)
RECTIFY_PENDING = (ClueState.rectifying,)


def overdue_cause(state: str, *, verify_due_at, deadline_at, as_of, suspended: bool = False) -> str | None:
    """'verify_overdue' or 'rectify_overdue' (statemachine/lapses.py) when overdue at `as_of`;
    never while its clock is suspended (挂账, statemachine/charts/clock.py)."""
    if suspended:
        return None
    s = ClueState(state)
    if s in VERIFY_PENDING and verify_due_at is not None and verify_due_at < as_of:
        return "verify_overdue"
    if s in RECTIFY_PENDING and deadline_at is not None and deadline_at < as_of:
        return "rectify_overdue"
    return None


def overdue(state: str, *, verify_due_at, deadline_at, as_of, suspended: bool = False) -> bool:
    return overdue_cause(state, verify_due_at=verify_due_at, deadline_at=deadline_at, as_of=as_of,
                         suspended=suspended) is not None
