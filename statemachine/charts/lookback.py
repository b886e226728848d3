"""Look-back rounds (回头看) and field inspections (实地督察), docs/domain.md §9.

A round re-checks closed items of a subtree of units:

    planned ─open (select, assign, notify)─▶ open ─begin_close─▶ closing ─close─▶ closed
    planned|open ─cancel─▶ cancelled

Each selected item gets one check:

    pending ─confirm─▶ confirmed            (the result holds)
    pending ─find_relapse─▶ relapsed        (the problem is back: the item is reopened)
    pending ─find_faked─▶ faked             (弄虚作假: an accountability case on the unit)
    confirmed|relapsed|faked ─revise─▶ pending   (a supervisor corrects a record while open)
    pending ─miss─▶ missed                  (never checked by the time the round closed)
    pending ─cancel─▶ cancelled             (the round was cancelled)

The consequences of relapsed and faked checks (reopen, escalate) are applied
when the round closes, once per check.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from statemachine.authority import Who
from .clue import ITEM_KINDS as CLUE_ITEM_KINDS
from .table import Chart, Guard, Transition, required

__all__ = ["RoundState", "CheckState", "ROUND_CHART", "CHECK_CHART", "RoundContext", "CheckContext",
           "METHODS", "ROUND_KINDS", "ITEM_KINDS", "ROUND_LABELS", "CHECK_LABELS", "OUTCOMES",
           "method_key"]

# how a check was made (docs/domain.md §9.4), key → the name the seeds use
METHODS = {"surprise": "突击检查", "undercover": "实地暗访", "random": "随机抽查",
           "file_review": "案卷审查", "four_nos": "四不两直"}
ROUND_KINDS = {"look_back": "整改“回头看”", "field_inspection": "实地督察"}
# which items a round may re-check: clues, self-inspection problems, and items
# carried over from an earlier campaign (003's 2022 list)
ITEM_KINDS = CLUE_ITEM_KINDS  # statemachine/charts/clue.py: the kinds of item, each once


def method_key(value: str) -> str | None:
    """A method by key or by its Chinese name; None when unknown."""
    if value in METHODS:
        return value
    return next((k for k, v in METHODS.items() if v == value or v.strip("“”\"") == value), None)


class RoundState(str, enum.Enum):
    planned = "planned"
    open = "open"
    closing = "closing"
    closed = "closed"
    cancelled = "cancelled"


class CheckState(str, enum.Enum):
    pending = "pending"
    confirmed = "confirmed"
    relapsed = "relapsed"
    faked = "faked"
    missed = "missed"
    cancelled = "cancelled"


ROUND_LABELS = {RoundState.planned: "待启动", RoundState.open: "进行中", RoundState.closing: "收尾中",
                RoundState.closed: "已结束", RoundState.cancelled: "已取消"}
CHECK_LABELS = {CheckState.pending: "待核查", CheckState.confirmed: "整改到位",
                CheckState.relapsed: "问题反弹", CheckState.faked: "弄虚作假",
                CheckState.missed: "未核查", CheckState.cancelled: "已取消"}
# the triggers that record an outcome, by the outcome's name on the command line
OUTCOMES = {"confirmed": "confirm", "relapsed": "find_relapse", "faked": "find_faked"}


@dataclass
class RoundContext:
    reason: str | None = None
    selected: int | None = None  # checks created by the opening


@dataclass
class CheckContext:
    method: str | None = None
    inspector: str | None = None
    findings: str | None = None
    checked_on: date | None = None
    reason: str | None = None


def _method_known(ctx: CheckContext) -> str | None:
    if ctx.method and method_key(ctx.method) is None:
        return f"unknown method '{ctx.method}' (one of {', '.join(METHODS)} / {'、'.join(METHODS.values())})"
    return None


HAS_METHOD = Guard("has_method", required("method", "the inspection method (--method)"))
METHOD_KNOWN = Guard("method_known", _method_known)
HAS_INSPECTOR = Guard("has_inspector", required("inspector", "the inspector (--inspector)"))
HAS_FINDINGS = Guard("has_findings", required("findings", "what the check found (--findings)"))
HAS_CHECK_DATE = Guard("has_check_date", required("checked_on", "the date of the check (--on)"))
HAS_REASON = Guard("has_reason", required("reason", "a reason (--reason)"))
_RECORD = (HAS_METHOD, METHOD_KNOWN, HAS_INSPECTOR, HAS_CHECK_DATE)

R, K = RoundState, CheckState
ROUND_CHART: Chart[RoundState] = Chart(
    name="round",
    states=RoundState,
    final=frozenset({R.closed, R.cancelled}),
    transitions=[
        Transition("open", (R.planned,), R.open, by=Who.organiser),
        Transition("begin_close", (R.open,), R.closing, by=Who.organiser),
        Transition("close", (R.closing,), R.closed, by=Who.organiser),
        Transition("cancel", (R.planned, R.open), R.cancelled, (HAS_REASON,), by=Who.organiser),
    ],
)

CHECK_CHART: Chart[CheckState] = Chart(
    name="check",
    states=CheckState,
    final=frozenset({K.missed, K.cancelled}),
    transitions=[
        # a check is recorded by the item's team or the organiser's supervisors
        Transition("confirm", (K.pending,), K.confirmed, _RECORD, by=Who.inspector),
        Transition("find_relapse", (K.pending,), K.relapsed, _RECORD + (HAS_FINDINGS,), by=Who.inspector),
        Transition("find_faked", (K.pending,), K.faked, _RECORD + (HAS_FINDINGS,), by=Who.inspector),
        Transition("revise", (K.confirmed, K.relapsed, K.faked), K.pending, (HAS_REASON,),
                   by=Who.organiser),
        # what the organiser's closing or cancelling of the round does to the checks left
        Transition("miss", (K.pending,), K.missed, by=Who.organiser),
        Transition("cancel", (K.pending,), K.cancelled, by=Who.organiser),
    ],
)
