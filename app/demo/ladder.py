"""How people answer the ladder in the demo replay: units sign for and answer
measures (laggards ignore criticism until the interview), the supervisor
confirms proposed cases, holds interviews, verifies answers, and once lists
the worst laggard's oldest overdue problem for supervision, later de-listed.

Everything goes through the same services a person's CLI command uses.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

from statemachine.errors import RectifyError
from statemachine.time.calendar import TZ, local_date

__all__ = ["LadderScript"]

SUPERVISOR = "sup.xinzhou"
ORGAN = "忻州市纪委监委"
LISTING_DAY, ANSWER_DAY, DELIST_DAY = date(2023, 6, 15), date(2023, 7, 10), date(2023, 7, 14)


def _at(d: date, hour: int) -> datetime:
    return datetime.combine(d, time(hour, 0), TZ)


class LadderScript:
    def __init__(self, engine, code: str, calendar, channels, laggards: set[str]):
        self.engine, self.code, self.calendar, self.channels = engine, code, calendar, channels
        self.laggards = laggards
        self.done: Counter = Counter()
        self.listed: int | None = None

    def _fire(self, case_id: int, trigger: str, actor: str, day: date, **data) -> None:
        from services.ladder.cases import CaseInput, fire

        try:
            fire(self.engine, self.code, case_id, trigger, actor=actor, now=_at(day, 16),
                 calendar=self.calendar, channels=self.channels, data=CaseInput(**data))
            self.done[trigger] += 1
        except RectifyError:
            self.done["refused"] += 1

    def day(self, day: date) -> None:
        from services.ladder.cases import list_cases

        for case in list_cases(self.engine, self.code, open_only=True):
            self._act(case, day)
        self._listing(day)

    def _act(self, case, day: date) -> None:
        officer = f"off.{case.unit}"
        since = (day - local_date(case.issued_at or case.proposed_at)).days
        quick = case.id % 3 + 2  # 2–4 days: units differ in how fast they answer
        if case.state == "proposed" and since >= 1:
            self._fire(case.id, "issue", SUPERVISOR, day,
                       receiving_organ=ORGAN if case.level == 5 else None)
        elif case.level == 1 and case.unit in self.laggards:
            return  # 躺平: criticism goes unanswered until chased and escalated
        elif case.state == "issued" and case.level in (1, 3) and since >= 1 and case.id != self.listed:
            self._fire(case.id, "acknowledge", officer, day)
        elif case.state in ("issued", "awaiting_response") and case.level == 2:
            if case.state == "issued" and since >= 3:
                self._fire(case.id, "record_interview", SUPERVISOR, day,
                           minutes="约谈单位主要负责同志，指出整改不力问题，提出限期整改要求",
                           report_due=day + timedelta(days=20))
            elif case.state == "awaiting_response" and since >= 12:
                self._fire(case.id, "respond", officer, day, response="约谈后整改情况报告",
                           attachment=f"{case.unit}/约谈整改报告.pdf")
        elif case.state == "awaiting_response" and case.level == 1 and since >= quick:
            self._fire(case.id, "respond", officer, day, response="已对照通报问题完成整改",
                       attachment=f"{case.unit}/整改情况报告.pdf")
        elif case.state == "responded" and case.level in (1, 2) and \
                day >= local_date(case.responded_at) + timedelta(days=2):
            self._fire(case.id, "resolve", SUPERVISOR, day, note="经审核，整改情况属实")
        elif case.level == 4 and case.state in ("issued", "awaiting_response") and since >= 10:
            self._fire(case.id, "decide", SUPERVISOR, day, decision="accountable",
                       decision_text="对相关责任人进行诫勉谈话")

    def _listing(self, day: date) -> None:
        """挂牌督办 the laggard with the most overdue problems, on its oldest one."""
        from services.clues.lifecycle import list_clues
        from services.ladder.cases import CaseInput, escalate_unit

        if day == LISTING_DAY:
            overdue = list_clues(self.engine, self.code, overdue_as_of=_at(day, 9), limit=5000)
            by_unit = Counter(c.unit for c in overdue if c.deadline_at)
            if not by_unit:
                return
            worst_name = by_unit.most_common(1)[0][0]
            clue = min((c for c in overdue if c.unit == worst_name and c.deadline_at),
                       key=lambda c: c.deadline_at)
            unit = self._code_of(worst_name)
            v = escalate_unit(self.engine, self.code, unit, 3, actor=SUPERVISOR, now=_at(day, 10),
                              calendar=self.calendar, channels=self.channels,
                              data=CaseInput(reason=f"问题“{clue.summary}”整改严重滞后", clue=clue.number))
            self.listed = v.id
            self.done["listed"] += 1
        elif day == ANSWER_DAY and self.listed:
            self._fire(self.listed, "respond", f"off.{self._unit_of(self.listed)}", day,
                       response="挂牌督办事项已整改到位，申请摘牌", attachment="挂牌督办整改报告.pdf")
        elif day == DELIST_DAY and self.listed:
            self._fire(self.listed, "delist", SUPERVISOR, day, note="经实地核查，挂牌督办事项已整改到位，予以摘牌")

    def _code_of(self, unit_name: str) -> str:
        from services.campaigns.units import list_units

        return next(u.code for u in list_units(self.engine, self.code) if u.name == unit_name)

    def _unit_of(self, case_id: int) -> str:
        from services.ladder.cases import get_case

        return get_case(self.engine, self.code, case_id).unit
