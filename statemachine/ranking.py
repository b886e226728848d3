"""考核排名: each unit's score for a period, from counts, and the ordered table.

A score is 100 points shared among rates (on-time 签收, on-time 办结, satisfaction,
no 重办, no 延期), each by its plan weight, less fixed deductions (per lapse, per
escalation, per refused 退单), never below the plan's floor. A rate whose
denominator is zero (nothing to sign for, no callback made) says nothing about the
unit: it is left out and the weights of the rates that apply are scaled up to the
same 100, so a fact the system does not hold yet (or a unit had no occasion for)
neither rewards nor punishes. Scores are exact fractions rounded half up to two
places; the order puts the units assessed (at least one rate applied) before
those with nothing to assess, then by score, fewer lapses, fewer escalations,
then the unit's code, so it is total and the same whatever order the counts come
in. Equal scores (of units alike assessed or not) share a rank (1, 2, 2, 4).

The weights and deductions are the plan's `ranking:` section (statemachine/plan.py);
the shipped plans carry defaults from common practice in provincial 12345 work-order
assessment (set your province's values).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Iterable, Mapping

__all__ = ["UnitCounts", "WORK_ORDER_FACTS", "Weights", "Deductions", "RankingRules", "RankedRow", "Rates",
           "rates_of", "score_of", "rank", "red_and_black"]


@dataclass(frozen=True)
class UnitCounts:
    """What the ledger says of one unit in one period (services/ranking/counts.py)."""

    unit: str            # its code
    name: str = ""
    in_hand: int = 0     # items it held in the period (received before its end, not closed before its start)
    closed: int = 0      # items 办结 (closed as done) in the period
    closed_on_time: int = 0  # of those, by their deadline
    extended: int = 0    # 延期 granted in the period
    lapses: int = 0      # lapses recorded against it in the period
    escalations: int = 0  # escalation cases (督办) issued to it in the period
    # -- facts of 签收, 退单 and 回访/重办 (issue 16 items 1, 2, 6): WORK_ORDER_FACTS ---------------
    assigned: int = 0    # items to be signed for in the period
    signed_on_time: int = 0
    returns_refused: int = 0
    callbacks: int = 0   # callbacks made (reporter reached)
    satisfied: int = 0   # 满意 or 基本满意
    redone: int = 0      # sent back for 重办

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, int) and v < 0:
                raise ValueError(f"{f.name} is negative ({v})")


# The counts of 签收, 退单 and 回访/重办 (services/ranking/counts.py reads them); a plan that asks
# for no signing, or a period with no callbacks, has no denominator: the rate drops out.
WORK_ORDER_FACTS = ("assigned", "signed_on_time", "returns_refused", "callbacks", "satisfied", "redone")


@dataclass(frozen=True)
class Weights:
    sign_on_time: int = 10
    close_on_time: int = 40
    satisfaction: int = 30
    no_redo: int = 10
    no_extension: int = 10


@dataclass(frozen=True)
class Deductions:
    lapse: Decimal = Decimal(2)
    escalation: Decimal = Decimal(3)
    refused_return: Decimal = Decimal(1)


@dataclass(frozen=True)
class RankingRules:
    weights: Weights = field(default_factory=Weights)
    deductions: Deductions = field(default_factory=Deductions)
    floor: Decimal = Decimal(0)
    list_size: int = 3  # 红榜 / 黑榜: the best and the worst N


Rates = Mapping[str, Fraction]  # weight name → the rate, for the rates that apply


def rates_of(c: UnitCounts) -> dict[str, Fraction]:
    """The rates that apply to `c` (a zero denominator: left out)."""
    out: dict[str, Fraction] = {}
    if c.assigned:
        out["sign_on_time"] = Fraction(min(c.signed_on_time, c.assigned), c.assigned)
    if c.closed:
        out["close_on_time"] = Fraction(min(c.closed_on_time, c.closed), c.closed)
    if c.callbacks:
        out["satisfaction"] = Fraction(min(c.satisfied, c.callbacks), c.callbacks)
        out["no_redo"] = 1 - Fraction(min(c.redone, c.callbacks), c.callbacks)
    if c.in_hand:
        out["no_extension"] = 1 - Fraction(min(c.extended, c.in_hand), c.in_hand)
    return out


def _points(c: UnitCounts, rules: RankingRules) -> Fraction:
    rates = rates_of(c)
    w = rules.weights
    total = sum(getattr(w, k) for k in rates)
    base = Fraction(100) if not total else 100 * sum(getattr(w, k) * r for k, r in rates.items()) / total
    d = rules.deductions
    off = (Fraction(d.lapse) * c.lapses + Fraction(d.escalation) * c.escalations
           + Fraction(d.refused_return) * c.returns_refused)
    return max(base - off, Fraction(rules.floor))


def score_of(c: UnitCounts, rules: RankingRules) -> Decimal:
    """The unit's score, two places, rounded half up."""
    p = _points(c, rules)
    return (Decimal(p.numerator) / Decimal(p.denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RankedRow:
    rank: int
    unit: str
    name: str
    score: Decimal
    assessed: bool  # at least one rate applied (else: 100 less deductions, and off the 红榜/黑榜)
    counts: UnitCounts
    rates: dict[str, Fraction]


def rank(counts: Iterable[UnitCounts], rules: RankingRules) -> list[RankedRow]:
    """The table: best first, ties in score sharing a rank, the order total (see the module)."""
    scored = [(score_of(c, rules), c) for c in counts]
    codes = [c.unit for _, c in scored]
    if len(codes) != len(set(codes)):
        raise ValueError("a unit is counted twice")
    # an idle unit's 100 less deductions says nothing of its work: it never heads the table
    scored.sort(key=lambda sc: (not rates_of(sc[1]), -sc[0], sc[1].lapses, sc[1].escalations, sc[1].unit))
    out: list[RankedRow] = []
    for i, (s, c) in enumerate(scored):
        rates = rates_of(c)
        same = out and out[-1].score == s and out[-1].assessed == bool(rates)
        out.append(RankedRow(out[-1].rank if same else i + 1, c.unit, c.name, s, bool(rates), c, rates))
    return out


def red_and_black(rows: list[RankedRow], n: int) -> tuple[list[RankedRow], list[RankedRow]]:
    """红榜 (the best n assessed) and 黑榜 (the worst n assessed, worst first), never sharing a
    unit: with fewer than 2n assessed units each list takes half (the best half, the worst half)."""
    assessed = [r for r in rows if r.assessed]
    k = min(n, len(assessed) // 2)
    return assessed[:k], list(reversed(assessed))[:k]
