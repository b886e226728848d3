"""The demo's look-back round and field inspection, as in seed 000: a look-back
(整改“回头看”) opened on 8-24 over a risk-weighted sample of closed items, and a
one-week field inspection (实地督察) by two teams on 9-18 – 9-25, unannounced
(四不两直). Inspectors record what they find on their visit days; most results
hold, some relapsed, a few were faked. Closing reopens those items (the units
rectify them again) and proposes 追责问责 for the faked ones.

Opening and closing run the real Prefect flows; checks go through the same
service a `rectify round record` does.
"""
from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, time, timedelta

from statemachine.errors import RectifyError
from statemachine.lookback.spec import RoundSpec
from statemachine.time.calendar import TZ

__all__ = ["RoundScript", "ROUNDS"]

SUPERVISOR = "sup.xinzhou"
TEAMS = [{"code": "team-1", "name": "第一督察组", "leader": "insp.xinzhou1", "members": ["insp.xinzhou1"]},
         {"code": "team-2", "name": "第二督察组", "leader": "insp.xinzhou2", "members": ["insp.xinzhou2"]}]
ROUNDS = {
    "lb-2023-08": dict(
        opens=date(2023, 8, 24), closes=date(2023, 9, 11),
        spec=dict(code="lb-2023-08", title="专项整治问题整改“回头看”", kind="look_back", scope="xinzhou-jtj",
                  selection={"mode": "sample", "share": 0.3, "min_per_unit": 1, "risk_weighted": True,
                             "seed": 20230824},
                  deadline="2023-09-08", methods=["案卷审查", "随机抽查"], teams=TEAMS,
                  note="对已销号问题逐项核实、对账销号")),
    "fi-2023-09": dict(
        opens=date(2023, 9, 14), closes=date(2023, 9, 27),
        spec=dict(code="fi-2023-09", title="专项整治实地督察", kind="field_inspection", scope="xinzhou-jtj",
                  selection={"mode": "sample", "count": 2, "min_per_unit": 1, "risk_weighted": True,
                             "seed": 20230918},
                  deadline="2023-09-26", visits={"start": "2023-09-18", "end": "2023-09-25"},
                  methods=["四不两直", "实地暗访", "突击检查"], announce_items=False, teams=TEAMS)),
}
FINDINGS = {"relapsed": ["问题整改后出现反弹，执法站点再次违规设置检查点", "整改措施未落实到位，同类问题再次发生"],
            "faked": ["整改佐证材料系事后补写，与实际不符", "现场照片为摆拍，问题实际未整改"]}


def _at(d: date, hour: int) -> datetime:
    return datetime.combine(d, time(hour, 0), TZ)


class RoundScript:
    def __init__(self, engine, code: str, calendar, rng: random.Random):
        self.engine, self.code, self.calendar, self.rng = engine, code, calendar, rng
        self.done: Counter = Counter()
        self.rework: dict[str, date] = {}  # reopened item → the day its unit submits again

    def day(self, day: date) -> None:
        from app.flow_runner import run_close_round, run_open_round

        for code, r in ROUNDS.items():
            try:
                if day == r["opens"]:
                    from services.lookback.rounds import plan_round

                    plan_round(self.engine, self.code, RoundSpec.model_validate(r["spec"]), actor=SUPERVISOR,
                               now=_at(day, 9))
                    run_open_round(self.code, code, SUPERVISOR, _at(day, 10))
                    self.done["rounds opened"] += 1
                elif r["opens"] < day < r["closes"]:
                    self._inspect(code, day)
                elif day == r["closes"]:
                    result = run_close_round(self.code, code, SUPERVISOR, _at(day, 10))
                    self.done["rounds closed"] += 1
                    for line in result.reopened:
                        if line.note == "reopened":
                            self.rework[line.number] = day + timedelta(days=self.rng.randint(6, 18))
            except RectifyError as e:  # the demo shows the rules at work, it does not stop
                self.done[f"refused: {e}"] += 1
        self._rework(day)

    def _inspect(self, code: str, day: date) -> None:
        """Each team records the checks due today: on the visit day, else spread over the window."""
        from services.lookback.checks import CheckInput, list_checks, record_check
        from services.lookback.rounds import get_round

        rnd = get_round(self.engine, self.code, code)
        visits = {u_code: visit for t in rnd.teams for u_code, _, visit, _ in t.units}
        for check in list_checks(self.engine, self.code, code, state="pending", limit=100000):
            visit = visits.get(check.unit)
            due = visit if visit else day if self.rng.random() < 0.25 else None
            if due != day or (not visit and day.weekday() >= 5):
                continue
            roll = self.rng.random()
            outcome = "confirmed" if roll < 0.84 else "relapsed" if roll < 0.96 else "faked"
            if self.rng.random() < 0.03:
                continue  # a few checks are never made: 'missed' at closing
            member = next(t.members[0] for t in rnd.teams if t.code == check.team)
            spec = ROUNDS[code]["spec"]
            try:
                record_check(self.engine, self.code, code, check.number, outcome, actor=member,
                             now=_at(day, 16), calendar=self.calendar,
                             data=CheckInput(method=self.rng.choice(spec["methods"]),
                                             findings=self.rng.choice(FINDINGS[outcome])
                                             if outcome != "confirmed" else "整改到位，未发现反弹"))
                self.done[f"checks {outcome}"] += 1
            except RectifyError:
                self.done["checks refused"] += 1

    def _rework(self, day: date) -> None:
        """Units rectify reopened items again; the supervisor strikes them off again."""
        from services.clues.lifecycle import ClueInput, get_clue, transition

        for number, when in list(self.rework.items()):
            if day < when:
                continue
            del self.rework[number]
            try:
                if get_clue(self.engine, self.code, number).state == "rectifying":
                    transition(self.engine, self.code, number, "submit_evidence", actor=self._officer(number),
                               now=_at(day, 14), data=ClueInput(evidence="回头看问题二次整改报告及现场照片"))
                transition(self.engine, self.code, number, "approve", actor=SUPERVISOR, now=_at(day, 17))
                self.done["re-rectified and struck off again"] += 1
            except RectifyError:
                self.done["rework refused"] += 1

    def _officer(self, number: str) -> str:
        from sqlalchemy import select

        from models.tables import Campaign, Clue, Unit

        with self.engine.connect() as conn:
            unit = conn.execute(select(Unit.code).join(Clue, Clue.unit_id == Unit.id)
                                .join(Campaign, Campaign.id == Clue.campaign_id)
                                .where(Campaign.code == self.code, Clue.number == number)).scalar_one()
        return f"off.{unit}"
