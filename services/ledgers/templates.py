"""The three ledger (台账) templates the seeds print, as data.

003-2023 and 003-2022 are seed 003's 附件2 and 附件3; 004 is seed 004's
附件2, which the seed names and describes (问题类别、具体表现、整改措施、责任单位、
整改时限、整改进度及可验证成果) but does not print: its columns follow that sentence.
"""
from __future__ import annotations

from dataclasses import dataclass

from statemachine.charts.clue import ClueState
from statemachine.reports.titles import place_of

__all__ = ["Column", "Template", "TEMPLATES", "NUMBER_HEADING", "state_label", "PROGRESS_LABELS",
           "DONE_WORDS", "FOOTER_LABELS"]

NUMBER_HEADING = "编号"  # the hidden last column: the system number a re-import recognises


@dataclass(frozen=True)
class Column:
    field: str           # seq | aspect | number | unit | a clues column
    heading: str
    width: float
    group: str | None = None       # the merged heading above it (003 附件2's 问题清单 …)
    aliases: tuple[str, ...] = ()  # the same column as the other templates head it
    required: bool = False         # a filled ledger without it cannot be read


@dataclass(frozen=True)
class Template:
    key: str
    title: str                 # {place}: where the unit is (忻州市), as the filled-in form is titled
    subtitle: str | None
    columns: tuple[Column, ...]
    kinds: tuple[str, ...]     # the items it lists
    new_kind: str              # what a row without 编号 becomes
    footer: tuple[str, ...]    # as printed, in the printed order
    # 003 prints 填报时间 and 填报单位 as two lines, date first; 004's (unprinted) sample one line
    stamp_lines: int = 1

    @property
    def visible(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.field != "number")

    def column(self, field: str) -> Column | None:
        return next((c for c in self.columns if c.field == field), None)

    def title_for(self, unit_name: str) -> str:
        """The title the unit's own ledger carries: its place, not the province's form
        ("全省…（模板）" is the blank the seed hands out)."""
        return self.title.format(place=place_of(unit_name))

    @property
    def header_rows(self) -> int:
        return 2 if any(c.group for c in self.columns) else 1


def _c(field, heading, width, group=None, aliases=(), required=False) -> Column:
    return Column(field, heading, width, group, tuple(aliases), required)


_SEQ = _c("seq", "序号", 6, required=True)
_NUMBER = _c("number", NUMBER_HEADING, 16)
_REMARK = _c("remark", "备注", 14)
_TITLE_003 = "{place}道路交通安全和运输执法领域突出问题专项整治事项清单"

TEMPLATES: dict[str, Template] = {t.key: t for t in (
    Template(
        key="003-2023", title=_TITLE_003, subtitle="（2023 年新问题）",
        columns=(_SEQ,
                 _c("aspect", "问题方面", 14, aliases=("问题类别",), required=True),
                 _c("summary", "问题表现", 36, "问题清单", ("具体表现",), True),
                 _c("root_cause", "原因剖析", 28, "问题清单"),
                 _c("measures", "整改措施", 36, "任务清单", (), True),
                 _c("deadline", "完成时限", 14, "任务清单", ("整改时限",), True),
                 _c("result_form", "成果形式", 18, "任务清单"),
                 _c("unit", "责任单位", 18, "责任清单", (), True),
                 _c("owner", "联系人", 10, "责任清单"),
                 _REMARK, _NUMBER),
        kinds=("clue", "self_inspection"), new_kind="self_inspection",
        footer=("审核人", "联系人", "联系电话"), stamp_lines=2),
    Template(
        key="003-2022", title=_TITLE_003, subtitle="（2022 年自查整改问题）",
        columns=(_SEQ,
                 _c("aspect", "问题方面", 14, aliases=("问题类别",), required=True),
                 _c("summary", "问题表现", 36, aliases=("具体表现",), required=True),
                 _c("measures", "整改措施", 36, required=True),
                 _c("progress", "完成情况", 22, aliases=("整改进度",)),
                 _c("stage_result", "阶段性成效", 28),
                 _c("long_term_measure", "长期举措", 28),
                 _REMARK, _NUMBER),
        kinds=("carried_over",), new_kind="carried_over",
        footer=("联系电话", "联系人", "审核人"), stamp_lines=2),
    Template(
        key="004", title="{place}交通运输执法领域突出问题整改工作台账", subtitle=None,
        columns=(_SEQ,
                 _c("aspect", "问题类别", 14, aliases=("问题方面",), required=True),
                 _c("summary", "具体表现", 36, aliases=("问题表现",), required=True),
                 _c("measures", "整改措施", 36, required=True),
                 _c("unit", "责任单位", 18, required=True),
                 _c("deadline", "整改时限", 14, aliases=("完成时限",), required=True),
                 _c("progress", "整改进度", 22, aliases=("完成情况",)),
                 _c("evidence", "可验证成果", 28),
                 _REMARK, _NUMBER),
        kinds=("clue", "self_inspection", "carried_over"), new_kind="self_inspection",
        footer=("审核人", "联系人", "联系电话")),
)}

FOOTER_LABELS = ("审核人", "联系人", "联系电话", "填报单位", "填报时间")

# The 完成情况/整改进度 cell of an item without the unit's own words: one fixed
# vocabulary, so that a re-import can tell it from a progress note.
PROGRESS_LABELS = {
    ClueState.received.value: "待核查",
    ClueState.verifying.value: "核查中",
    ClueState.rectifying.value: "整改中",
    ClueState.rectified.value: "已整改（待销号）",
    ClueState.long_term.value: "持续推进",
    ClueState.closed.value: "已销号",
    ClueState.transferred.value: "已移交纪检监察",
    ClueState.merged.value: "已合并",  # a duplicate 合并 into another item (its row says into which)
}
DISMISSED_LABEL = "查无实据（已办结）"


def state_label(state: str, resolution: str | None = None) -> str:
    if state == ClueState.closed.value and resolution == "dismissed":
        return DISMISSED_LABEL
    return PROGRESS_LABELS[state]


ALL_LABELS = frozenset(PROGRESS_LABELS.values()) | {DISMISSED_LABEL}

# how a unit says in its own words that a problem is rectified
DONE_WORDS = ("已完成", "已整改", "整改完成", "完成整改", "已办结", "已销号")
