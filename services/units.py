"""Use cases on participating units: deliverables and stage advancement."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, insert, select, update

from models.db import transaction
from models.tables import DeliverableRecord, Lapse, Unit
from statemachine.errors import ConflictError, InvalidInput
from statemachine.table import Subject
from statemachine.unit_stage import COMPLETED, StageContext, stage_chart

from . import audit
from .campaigns import stages_of
from .directory import actor as lookup_actor, campaign_row, require_acts_for, unit_by_code

__all__ = ["record_deliverable", "advance", "list_units", "UnitStatus", "deliverables_of"]

U, D, L = Unit.__table__, DeliverableRecord.__table__, Lapse.__table__


@dataclass(frozen=True)
class UnitStatus:
    code: str
    name: str
    level: str
    parent: str | None
    stage_key: str | None
    stage_name: str | None
    lapses: int
    version: int


def _stage_keys(conn, campaign_id: int) -> tuple[tuple[str, ...], dict]:
    stages = stages_of(conn, campaign_id)
    return tuple(s.key for s in stages), {s.key: s for s in stages}


def _participant(conn, campaign: str, unit: str, actor: str, what: str):
    """The campaign, the participating unit, and an actor allowed to act for it."""
    camp = campaign_row(conn, campaign)
    u = unit_by_code(conn, camp.id, unit)
    if not u.participates:
        raise InvalidInput(f"{u.name} does not take part in the campaign's stages")
    who = lookup_actor(conn, camp.id, actor)
    require_acts_for(who, u, what)
    return camp, u, who


def record_deliverable(engine: Engine, campaign: str, unit: str, key: str, *, attachment: str,
                       actor: str, now: datetime, stage: str | None = None) -> None:
    if not attachment or not attachment.strip():
        raise InvalidInput("an attachment reference is required (--attachment)")
    with transaction(engine) as conn:
        camp, u, who = _participant(conn, campaign, unit, actor, "record deliverables")
        keys, stages = _stage_keys(conn, camp.id)
        stage_key = stage or u.stage_key
        if stage_key not in stages:
            raise InvalidInput(f"unknown stage '{stage_key}' (one of {', '.join(keys)})")
        wanted = {d["key"]: d["name"] for d in stages[stage_key].deliverables}
        if key not in wanted:
            raise InvalidInput(f"stage '{stage_key}' has no deliverable '{key}' "
                               f"(expected: {', '.join(wanted) or 'none'})")
        exists = conn.execute(select(D.c.recorded_by, D.c.recorded_at).where(
            D.c.unit_id == u.id, D.c.stage_key == stage_key, D.c.key == key)).first()
        if exists:
            raise ConflictError(f"{u.name}: deliverable '{key}' of stage '{stage_key}' was already "
                                f"recorded by {exists.recorded_by} at {exists.recorded_at:%Y-%m-%d}")
        did = conn.execute(insert(D).values(
            campaign_id=camp.id, unit_id=u.id, stage_key=stage_key, key=key,
            recorded_by=who.username, recorded_at=now, attachment=attachment.strip(),
        ).returning(D.c.id)).scalar_one()
        audit.append(conn, camp.id, [audit.now_record(
            at=now, actor=who.username, unit_id=u.id, entity="deliverable", entity_id=did,
            from_state=None, to_state=stage_key, trigger="record_deliverable",
            detail={"key": key, "name": wanted[key], "attachment": attachment.strip()})])


def deliverables_of(conn, unit_id: int, stage_key: str) -> set[str]:
    return set(conn.execute(select(D.c.key).where(D.c.unit_id == unit_id,
                                                  D.c.stage_key == stage_key)).scalars())


def advance(engine: Engine, campaign: str, unit: str, *, actor: str, now: datetime,
            expected_version: int | None = None) -> str:
    """Move a unit to its next stage; refused while deliverables are missing."""
    with transaction(engine) as conn:
        camp, u, who = _participant(conn, campaign, unit, actor, "advance the stage")
        if expected_version is not None and expected_version != u.version:
            raise ConflictError(f"unit {u.code} changed since version {expected_version}: now version "
                                f"{u.version} in stage '{u.stage_key}'; reload and retry")
        keys, stages = _stage_keys(conn, camp.id)
        required = [d["key"] for d in stages[u.stage_key].deliverables] \
            if u.stage_key in stages else []
        ctx = StageContext(required=required, recorded=deliverables_of(conn, u.id, u.stage_key))
        subject = Subject(state=u.stage_key, ctx=ctx, entity=f"{u.name} ({u.code})")
        t = stage_chart(keys).fire(subject, "advance")
        dest = t.dest.value
        done = conn.execute(update(U).where(U.c.id == u.id, U.c.version == u.version).values(
            stage_key=dest, stage_entered_at=now, version=U.c.version + 1))
        if done.rowcount != 1:
            raise ConflictError(f"unit {u.code} was changed by someone else meanwhile; reload and retry")
        audit.append(conn, camp.id, [audit.now_record(
            at=now, actor=who.username, unit_id=u.id, entity="unit", entity_id=u.id,
            from_state=u.stage_key, to_state=dest, trigger="advance")])
        return dest


def list_units(engine: Engine, campaign: str) -> list[UnitStatus]:
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        _, stages = _stage_keys(conn, camp.id)
        lapses = select(L.c.unit_id, func.count().label("n")).where(L.c.campaign_id == camp.id) \
            .group_by(L.c.unit_id).subquery()
        parent = U.alias("p")
        rows = conn.execute(
            select(U, lapses.c.n, parent.c.code.label("parent_code"))
            .join(lapses, lapses.c.unit_id == U.c.id, isouter=True)
            .join(parent, parent.c.id == U.c.parent_id, isouter=True)
            .where(U.c.campaign_id == camp.id).order_by(U.c.path)).all()
    return [UnitStatus(r.code, r.name, r.level, r.parent_code, r.stage_key,
                       stages[r.stage_key].name if r.stage_key in stages else
                       ("已完成" if r.stage_key == COMPLETED else None), r.n or 0, r.version)
            for r in rows]
