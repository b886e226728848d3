"""The demo's work-order practice (issue 16), through the use cases the CLI's `rectify clue
sign/return/reassign/extension/merge/call-back/redo` commands call:

- 退单 / 改派: the first hotline item of a diligent county is returned on arrival as
  another county's matter; the city reassigns it there and that county works it.
- 合并: the same matter as an early 12345 item arrives again by 12328 two days later, with
  its own 工单号 and reporter; the city merges it into the item kept.
- 延期: a county asks for 20 more days five days before a deadline; the city grants 10.
- 回访 / 重办: the city calls back every reporter of an item struck off (销号) on the next
  working day: mostly 满意 or 基本满意. The first item with a reporter's phone, worked at once (立行立改), is
  不满意 with the unit at fault: it goes back for 重办, is struck off again and called back.

Which items: chosen from the script by rule (no randomness), so a shortened replay
(--until) meets them early; callback results and the duplicate's reporter come from the
demo's seed."""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from statemachine.errors import RectifyError
from statemachine.time.calendar import TZ, local_date

from .data import Scripted, Step, UnitPace, person

__all__ = ["HOTLINES", "WorkOrderScript"]

SUPERVISOR = "sup.xinzhou"
HOTLINES = ("12345", "12328")
REDO_DAYS, RESUBMIT_DAYS, REAPPROVE_DAYS = 15, 7, 2


