"""Reporting duties (报送) expanded into what is owed when (docs/domain.md §10.1, §11.1).

A plan's duty is a schedule ("every Thursday 12:00", "by the 25th monthly",
"once by 10-08", "at the end of stage X", "at the end of each stage"); an
*occurrence* is one report of it: a period label, the instant it is due
(Asia/Shanghai) and the span it reports on. Pure functions: the sweep, the
submissions and the report flows all count from the same list.
"""
from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from statemachine.errors import InvalidInput
from statemachine.plan import Plan, ReportingDuty, StageSpec
from statemachine.time.calendar import TZ

__all__ = ["Occurrence", "occurrences", "all_occurrences", "find_occurrence", "WEEKDAYS", "REPORT_KINDS",
           "report_kind_of"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_CN = "一二三四五六日"


@dataclass(frozen=True)
class Occurrence:
    duty: str
    name: str          # the duty's name
    period: str        # weekly/once: the due date (2023-04-20); monthly: 2023-04; stage_end: the stage key
    due_at: datetime   # aware, Asia/Shanghai
    start: date        # the span the report covers (first day)
    end: date          # … and its last day
    owed_by: str       # participants | lead
    typical_cases: int

    @property
    def label(self) -> str:
        d = self.due_at
        return f"{self.name}（{self.period}，{d.month}月{d.day}日{d:%H:%M}前）"


def _at(day: date, at: time) -> datetime:
    return datetime.combine(day, at, TZ)


def _month_day(year: int, month: int, day: int | str) -> date:
    last = _cal.monthrange(year, month)[1]
    return date(year, month, last if day == "last" else min(int(day), last))


def occurrences(plan: Plan, duty: ReportingDuty) -> list[Occurrence]:
    """Every report the duty asks for, in due order."""
    s = duty.schedule
    first = duty.start or plan.campaign.period.start
    last = duty.until or plan.campaign.period.end
    out: list[tuple[str, date, date, date]] = []  # period, due day, span start, span end
    if s.kind == "weekly":
        day = first + timedelta(days=(WEEKDAYS.index(s.weekday) - first.weekday()) % 7)
        prev = first
        while day <= last:
            out.append((day.isoformat(), day, prev, day))
            prev, day = day + timedelta(days=1), day + timedelta(days=7)
    elif s.kind == "monthly":
        y, m = first.year, first.month
        while (y, m) <= (last.year, last.month):
            due = _month_day(y, m, s.day)
            if first <= due <= last:
                out.append((f"{y:04d}-{m:02d}", due, date(y, m, 1), _month_day(y, m, "last")))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    elif s.kind == "once":
        out.append((s.due.isoformat(), s.due, first, s.due))
    else:  # stage_end: the named stage's summary, or without a name each stage's (每阶段一总结)
        stages = [st for st in plan.stages if st.key == s.stage] if s.stage else plan.stages
        for stage in stages:
            due = _summary_day(stage)
            if due is None:  # an ongoing stage without a summary date owes nothing fixed
                continue
            if s.stage is None and not _in(due, duty.start, duty.until):
                continue  # a window given to "each stage" picks the stages; a named stage is named
            out.append((stage.key, due, stage.start or first, stage.end or due))
        # 001's summary is due before its rectification stage ends: plans' dates need not be in order
        out.sort(key=lambda o: o[1])
    return [Occurrence(duty.key, duty.name, p, _at(due, s.at), a, b, duty.owed_by, duty.typical_cases)
            for p, due, a, b in out]


def _summary_day(stage: StageSpec) -> date | None:
    """The day a stage's summary is due: its summary date, else its end; an ongoing
    stage (长期推进) has no end, so only a stated summary date makes it owe one."""
    return stage.summary_due or stage.end


def _in(day: date, start: date | None, until: date | None) -> bool:
    return (start is None or start <= day) and (until is None or day <= until)


def all_occurrences(plan: Plan) -> list[Occurrence]:
    return sorted((o for d in plan.reporting for o in occurrences(plan, d)),
                  key=lambda o: (o.due_at, o.duty))


def find_occurrence(plan: Plan, duty_key: str, period: str | None, *,
                    at: datetime | None = None) -> Occurrence:
    """The occurrence a submission is for: named by period, or else the first
    one not yet due at `at` (the report being prepared now), else the last."""
    duty = next((d for d in plan.reporting if d.key == duty_key), None)
    if duty is None:
        raise InvalidInput(f"unknown reporting duty '{duty_key}' "
                           f"(one of {', '.join(d.key for d in plan.reporting) or 'none in this plan'})")
    occ = occurrences(plan, duty)
    if not occ:
        raise InvalidInput(f"reporting duty '{duty_key}' has no fixed due date")
    if period is not None:
        found = next((o for o in occ if o.period == period), None)
        if found is None:
            shown = ", ".join(o.period for o in occ[:6]) + (" …" if len(occ) > 6 else "")
            raise InvalidInput(f"reporting duty '{duty_key}' has no period '{period}' (periods: {shown})")
        return found
    if at is None:
        return occ[-1]
    return next((o for o in occ if o.due_at >= at), occ[-1])


def weekday_cn(day: date) -> str:
    return "星期" + _WEEKDAY_CN[day.weekday()]


# the reports the system drafts (docs/domain.md §10.3), by kind, with their titles
REPORT_KINDS = {"weekly": "工作周报", "monthly": "工作月报", "stage": "阶段总结", "final": "工作总结报告"}


def report_kind_of(plan, duty_key: str) -> str | None:
    """The report the system drafts for a duty: its roll-up of the same cadence; the
    final report for a once-only duty that asks for typical cases; none otherwise."""
    duty = next(d for d in plan.reporting if d.key == duty_key)
    kind = duty.schedule.kind
    if kind in ("weekly", "monthly"):
        return kind
    if kind == "stage_end":
        return "stage"
    return "final" if duty.typical_cases else None
