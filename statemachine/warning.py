"""Early-warning colours on every deadline (docs/domain.md §12): blue when it is near,
yellow when it is imminent, red once it has passed."""
from __future__ import annotations

from datetime import datetime, timedelta

__all__ = ["warning_colour", "WARNING_LABELS"]

WARNING_LABELS = {"red": "红色预警(逾期)", "yellow": "黄色预警", "blue": "蓝色预警", "": ""}


def warning_colour(due_at: datetime | None, as_of: datetime, *, blue_within_days: int = 3,
                   yellow_within_days: int = 1) -> str:
    if due_at is None:
        return ""
    if as_of > due_at:
        return "red"
    left = due_at - as_of
    if left <= timedelta(days=yellow_within_days):
        return "yellow"
    if left <= timedelta(days=blue_within_days):
        return "blue"
    return ""
