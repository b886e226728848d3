"""When a person may change a campaign without saying which day it is.

A campaign runs over its plan's period (start to end, Beijing dates). Its
follow-up runs on after the end: 回头看 findings are reopened and struck off
again, 挂牌督办 is ended by 摘牌, 追责问责 is decided, late reports come in.
So a change made on the real clock is taken as of today while today lies in

    [period start, period end + AFTER_END_DAYS]

and refused otherwise, in one line that names the period: a clue added in
2026 to a 2023 campaign is a mistake (the forgotten `--now` of a replay or
of entering an old ledger), never a fact to file silently. An instant the
person chose (`--now`, `RECTIFY_NOW`) is taken as given, inside the window
or not: whoever types it says which day the change belongs to.

Reading (lists, status, reports) is never refused; the commands that change
a campaign ask `period_refusal` (services/campaigns/period.py reads the
period from the database), and so may any other entry point.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["AFTER_END_DAYS", "CampaignPeriod", "period_refusal", "NOW_HINT"]

# a quarter: the seeds' follow-up (final reports, 摘牌, 追责问责) ends within weeks of the period
AFTER_END_DAYS = 90
NOW_HINT = "give --now to act as of a date in it"


@dataclass(frozen=True)
class CampaignPeriod:
    code: str
    start: date
    end: date

    @property
    def last_day(self) -> date:
        """The last day a change on the real clock is taken (the follow-up's end)."""
        return self.end + timedelta(days=AFTER_END_DAYS)


def period_refusal(period: CampaignPeriod, *, today: date, chosen: bool, hint: str = NOW_HINT) -> str | None:
    """Why a change to the campaign on `today` (Beijing date) is refused, or None.
    `chosen`: the instant was given by the person, not read from the clock."""
    if chosen or period.start <= today <= period.last_day:
        return None
    if today < period.start:
        return (f"the campaign {period.code} runs from {period.start} to {period.end}; today ({today}) "
                f"is before it starts: {hint}")
    return (f"the campaign {period.code} ran from {period.start} to {period.end} (its follow-up until "
            f"{period.last_day}); today is {today}: {hint}")
