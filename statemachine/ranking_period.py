"""The period a ranking covers: a month (2023-05), a quarter (2023-Q2) or a year (2023),
as days: from its first day up to the first day after it (half-open). Its instants are
Beijing midnights (services/ranking/counts.py `bounds`)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from statemachine.errors import InvalidInput
from statemachine.limits import shown

__all__ = ["Period", "parse_period"]


@dataclass(frozen=True)
class Period:
    label: str       # as given, normalised: 2023-05, 2023-Q2, 2023
    first: date      # its first day
    after: date      # the first day after it


def _month(y: int, m: int) -> date:
    return date(y + (m - 1) // 12, (m - 1) % 12 + 1, 1)


def parse_period(text: str) -> Period:
    """`2023-05`, `2023-Q2` or `2023`; anything else is refused in one line."""
    t = (text or "").strip().upper()
    if m := re.fullmatch(r"(\d{4})-(\d{2})", t):
        y, mo = int(m[1]), int(m[2])
        if 1 <= mo <= 12:
            return Period(f"{y:04d}-{mo:02d}", date(y, mo, 1), _month(y, mo + 1))
    elif m := re.fullmatch(r"(\d{4})-Q([1-4])", t):
        y, q = int(m[1]), int(m[2])
        return Period(f"{y:04d}-Q{q}", date(y, 3 * q - 2, 1), _month(y, 3 * q + 1))
    elif m := re.fullmatch(r"(\d{4})", t):
        y = int(m[1])
        return Period(f"{y:04d}", date(y, 1, 1), date(y + 1, 1, 1))
    raise InvalidInput(f"period {shown(text)} is not a month (2023-05), a quarter (2023-Q2) or a year (2023)")