def _at(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(d, time(hour, minute), TZ)


def _quick(item: Scripted) -> list[Step]:
    """立行立改: the item whose reporter will say 不满意 is worked at once and struck off within
    three weeks, so that even a replay cut short in May shows its callback and 重办."""
    sub = next(s for s in item.steps if s.trigger == "substantiate")
    d = item.arrives + timedelta(days=3)
    return [Step(item.arrives + timedelta(days=1), "verify"),
            Step(d, "substantiate", sub.params | {"deadline": d + timedelta(days=20)}),
            Step(d + timedelta(days=10), "submit_evidence", {"evidence": "整改报告及佐证材料"}),
            Step(d + timedelta(days=12), "approve")]


@dataclass
class _Extension:
    item: Scripted
    deadline: date
    asks: date
    grants: date
    done: str = ""


class WorkOrderScript:
    def __init__(self, engine, code: str, calendar, script: list[Scripted], paces: dict[str, UnitPace],
                 units: list[str], rng: random.Random):
        self.engine, self.code, self.calendar, self.rng = engine, code, calendar, rng
        self.done: Counter = Counter()
        self.results: Counter = Counter()
        self.facts: list[str] = []
        diligent = [u for u in units if paces[u].lag_days <= 0]
        ordered = sorted(script, key=lambda i: i.arrives)  # stable: the script's order within a day
        start = min((i.arrives for i in script), default=date.min)
        # the first item with a reporter's phone: worked at once, then 不满意 and 重办
        self.quick = next((i for i in ordered if i.phone and i.unit in diligent
                           and any(s.trigger == "substantiate" for s in i.steps)), None)
        if self.quick is not None:
            self.quick.steps = _quick(self.quick)
        self.returned = next((i for i in ordered if i.channel in HOTLINES and i.unit in diligent
                              and i is not self.quick), None)
        self.reassign_to = None
        if self.returned is not None:  # the next diligent county in the plan's order
            at = diligent.index(self.returned.unit)
            self.reassign_to = diligent[(at + 1) % len(diligent)]
        used = {id(self.returned), id(self.quick)}
        self.kept = next((i for i in ordered if i.channel == "12345" and i.reporter and i.unit in diligent
                          and i.arrives >= start + timedelta(days=7) and id(i) not in used
                          and any(s.trigger == "substantiate" for s in i.steps)), None)
        used.add(id(self.kept))
        self.extension = self._extension_candidate(script, diligent, used)
        self.redo: dict[str, date] = {}       # item → the day the city sends it back
        self.resubmit: dict[str, date] = {}   # item → the day its unit submits again
        self.reapprove: dict[str, date] = {}  # item → the day the city strikes it off again
        self.redone: set[str] = set()

    @staticmethod
    def _extension_candidate(script, diligent, used) -> _Extension | None:
        best = None
        for item in script:
            if item.unit not in diligent or id(item) in used or any(s.trigger == "defer" for s in item.steps):
                continue
            sub = next((s for s in item.steps if s.trigger == "substantiate"), None)
            if sub is None:
                continue
            deadline = sub.params["deadline"]
            asks = deadline - timedelta(days=5)
            submits = [s.day for s in item.steps if s.trigger == "submit_evidence"]
            if asks <= sub.day or (submits and submits[0] <= asks + timedelta(days=1)):
                continue
            if best is None or asks < best.asks:
                best = _Extension(item, deadline, asks, deadline + timedelta(days=10))
        return best

    # -- the day's work, after the day's arrivals are registered ---------------------------------
    def day(self, day: date) -> None:
        self._return(day)
        self._merge(day)
        self._extend(day)
        self._callbacks(day)
        self._redo(day)

    def _try(self, what: str, fn, *args, **kw):
        try:
            v = fn(*args, **kw)
            self.done[what] += 1
            return v
        except RectifyError as e:  # the demo shows the rules at work, it does not stop
            self.done[f"refused: {what}"] += 1
            self.facts.append(f"{what} refused: {e}")
            return None

    def _return(self, day: date) -> None:
        from services.clues.returns import reassign, return_clue

        item = self.returned
        if item is None or item.arrives != day or item.number is None:
            return
        was = item.unit
        if self._try("退单", return_clue, self.engine, self.code, item.number, actor=f"off.{was}",
                     reason="反映问题发生地不在本县辖区，非本单位职责，申请退单", now=_at(day, 10),
                     calendar=self.calendar) is None:
            return
        v = self._try("改派", reassign, self.engine, self.code, item.number, to=self.reassign_to,
                      actor=SUPERVISOR, note="经核实，问题发生地属该县辖区，改派办理", now=_at(day, 11),
                      calendar=self.calendar)
        if v is not None:
            item.unit = self.reassign_to  # its scripted work is now done by the new unit's officer
            self.facts.append(f"退单/改派 {item.number}: returned by {v.from_unit}, reassigned to {v.unit}")

    def _merge(self, day: date) -> None:
        from services.clues.lifecycle import NewClue, add_clues
        from services.clues.merging import merge

        kept = self.kept
        if kept is None or kept.number is None or day != kept.arrives + timedelta(days=2):
            return
        name, phone = person(self.rng)
        ref = f"12328-{day:%Y%m%d}-9001"
        dup = self._try("受理", add_clues, self.engine, self.code, [NewClue(
            channel="12328", aspect=kept.aspect, summary=kept.summary, unit=kept.unit, reporter_name=name,
            reporter_phone=phone, received_at=_at(day, 9, 30), source_ref=ref)],
            actor=SUPERVISOR, now=_at(day, 9, 30), calendar=self.calendar)
        if dup is None:
            return
        v = self._try("合并", merge, self.engine, self.code, dup[0], into=kept.number, actor=SUPERVISOR,
                      reason="同一事项经12328热线重复反映，合并办理", now=_at(day, 10), calendar=self.calendar)
        if v is not None:
            self.facts.append(f"合并 {v.number} (12328, 工单号 {ref}) into {v.into}: {v.sources_moved} source moved")

    def _extend(self, day: date) -> None:
        from services.clues.extensions import approve_extension, request_extension

        x = self.extension
        if x is None or x.item.number is None:
            return
        if day == x.asks:
            if self._try("延期申请", request_extension, self.engine, self.code, x.item.number, until=x.deadline
                         + timedelta(days=20), reason="涉及跨部门协调，整改需公路部门配合施工，申请延期",
                         actor=f"off.{x.item.unit}", now=_at(day, 10), calendar=self.calendar):
                x.done = "asked"
        elif day == x.asks + timedelta(days=1) and x.done == "asked":
            v = self._try("延期批准", approve_extension, self.engine, self.code, x.item.number, actor=SUPERVISOR,
                          until=x.grants, note="同意延期，但须缩短期限", now=_at(day, 10), calendar=self.calendar)
            if v is not None:
                self.facts.append(f"延期 {v.number}: deadline {v.previous}, asked {v.asked}, granted {v.granted}")

    def _callbacks(self, day: date) -> None:
        """The city calls back, on the next working day, the reporters of the items struck off."""
        from sqlalchemy import select

        from models.tables import Clue
        from services.campaigns.load import campaign_id
        from services.clues.callbacks import call_back
        from statemachine.charts.callback import OWED

        if not self.calendar.is_workday(day):
            return
        T = Clue.__table__
        with self.engine.connect() as conn:
            owed = conn.execute(select(T.c.number, T.c.closed_at).where(
                T.c.campaign_id == campaign_id(self.engine, self.code), T.c.callback == OWED,
                T.c.state == "closed").order_by(T.c.closed_at, T.c.id)).all()
        for number, closed_at in owed:
            if local_date(closed_at) >= day:
                continue
            at_fault = False
            if number in self.redone:
                result, note = "satisfied", "重办后问题已解决，反映人表示满意"
            elif self.quick is not None and number == self.quick.number:
                result, note, at_fault = "dissatisfied", "反映人称问题仍然存在，整改未落实到位", True
            else:
                roll = self.rng.random()
                result, note = (("satisfied", None) if roll < 0.62 else ("basically_satisfied", None)
                                if roll < 0.9 else ("unreachable", "三次拨打均未接通") if roll < 0.96
                                else ("dissatisfied", "对处理结果不满意，诉求超出政策规定"))
            if self._try("回访", call_back, self.engine, self.code, number, result=result, note=note,
                         unit_at_fault=at_fault, actor=SUPERVISOR, now=_at(day, 16)) is None:
                continue
            self.results[result] += 1
            if at_fault:
                self.redo[number] = self.calendar.next_workday(day + timedelta(days=1))

    def _redo(self, day: date) -> None:
        from services.clues.callbacks import redo
        from services.clues.lifecycle import ClueInput, transition

        for number, when in list(self.redo.items()):
            if day == when:
                del self.redo[number]
                v = self._try("重办", redo, self.engine, self.code, number, actor=SUPERVISOR,
                              reason="回访不满意，责任单位整改不到位，退回重办", now=_at(day, 10),
                              deadline=day + timedelta(days=REDO_DAYS), calendar=self.calendar)
                if v is not None:
                    self.redone.add(number)
                    self.resubmit[number] = day + timedelta(days=RESUBMIT_DAYS)
                    self.facts.append(f"重办 {number}: 不满意 (unit at fault), sent back {day}, "
                                      f"new deadline {v.deadline}")
        for number, when in list(self.resubmit.items()):
            if day == when:
                del self.resubmit[number]
                if self._try("重办整改", transition, self.engine, self.code, number, "submit_evidence",
                             actor=self._officer(number), now=_at(day, 14),
                             data=ClueInput(evidence="重办整改报告及现场照片")) is not None:
                    self.reapprove[number] = day + timedelta(days=REAPPROVE_DAYS)
        for number, when in list(self.reapprove.items()):
            if day == when:
                del self.reapprove[number]
                if self._try("重办销号", transition, self.engine, self.code, number, "approve", actor=SUPERVISOR,
                             now=_at(day, 17)) is not None:
                    self.facts.append(f"重办 {number}: struck off (销号) again {day}")

    def _officer(self, number: str) -> str:
        from services.campaigns.units import list_units
        from services.clues.lifecycle import get_clue

        name = get_clue(self.engine, self.code, number).unit
        return f"off.{next(u.code for u in list_units(self.engine, self.code) if u.name == name)}"

    def summary(self) -> list[str]:
        """A line of counts, then what happened to the items chosen (their numbers)."""
        from statemachine.charts.callback import RESULTS

        d = self.done
        made = ", ".join(f"{RESULTS[k]} {self.results[k]}" for k in RESULTS if self.results[k])
        refused = sum(v for k, v in d.items() if k.startswith("refused"))
        return [f"work orders (工单): 退单 {d['退单']}, 改派 {d['改派']}, 合并 {d['合并']}, "
                f"延期 asked {d['延期申请']} granted {d['延期批准']}, 回访 {d['回访']} ({made or '—'}), "
                f"重办 {d['重办']}" + (f"; refused by the rules: {refused}" if refused else ""),
                *(f"  {f}" for f in self.facts)]
