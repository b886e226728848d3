"""Loading plans into campaigns, and reading campaigns back."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Mapping

from sqlalchemy import Engine, case, func, insert, select

from models.tables import Campaign, PlanVersion, Stage, Unit, User
from statemachine.limits import REFERENCE, clean_text
from statemachine.charts.unit_stage import stage_deadline
from statemachine.errors import ConflictError
from statemachine.plan import Plan

from services.core import audit
from services.core.persisted import audit_record
from services.core.uow import unit_of_work
from services.core.directory import SYSTEM, campaign_row

__all__ = ["load_plan", "plan_digest", "list_campaigns", "CampaignSummary", "stages_of", "StageRow"]

C, S, U, US, PV = Campaign.__table__, Stage.__table__, Unit.__table__, User.__table__, PlanVersion.__table__


@dataclass(frozen=True)
class CampaignSummary:
    id: int
    code: str
    title: str
    doc_number: str
    issuing_unit: str
    start_date: str
    end_date: str
    units: int
    participants: int


@dataclass(frozen=True)
class StageRow:
    idx: int
    key: str
    name: str
    start_date: object
    end_date: object
    ongoing: bool
    due_at: datetime | None
    deliverables: list[dict]


def load_plan(engine: Engine, plan: Plan, *, source: str, now: datetime, actor: str = SYSTEM,
              notice_templates: Mapping[str, str] | None = None) -> int:
    """Write a validated plan as a new campaign in one transaction; returns its id.
    `notice_templates`: the plan's overrides, checked (services/campaigns/notice_templates.py)."""
    from notifications.documents.overrides import check_overrides

    templates = dict(notice_templates or {})
    # the path is stored as the campaign's plan_file: a folder too deep for the column is
    # one line here, not PostgreSQL's StringDataRightTruncation after the checks passed
    source = clean_text(str(Path(source)), REFERENCE, what="plan file path")
    check_overrides(templates)  # again: a caller may pass texts that never came from a folder
    info = plan.campaign
    with unit_of_work(engine) as uow:
        conn = uow.conn
        if conn.execute(select(C.c.id).where(C.c.code == info.code)).first():
            raise ConflictError(f"campaign '{info.code}' is already loaded; "
                                f"plans are loaded once (history is audited)")
        plan_json = plan.model_dump_json()
        cid = conn.execute(insert(C).values(
            code=info.code, title=info.title, doc_number=info.doc_number,
            issuing_unit=info.issuing_unit, start_date=info.period.start, end_date=info.period.end,
            timezone=info.timezone, sweep_cron=info.sweep_cron,
            plan_json=plan_json, plan_file=source, loaded_at=now,
            notice_templates_json=json.dumps(templates, ensure_ascii=False, sort_keys=True),
            clue_seq=0, version=1,
        ).returning(C.c.id)).scalar_one()
        conn.execute(insert(S), [dict(
            campaign_id=cid, idx=i, key=s.key, name=s.name, start_date=s.start, end_date=s.end,
            ongoing=s.ongoing, due_at=stage_deadline(s).due_at,
            deliverables_json=json.dumps([d.model_dump() for d in s.deliverables], ensure_ascii=False),
        ) for i, s in enumerate(plan.stages)])
        digest = plan_digest(plan_json)
        conn.execute(insert(PV).values(campaign_id=cid, version=1, doc_number=info.doc_number, sha256=digest,
                                       plan_json=plan_json, plan_file=source, loaded_at=now, loaded_by=actor))
        first_stage = plan.stages[0].key
        participants = {u.code for u in plan.participants()}
        ids: dict[str, int] = {}
        paths: dict[str, str] = {}
        pending = list(plan.units)
        while pending:  # parents first; the plan validator rules out cycles
            unit = next(u for u in pending if u.parent is None or u.parent in ids)
            pending.remove(unit)
            joins = unit.code in participants
            uid = conn.execute(insert(U).values(
                campaign_id=cid, code=unit.code, name=unit.name, level=unit.level,
                parent_id=ids.get(unit.parent) if unit.parent else None, path="",
                participates=joins, stage_key=first_stage if joins else None,
                stage_entered_at=now if joins else None,
                liaison_json=json.dumps(unit.liaison.model_dump() if unit.liaison else None,
                                        ensure_ascii=False),
                leader_json=json.dumps(unit.leader.model_dump() if unit.leader else None,
                                       ensure_ascii=False),
                version=1,
            ).returning(U.c.id)).scalar_one()
            ids[unit.code] = uid
            paths[unit.code] = (paths[unit.parent] if unit.parent else "/") + f"{uid}/"
        for code, uid in ids.items():
            conn.execute(U.update().where(U.c.id == uid).values(path=paths[code]))
        if plan.people:
            conn.execute(insert(US), [dict(
                campaign_id=cid, username=p.username, name=p.name, unit_id=ids[p.unit], role=p.role,
                email=p.email, phone=p.phone) for p in plan.people])
        audit.start_chain(conn, cid)
        records = [audit_record(at=now, actor=actor, unit_id=ids[plan.root.code], entity="campaign",
                                    entity_id=cid, from_state=None, to_state="loaded", trigger="load",
                                    detail={"plan": str(source), "doc_number": info.doc_number,
                                            "plan_sha256": digest, "plan_version": 1, **(
                                        # what each notice will say is on the record
                                        {"notice_templates": {n: hashlib.sha256(t.encode()).hexdigest()
                                                              for n, t in sorted(templates.items())}}
                                        if templates else {})})]
        records += [audit_record(at=now, actor=actor, unit_id=ids[code], entity="unit",
                                     entity_id=ids[code], from_state=None, to_state=first_stage,
                                     trigger="enroll") for code in sorted(participants)]
        uow.audit(cid, records)
        uow.commit()
    return cid


