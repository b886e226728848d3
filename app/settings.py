"""The CLI's view of the settings: the one Settings object (services/settings.py)
and the parsing of --now."""
from __future__ import annotations

from datetime import date, datetime, time

from services.settings import Settings
from statemachine.calendar import TZ
from statemachine.errors import InvalidInput

__all__ = ["Settings", "parse_instant"]


def parse_instant(text: str) -> datetime:
    """'2023-04-08', '2023-04-08 09:30', ISO with offset; naive means Asia/Shanghai."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(9, 0), TZ)
        dt = datetime.fromisoformat(raw.replace(" ", "T", 1))
    except ValueError:
        raise InvalidInput(f"--now: '{text}' is not a date or time (use 2023-04-08 or "
                           f"2023-04-08T09:30, Asia/Shanghai)") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=TZ)
