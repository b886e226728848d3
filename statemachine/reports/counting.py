"""How the campaign's figures are counted (docs/domain.md §6), in one place.

    共受理问题线索 N 件，已办结 N 件，持续推进中 N 件，正在办理 N 件；
    自查自纠问题 N 件，已整改 N 件；整改率 R

Each item falls in exactly one bucket by its kind and state (`bucket`); the
rate is (已办结 + 持续推进中 + 已整改) / (问题线索 + 自查自纠问题), seed 000's
98.2 %. Items carried over from an earlier campaign (上年度遗留问题, 003's
2022 list) are counted apart — their own "N 件，已完成 M 件" after the
sentence when there are any — and are neither in the numerator nor the
denominator of the rate: the seeds report their completion separately and
give no rate for them. A merged duplicate (已合并) is in no bucket: its matter is
counted once, as the item it was merged into. The SQL form of `bucket` is
services/reports/counting.py; a test proves the two agree.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from statemachine.charts.clue import ClueState, ItemKind

__all__ = ["CONCLUDED", "ONGOING", "DONE", "MERGED", "BUCKETS", "bucket", "Figures"]

CONCLUDED = (ClueState.closed, ClueState.transferred)  # 已办结: 销号, 查无实据, 移交
ONGOING = (ClueState.long_term,)                        # 持续推进中
DONE = CONCLUDED + ONGOING                              # 已整改 / 已完成, for the other kinds
MERGED = (ClueState.merged,)                            # 已合并: counted as the item kept

# bucket → the Figures field it adds to
BUCKETS = ("concluded", "ongoing", "in_progress", "self_rectified", "self_open", "carried_done",
           "carried_open")


def bucket(kind: str, state: str) -> str:
    """The bucket of an item; 'merged' (in no figure) for a merged duplicate."""
    s = ClueState(state)
    if s in MERGED:
        return "merged"
    if kind == ItemKind.self_inspection:
        return "self_rectified" if s in DONE else "self_open"
    if kind == ItemKind.carried_over:
        return "carried_done" if s in DONE else "carried_open"
    return "concluded" if s in CONCLUDED else "ongoing" if s in ONGOING else "in_progress"


@dataclass
class Figures:
    """The sentence's figures (and the carried-over items', counted apart)."""

    clues: int = 0
    concluded: int = 0
    ongoing: int = 0
    in_progress: int = 0
    self_inspection: int = 0
    self_rectified: int = 0
    carried_over: int = 0
    carried_done: int = 0

    @classmethod
    def of(cls, counts: dict[str, int]) -> "Figures":
        """From the number of items in each bucket."""
        c = {b: int(counts.get(b) or 0) for b in BUCKETS}
        return cls(clues=c["concluded"] + c["ongoing"] + c["in_progress"], concluded=c["concluded"],
                   ongoing=c["ongoing"], in_progress=c["in_progress"],
                   self_inspection=c["self_rectified"] + c["self_open"], self_rectified=c["self_rectified"],
                   carried_over=c["carried_done"] + c["carried_open"], carried_done=c["carried_done"])

    def __add__(self, other: "Figures") -> "Figures":
        return Figures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def items(self) -> int:
        """Every item of every kind."""
        return self.clues + self.self_inspection + self.carried_over

    @property
    def rate(self) -> float | None:
        """(concluded + ongoing + self-inspection rectified) / (clues + self-inspection problems)."""
        total = self.clues + self.self_inspection
        if not total:
            return None
        return (self.concluded + self.ongoing + self.self_rectified) / total

    def sentence(self) -> str:
        rate = "—" if self.rate is None else f"{self.rate * 100:.1f}%"
        text = (f"共受理问题线索 {self.clues} 件，已办结 {self.concluded} 件，持续推进中 {self.ongoing} 件，"
                f"正在办理 {self.in_progress} 件；自查自纠问题 {self.self_inspection} 件，"
                f"已整改 {self.self_rectified} 件；整改率 {rate}")
        if self.carried_over:
            text += f"；上年度遗留问题 {self.carried_over} 件，已完成 {self.carried_done} 件"
        return text
