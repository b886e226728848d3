"""What a round found: tallies per unit, aspect and team, the reopened items,
and the re-draw that shows the sample was not hand-picked."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine, case, func, select

from models.tables import Clue, InspectionCheck, InspectionTeam, RoundUnit, Unit
from statemachine.lookback.sampling import Candidate, digest, draw

from services.campaigns.load import plan_of
from services.core.directory import campaign_row
from .rounds import load_round, spec_of

__all__ = ["tally", "round_report", "RoundReport", "verify_sample", "SampleCheck", "OUTCOME_COLUMNS"]

T, U, TM, RU, CK = (Clue.__table__, Unit.__table__, InspectionTeam.__table__, RoundUnit.__table__,
                    InspectionCheck.__table__)
OUTCOME_COLUMNS = ("selected", "checked", "confirmed", "relapsed", "faked", "missed", "pending")


def _counts():
    def n(*states):
        return func.sum(case((CK.c.state.in_(states), 1), else_=0))
    return [func.count().label("selected"), n("confirmed", "relapsed", "faked").label("checked"),
            n("confirmed").label("confirmed"), n("relapsed").label("relapsed"), n("faked").label("faked"),
            n("missed").label("missed"), n("pending").label("pending")]


def _line(key: str, name: str, r) -> dict:
    d = {"key": key, "name": name, **{c: int(getattr(r, c) or 0) for c in OUTCOME_COLUMNS}}
    d["relapse_rate"] = round(d["relapsed"] / d["checked"], 4) if d["checked"] else None
    return d


def tally(conn: Connection, rnd, *, now: datetime) -> dict:
    """Per unit, per aspect, per team and in total; relapse rate = relapsed / checked."""
    aspects = {a.key: a.name for a in plan_of(conn, rnd.campaign_id).aspects}
    units = [_line(r.code, r.name, r) for r in conn.execute(
        select(U.c.code, U.c.name, *_counts()).join(U, U.c.id == CK.c.unit_id)
        .where(CK.c.round_id == rnd.id).group_by(U.c.code, U.c.name).order_by(U.c.code))]
    by_aspect = [_line(r.aspect_key, aspects.get(r.aspect_key, r.aspect_key), r) for r in conn.execute(
        select(T.c.aspect_key, *_counts()).join(T, T.c.id == CK.c.clue_id)
        .where(CK.c.round_id == rnd.id).group_by(T.c.aspect_key).order_by(T.c.aspect_key))]
    overdue = now > rnd.deadline_at
    teams = []
    for r in conn.execute(select(TM.c.code, TM.c.name, *_counts()).join(TM, TM.c.id == CK.c.team_id)
                          .where(CK.c.round_id == rnd.id).group_by(TM.c.code, TM.c.name).order_by(TM.c.code)):
        line = _line(r.code, r.name, r)
        line["overdue"] = line["pending"] if overdue else 0
        teams.append(line)
    totals = _line("total", "合计", conn.execute(select(*_counts()).where(CK.c.round_id == rnd.id)).one())
    reopened = [{"number": r.number, "unit": r.code, "outcome": r.state, "findings": r.findings,
                 "deadline": r.new_deadline.isoformat() if r.new_deadline else None,
                 "item_state": r.item_state}
                for r in conn.execute(
                    select(T.c.number, U.c.code, CK.c.state, CK.c.findings, CK.c.new_deadline,
                           T.c.state.label("item_state"))
                    .join(T, T.c.id == CK.c.clue_id).join(U, U.c.id == CK.c.unit_id)
                    .where(CK.c.round_id == rnd.id, CK.c.applied_note == "reopened")
                    .order_by(U.c.code, T.c.number))]
    return {"totals": totals, "units": units, "aspects": by_aspect, "teams": teams, "reopened": reopened}


@dataclass(frozen=True)
class RoundReport:
    code: str
    title: str
    kind: str
    state: str
    seed: str
    tally: dict
    as_of: datetime
    final: bool  # the tally stored at closing, not a live count


def round_report(engine: Engine, campaign: str, code: str, *, now: datetime) -> RoundReport:
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        rnd = load_round(conn, camp.id, code)
        if rnd.state == "closed" and rnd.tally_json:
            final = json.loads(rnd.tally_json)
            # the counts are those of the closing; what became of the reopened items is live
            now_state = dict(conn.execute(select(T.c.number, T.c.state).where(
                T.c.campaign_id == camp.id, T.c.number.in_([x["number"] for x in final["reopened"]]))).all())
            for x in final["reopened"]:
                x["item_state"] = now_state.get(x["number"], x["item_state"])
            return RoundReport(code, rnd.title, rnd.kind, rnd.state, rnd.seed, final, rnd.closed_at, True)
        return RoundReport(code, rnd.title, rnd.kind, rnd.state, rnd.seed, tally(conn, rnd, now=now), now,
                           False)


@dataclass(frozen=True)
class SampleCheck:
    code: str
    seed: str
    mode: str
    units: int
    selected: int
    recorded_digest: str | None
    actual_digest: str
    redrawn_digest: str | None  # None for mode "all" (nothing was drawn)
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def verify_sample(engine: Engine, campaign: str, code: str) -> SampleCheck:
    """Re-draw the sample from the recorded seed and candidates; compare with the
    checks that exist and with the digest recorded (and audited) at the draw."""
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        rnd = load_round(conn, camp.id, code)
        spec = spec_of(rnd)
        sel = spec.selection
        actual: dict[int, set[str]] = {}
        for unit_id, number in conn.execute(select(CK.c.unit_id, T.c.number).join(T, T.c.id == CK.c.clue_id)
                                            .where(CK.c.round_id == rnd.id)):
            actual.setdefault(unit_id, set()).add(number)
        all_numbers = [n for s in actual.values() for n in s]
        actual_digest = digest(all_numbers)
        diffs: list[str] = []
        if rnd.digest is None:
            diffs.append("the round has not been drawn yet")
        elif actual_digest != rnd.digest:
            diffs.append("the checks differ from the items recorded at the draw (digest mismatch)")
        redrawn_digest = None
        if sel.mode == "sample" and rnd.digest is not None:
            codes = dict(conn.execute(select(U.c.id, U.c.code).where(U.c.campaign_id == camp.id)).all())
            redrawn: dict[int, list[str]] = {}
            for ru in conn.execute(select(RU.c.unit_id, RU.c.candidates_json).where(RU.c.round_id == rnd.id)):
                pool = [Candidate(n, ru.unit_id, weight=w) for n, w in json.loads(ru.candidates_json or "[]")]
                redrawn.update(draw(int(rnd.seed), pool, count=sel.count, share=sel.share,
                                    minimum=sel.min_per_unit))
            redrawn_digest = digest(n for v in redrawn.values() for n in v)
            for unit_id in sorted(set(redrawn) | set(actual)):
                want, have = set(redrawn.get(unit_id, [])), actual.get(unit_id, set())
                if want != have:
                    extra, lacking = sorted(have - want), sorted(want - have)
                    diffs.append(f"{codes.get(unit_id, unit_id)}: "
                                 + (f"not drawn but checked {', '.join(extra[:5])}" if extra else "")
                                 + ("; " if extra and lacking else "")
                                 + (f"drawn but not checked {', '.join(lacking[:5])}" if lacking else ""))
        return SampleCheck(code, rnd.seed, sel.mode, len(actual), len(all_numbers), rnd.digest,
                           actual_digest, redrawn_digest, diffs)
