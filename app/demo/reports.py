"""The demo's reporting (报送): units send each report the plan asks for; the
units that lag send theirs late, and now and then not at all — which the
nightly sweep records as a missed_report lapse and the ladder answers."""
from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta

from statemachine.errors import RectifyError
from statemachine.reports.duties import all_occurrences
from statemachine.time.calendar import TZ

__all__ = ["ReportScript"]


class ReportScript:
    def __init__(self, engine, campaign: str, plan, paces: dict, rng: random.Random):
        from services.reports.duties import STATUS_LABELS  # noqa: F401  (fail early if services move)

        self.engine, self.campaign = engine, campaign
        self.done: Counter = Counter()
        self.todo: dict[date, list[tuple[str, str, str, str]]] = defaultdict(list)
        root = plan.root.code
        participants = [u.code for u in plan.participants()]
        for o in all_occurrences(plan):
            owing = participants if o.owed_by == "participants" else [root]
            due = o.due_at.date()
            for unit in owing:
                lag = paces[unit].lag_days if unit in paces else 0
                if lag > 0 and rng.random() < 0.25:
                    self.done["never"] += 1  # this one never comes: a missed_report lapse
                    continue
                when = due + timedelta(days=max(lag, 0)) if lag > 0 else due
                who = "sup.xinzhou" if unit == root else f"off.{unit}"
                self.todo[when].append((unit, o.duty, o.period, who))

    def day(self, day: date) -> None:
        from services.reports.duties import submit

        for unit, duty, period, who in self.todo.pop(day, []):
            try:
                ln = submit(self.engine, self.campaign, unit=unit, duty=duty, period=period, actor=who,
                            attachment=f"{unit}/{duty}/{period}.docx", now=datetime.combine(day, time(9, 0), TZ))
                self.done[ln.status] += 1
            except RectifyError:
                self.done["refused"] += 1

    def summary(self) -> str:
        return (f"reports (报送): on time {self.done['submitted']}, late {self.done['late']}, "
                f"never sent {self.done['never']}" + (f", refused {self.done['refused']}" if self.done['refused'] else ""))