def plan_digest(plan_json: str) -> str:
    """The SHA-256 of a plan as stored (plan_versions.sha256): recomputable from the row."""
    return hashlib.sha256(plan_json.encode()).hexdigest()


def campaign_codes(conn) -> list[str]:
    return list(conn.execute(select(C.c.code).order_by(C.c.code)).scalars())


def list_campaigns(engine: Engine) -> list[CampaignSummary]:
    with engine.connect() as conn:
        counts = select(U.c.campaign_id, func.count().label("n"),
                        func.sum(case((U.c.participates, 1), else_=0)).label("p")) \
            .group_by(U.c.campaign_id).subquery()
        rows = conn.execute(select(C, counts.c.n, counts.c.p)
                            .join(counts, counts.c.campaign_id == C.c.id, isouter=True)
                            .order_by(C.c.code)).all()
    return [CampaignSummary(r.id, r.code, r.title, r.doc_number, r.issuing_unit, str(r.start_date),
                            str(r.end_date), r.n or 0, int(r.p or 0)) for r in rows]


def stages_of(conn, campaign_id: int) -> list[StageRow]:
    rows = conn.execute(select(S).where(S.c.campaign_id == campaign_id).order_by(S.c.idx)).all()
    return [StageRow(r.idx, r.key, r.name, r.start_date, r.end_date, r.ongoing, r.due_at,
                     json.loads(r.deliverables_json)) for r in rows]


_PLANS: dict[tuple, Plan] = {}
_PLANS_KEPT = 16


def plan_of(conn, campaign_id: int) -> Plan:
    """The campaign's validated plan. A plan is written at loading and at each revision
    (which bumps the campaign's version); validating a province's plan (thousands of
    units) per transaction of a batch would cost more than the batch's work, so it is
    kept per database, campaign, loading and version."""
    stamp = conn.execute(select(C.c.code, C.c.loaded_at, C.c.version, func.length(C.c.plan_json))
                         .where(C.c.id == campaign_id)).one()
    key = (str(conn.engine.url), campaign_id, *stamp)
    plan = _PLANS.get(key)
    if plan is None:
        plan = Plan.model_validate_json(conn.execute(select(C.c.plan_json).where(C.c.id == campaign_id))
                                        .scalar_one())
        if len(_PLANS) >= _PLANS_KEPT:
            _PLANS.pop(next(iter(_PLANS)))
        _PLANS[key] = plan
    return plan


def campaign_id(engine: Engine, code: str) -> int:
    with engine.connect() as conn:
        return campaign_row(conn, code).id
