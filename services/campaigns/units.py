"""Use cases on participating units: deliverables and stage advancement."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, exists, func, insert, literal, select

from models.tables import DeliverableRecord, Lapse, Unit
from statemachine.charts.unit_stage import COMPLETED, StageContext, stage_chart
from statemachine.errors import ConflictError, InvalidInput
from statemachine.limits import COLUMNS, clean_text

from services.core.persisted import audit_record
from services.core.uow import unit_of_work
from .load import stages_of
from services.core.directory import actor as lookup_actor, campaign_row, require_acts_for, unit_by_code
from services.core.visibility import seen
from services.core.persisted import PersistedChart, fire_one

__all__ = ["record_deliverable", "advance", "list_units", "UnitStatus", "deliverables_of", "stages_chart"]

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
    attachment = clean_text(attachment.strip(), COLUMNS["deliverables.attachment"], what="attachment")
    with unit_of_work(engine) as uow:
        conn = uow.conn
        camp, u, who = _participant(conn, campaign, unit, actor, "record deliverables")
        keys, stages = _stage_keys(conn, camp.id)
        stage_key = stage or u.stage_key
        if stage_key not in stages:
            raise InvalidInput(f"unknown stage '{stage_key}' (one of {', '.join(keys)})")
        wanted = {d["key"]: d["name"] for d in stages[stage_key].deliverables}
        if key not in wanted:
            raise InvalidInput(f"stage '{stage_key}' has no deliverable '{key}' "
                               f"(expected: {', '.join(wanted) or 'none'})")
        prior = conn.execute(select(D.c.recorded_by, D.c.recorded_at).where(
            D.c.unit_id == u.id, D.c.stage_key == stage_key, D.c.key == key)).first()
        if prior:
            raise ConflictError(f"{u.name}: deliverable '{key}' of stage '{stage_key}' was already "
                                f"recorded by {prior.recorded_by} at {prior.recorded_at:%Y-%m-%d}")
        did = conn.execute(insert(D).values(
            campaign_id=camp.id, unit_id=u.id, stage_key=stage_key, key=key,
            recorded_by=who.username, recorded_at=now, attachment=attachment.strip(),
        ).returning(D.c.id)).scalar_one()
        uow.audit(camp.id, [audit_record(
            at=now, actor=who.username, unit_id=u.id, entity="deliverable", entity_id=did,
            from_state=None, to_state=stage_key, trigger="record_deliverable",
            detail={"key": key, "name": wanted[key], "attachment": attachment.strip()})])
        uow.commit()


def deliverables_of(conn, unit_id: int, stage_key: str) -> set[str]:
    return set(conn.execute(select(D.c.key).where(D.c.unit_id == unit_id,
                                                  D.c.stage_key == stage_key)).scalars())


def stages_chart(stages: dict) -> PersistedChart:
    """A campaign's unit-stage chart as stored: the unit row's stage_key under its version."""
    def deliverables_in(data, source, now) -> object:
        # the set form of the guard: every deliverable the stage asks for is recorded
        keys = [d["key"] for d in stages[source.value].deliverables] if source.value in stages else []
        return and_(*(exists().where(D.c.unit_id == U.c.id, D.c.stage_key == source.value, D.c.key == k)
                      for k in keys)) if keys else literal(True)

    return PersistedChart(chart=stage_chart(tuple(stages)), table=U, entity="unit", unit_column="id",
                          state_column="stage_key", stamped=False,
                          writes=lambda trigger, data, now, actor: {"stage_entered_at": now},
                          row_sql={"deliverables_in": deliverables_in}, plural="units",
                          state_shown="in stage '{}'")


def advance(engine: Engine, campaign: str, unit: str, *, actor: str, now: datetime,
            expected_version: int | None = None) -> str:
    """Move a unit to its next stage; refused while deliverables are missing."""
    with unit_of_work(engine) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        u = unit_by_code(conn, camp.id, unit)
        if not u.participates:
            raise InvalidInput(f"{u.name} does not take part in the campaign's stages")
        who = lookup_actor(conn, camp.id, actor)
        _, stages = _stage_keys(conn, camp.id)
        required = [d["key"] for d in stages[u.stage_key].deliverables] if u.stage_key in stages else []
        ctx = StageContext(required=required, recorded=deliverables_of(conn, u.id, u.stage_key))
        fired = fire_one(uow, stages_chart(stages), u, "advance", actor=who, now=now,
                         campaign_id=camp.id, ctx=ctx, unit=u, label=f"unit {u.code}",
                         what="advance the stage", expected_version=expected_version)
        uow.commit()
        return fired.row.stage_key


def list_units(engine: Engine, campaign: str, *, seen_by=None) -> list[UnitStatus]:
    """`seen_by` (an Actor): only the units that person sees (services/core/visibility.py)."""
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
            .where(U.c.campaign_id == camp.id, *([seen(seen_by, U.c.id)] if seen_by is not None else []))
            .order_by(U.c.path)).all()
    return [UnitStatus(r.code, r.name, r.level, r.parent_code, r.stage_key,
                       stages[r.stage_key].name if r.stage_key in stages else
                       ("已完成" if r.stage_key == COMPLETED else "已退出" if r.stage_key == "withdrawn" else None), r.n or 0, r.version)
            for r in rows]
