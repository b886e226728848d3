"""How the pages show the domain's words: each chart's own labels (never a second
copy), a deadline's countdown and its colour's label (statemachine/warning.py)."""
from __future__ import annotations

import json
from datetime import datetime

from services.core.actions import TRIGGER_LABELS
from statemachine.charts.clue import ITEM_KINDS, LABELS as CLUE_LABELS, ClueState
from statemachine.charts.ladder import CASE_LABELS, LEVEL_LABELS, NOTICE_KIND, CaseState, Level
from statemachine.charts.lookback import CHECK_LABELS, METHODS, ROUND_KINDS, ROUND_LABELS, CheckState, \
    RoundState
from statemachine.warning import UNIT_COLOUR_LABELS, WARNING_LABELS

__all__ = ["FILTERS", "NOTICE_KINDS", "countdown"]

# a notice's kind (notifications/documents/notices.py `KINDS`) as a list names it; a
# ladder level's document is named as the level is
NOTICE_KINDS = {**{kind: LEVEL_LABELS[level] for level, kind in NOTICE_KIND.items()},
                "chase": "催办通知书", "delisting": "摘牌通知", "inspection": "回头看 / 实地督察通知"}

def countdown(due: datetime | None, now: datetime) -> str:
    """'还剩 3 天' / '今日到期' / '已逾期 2 天': how far a deadline is, in whole days or hours."""
    if due is None:
        return ""
    left = due - now
    hours = int(abs(left.total_seconds()) // 3600)
    span = f"{hours // 24} 天" if hours >= 24 else f"{max(hours, 1)} 小时"
    return f"还剩 {span}" if left.total_seconds() >= 0 else f"已逾期 {span}"


def _label(table, enum_type):
    def label(value) -> str:
        if value is None or value == "":
            return "—"
        try:
            return table[enum_type(value)]
        except ValueError:
            return str(value)
    return label


FILTERS = {
    "clue_state": _label(CLUE_LABELS, ClueState),
    "case_state": _label(CASE_LABELS, CaseState),
    "round_state": _label(ROUND_LABELS, RoundState),
    "check_state": _label(CHECK_LABELS, CheckState),
    "level": _label(LEVEL_LABELS, Level),
    "clue_trigger": lambda t: TRIGGER_LABELS["clue"].get(t, t),
    "check_trigger": lambda t: TRIGGER_LABELS["check"].get(t, t),
    "case_trigger": lambda t: TRIGGER_LABELS["case"].get(t, t),
    "item_kind": lambda k: ITEM_KINDS.get(k, k),
    "round_kind": lambda k: ROUND_KINDS.get(k, k),
    "method": lambda m: METHODS.get(m or "", m or "—"),
    "warning": lambda c: WARNING_LABELS.get(c or "", ""),
    "unit_colour": lambda c: UNIT_COLOUR_LABELS.get(c or "", ""),
    "compact": lambda d: json.dumps(d, ensure_ascii=False, default=str),
    "notice_kind": lambda k: NOTICE_KINDS.get(k, k),
    "pct": lambda r: "—" if r is None else f"{r * 100:.1f}%",
}
