"""Closing a round: stop checking, feed the findings back, tally.

1. `begin_close`: open → closing; checks never made become `missed`.
2. `reopen_found`: every relapsed or faked item is reopened (closed →
   rectifying) with the check's new deadline, linked to the check in the
   item's history; once per check (`applied_at`).
3. `escalate_faked`: each faked check is a `faked` lapse of the owning unit
   (natural key `faked:<check>`), and the ladder proposes 追责问责 for it
   (one open case per unit and cause, as for every other lapse).
4. `finish_close`: the tally is stored with the round; closing → closed.

Each step is its own transaction and a no-op the second time, so a flow
run that crashed half-way is simply run again.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, String, cast, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from models.tables import Clue, InspectionCheck, Lapse
from statemachine.errors import ConflictError, GuardRefused, InvalidTransition
from statemachine.time.calendar import WorkingCalendar, local_date

from services.core.uow import unit_of_work
from services.clues.chart import CLUES, ClueInput
from services.clues.lifecycle import deadline_limit_on
from services.core.directory import SYSTEM, actor as lookup_actor, campaign_row, unit_by_id
from services.ladder.automatic import LadderLine, propose_for_lapses
from .findings import tally
from services.core.persisted import fire_one, fire_set
from .charts import CHECKS
from .rounds import fire_round, load_round, organised_round, require_organiser

__all__ = ["begin_close", "reopen_found", "escalate_faked", "finish_close", "ReopenLine", "CHUNK"]

T, CK, L = Clue.__table__, InspectionCheck.__table__, Lapse.__table__
CHUNK = 200


def begin_close(engine: Engine, campaign: str, code: str, *, actor: str, now: datetime) -> int:
    """Returns how many pending checks were marked missed (0 on a re-run)."""
    with unit_of_work(engine) as uow:
        conn = uow.conn
        camp, rnd, who = organised_round(conn, campaign, code, actor, "close")
        if rnd.state in ("closing", "closed"):
            return 0
        fire_round(uow, rnd, "begin_close", actor=who, now=now)
        missed = fire_set(uow, CHECKS, "miss", actor=who, now=now, campaign_id=camp.id,
                          where=[CK.c.round_id == rnd.id],
                          relation=who.relation_to(organiser := unit_by_id(conn, rnd.organiser_unit_id)),
                          unit=organiser,
                          what=f"close round {code}", reason="回头看结束时仍未核查", detail={"round": code})
        uow.commit()
        return len(missed)


@dataclass(frozen=True)
class ReopenLine:
    number: str
    unit_id: int
    outcome: str
    note: str  # reopened | already <state>


def _closing(conn, campaign: str, code: str):
    camp = campaign_row(conn, campaign)
    rnd = load_round(conn, camp.id, code)
    return camp, rnd


def reopen_found(engine: Engine, campaign: str, code: str, *, now: datetime,
                 calendar: WorkingCalendar | None = None) -> list[ReopenLine]:
    """Reopen the items whose checks found a relapse or faked results, CHUNK per transaction.
    Each new deadline was set by its check, and is held to the plan's limit on the check's day."""
    lines: list[ReopenLine] = []
    while True:
        with unit_of_work(engine) as uow:
            conn = uow.conn
            camp, rnd = _closing(conn, campaign, code)
            if rnd.state != "closing":
                return lines
            q = (select(CK.c.id, CK.c.state.label("outcome"), CK.c.findings, CK.c.new_deadline,
                        CK.c.checked_on, CK.c.version, T.c.id.label("clue_id"), T.c.number, T.c.state, T.c.version.label("cv"),
                        T.c.unit_id, T.c.received_at)
                 .join(T, T.c.id == CK.c.clue_id)
                 .where(CK.c.round_id == rnd.id, CK.c.state.in_(("relapsed", "faked")),
                        CK.c.applied_at.is_(None), CK.c.new_deadline.is_not(None))
                 .order_by(CK.c.id).limit(CHUNK))
            if conn.dialect.name == "postgresql":
                q = q.with_for_update(of=CK, skip_locked=True)
            rows = conn.execute(q).all()
            if not rows:
                return lines
            for r in rows:
                label = "问题反弹" if r.outcome == "relapsed" else "弄虚作假"
                data = ClueInput(reason=f"{rnd.title}核查发现{label}：{r.findings}", deadline=r.new_deadline)
                item = _ClueRow(r.clue_id, r.state, r.cv, r.unit_id)
                try:
                    with uow.item():
                        fire_one(uow, CLUES, item, "reopen", actor=None, now=now, campaign_id=camp.id,
                                 ctx=data.context(actor=SYSTEM, actor_unit=None, owner_unit=r.unit_id,
                                                  row_owner=None, as_of=now, limit=deadline_limit_on(
                                                      conn, camp.id, r.checked_on, calendar),
                                                  row_received=local_date(r.received_at)),
                                 data=data, label=r.number, reason=data.reason,
                                 detail={"round": code, "check": r.id, "outcome": r.outcome,
                                         "deadline": r.new_deadline.isoformat()})
                    note = "reopened"
                except (InvalidTransition, GuardRefused, ConflictError):
                    # reopened by hand meanwhile, transferred, or changed under us: its state says
                    now_state = conn.execute(select(T.c.state).where(T.c.id == r.clue_id)).scalar_one()
                    note = f"already {now_state}"
                conn.execute(update(CK).where(CK.c.id == r.id).values(
                    applied_at=now, applied_note=note, version=CK.c.version + 1))
                lines.append(ReopenLine(r.number, r.unit_id, r.outcome, note))
            uow.commit()


@dataclass(frozen=True)
class _ClueRow:
    """What the persisted transition reads of a clue joined to its check."""

    id: int
    state: str
    version: int
    unit_id: int


def _insert(conn, table):
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


def escalate_faked(engine: Engine, campaign: str, code: str, *, now: datetime,
                   calendar: WorkingCalendar) -> list[LadderLine]:
    """Faked results become `faked` lapses, and the ladder proposes 追责问责 for them."""
    with unit_of_work(engine) as uow:
        conn = uow.conn
        camp, rnd = _closing(conn, campaign, code)
        if rnd.state != "closing":
            return []
        found = (select(literal(camp.id), CK.c.unit_id, CK.c.clue_id, literal("faked"),
                        literal("faked:") + cast(CK.c.id, String), T.c.number,
                        CK.c.recorded_at, literal(now, L.c.detected_at.type), literal(f"round:{code}"))
                 .join(T, T.c.id == CK.c.clue_id)
                 .where(CK.c.round_id == rnd.id, CK.c.state == "faked"))
        conn.execute(_insert(conn, L).from_select(
            ["campaign_id", "unit_id", "clue_id", "kind", "key", "subject", "due_at", "detected_at", "run_key"],
            found).on_conflict_do_nothing(index_elements=["campaign_id", "key"]))
        uow.commit()
    return propose_for_lapses(engine, campaign, now=now, calendar=calendar, causes=("faked",))


def finish_close(engine: Engine, campaign: str, code: str, *, actor: str, now: datetime) -> dict:
    """Store the tally and close; returns the tally (the stored one on a re-run)."""
    with unit_of_work(engine) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        rnd = load_round(conn, camp.id, code, lock=True)
        if rnd.state == "closed":
            return json.loads(rnd.tally_json or "{}")
        who = lookup_actor(conn, camp.id, actor)
        require_organiser(who, unit_by_id(conn, rnd.organiser_unit_id), f"close round {code}")
        result = tally(conn, rnd, now=now)
        fire_round(uow, rnd, "close", actor=who, now=now, closed_at=now,
                   tally_json=json.dumps(result, ensure_ascii=False),
                   detail={k: v for k, v in result["totals"].items()})
        uow.commit()
        return result
