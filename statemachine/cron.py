"""A plan's cron expression, accepted only when both schedulers read it alike.

The sweep fires on the plan's cron in one of two schedulers (docs/architecture.md
decision 9): the embedded APScheduler 3 or Prefect (cronsim). They agree on
minutes, hours, days of the month and months, and disagree elsewhere:

- day-of-week numbers: APScheduler 3 counts 0 = Monday, cron and Prefect
  0 = Sunday, so `* * * * 1` is Tuesday in one and Monday in the other;
  names (mon … sun) mean the same day in both, but Prefect refuses a range
  that ends on sun (`sat-sun`), and a step (`*/2`) picks other days in each;
- a day of the month together with a day of the week: cron fires on either,
  APScheduler on both;
- a date that never comes (`0 0 31 2 *`) crashes APScheduler and is refused
  by Prefect, and `99 99 * * *` only looks like a cron.

So the day of week is `*` or names (ranges within mon-sat, sun on its own),
never alongside a day of the month, and every field is checked against its
range. What is accepted fires at the same instants in both (tests/unit/test_cron.py).
"""
from __future__ import annotations

import re

__all__ = ["check_cron", "CRON_FIELDS"]

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # Monday first: ranges within mon-sat
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# name, lowest, highest, names for the values from lowest on
CRON_FIELDS = (("minute", 0, 59, ()), ("hour", 0, 23, ()), ("day of month", 1, 31, ()),
               ("month", 1, 12, _MONTHS), ("day of week", 0, 6, _DAYS))
_ITEM = re.compile(r"(?:(\*)|([0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?)(?:/([0-9]+))?")


def _value(text: str, field: str, lo: int, hi: int, names: tuple[str, ...]) -> int:
    if text.isdigit():
        if field == "day of week":
            raise ValueError(f"day of week '{text}': write the day's name (mon … sun); as a number "
                             f"the two schedulers read a different day")
        n = int(text)
        if not lo <= n <= hi:
            raise ValueError(f"{field} {n} is outside {lo}-{hi}")
        return n
    if text.lower() in names:
        return lo + names.index(text.lower())
    raise ValueError(f"{field} '{text}' is not a number" + (f" or one of {', '.join(names)}" if names else ""))


def _values(text: str, field: str, lo: int, hi: int, names: tuple[str, ...]) -> set[int]:
    out: set[int] = set()
    for item in text.split(","):
        m = _ITEM.fullmatch(item)
        if not m:
            raise ValueError(f"{field} '{item}' is not a value, a range a-b or a step */n")
        star, first, last, step = m.groups()
        if step is not None and field == "day of week":
            raise ValueError(f"day of week '{item}': list the days by name (mon,wed,fri); a step "
                             f"picks different days in the two schedulers")
        a, b = (lo, hi) if star else (_value(first, field, lo, hi, names),
                                      _value(last, field, lo, hi, names) if last else None)
        if b is None:
            b = hi if step is not None else a
        if b < a:
            raise ValueError(f"{field} '{item}' runs backwards")
        if field == "day of week" and last and b == 6:
            raise ValueError(f"day of week '{item}': a range ends by sat; add sun on its own (mon-sat,sun)")
        n = int(step) if step is not None else 1
        if step is not None and not 1 <= n <= b - a:  # APScheduler's bound (Prefect takes more)
            raise ValueError(f"{field} '{item}': the step must be 1-{b - a}" if b > a
                             else f"{field} '{item}': a step needs a range")
        out.update(range(a, b + 1, n))
    return out


def check_cron(expr: str) -> str:
    """`expr` as given, or ValueError naming the field and what is wrong with it."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError("must be a 5-field cron expression (minute hour day month weekday), e.g. '5 0 * * *'")
    values = [_values(text, *spec) for text, spec in zip(fields, CRON_FIELDS)]
    day, month, weekday = fields[2], fields[3], fields[4]
    if day != "*" and weekday != "*":
        raise ValueError("give a day of month or a day of week, not both: the two schedulers "
                         "combine them differently")
    if max(_MONTH_DAYS[m - 1] for m in values[3]) < min(values[2]):
        raise ValueError(f"day {day} of month {month} never comes")
    return expr
