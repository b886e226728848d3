"""Evidence files (可验证成果) of a clue, a 督办 case or a report submission: attach,
list, open.

    owner kind   ref                  may attach (Who.unit)          while
    clue         its number           the unit, or a supervisor      the clue is open
    case         its id               above it (statemachine/        the case is open
    submission   its id               authority.py)                  always (it is the report)

Seeing an owner's files (listing, downloading) takes the same relation as
acting for its unit: its own people and supervisors above (docs/domain.md
§3.3); anyone else is refused (403), nothing said about the file.

An attached file is checked by its content (kinds.py), stored by its SHA-256
(store.py), and recorded twice in one unit of work: an `evidence_files` row
(whose it is, its cleaned name, size and digest) and an `attach_evidence`
record in the campaign's audit chain carrying the same digest. So a file
changed in the store, or a row pointed at another file, is named by
`rectify audit verify` (integrity.py). The same bytes attached twice to the
same owner are one file (the first row is returned, nothing is recorded again).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from models.tables import Clue, EscalationCase, EvidenceFile, ReportSubmission, Unit
from services.core.directory import Actor, UnitRef, actor as lookup_actor, campaign_row, require, unit_ref
from services.core.input_files import size_text
from services.core.persisted import audit_record
from services.core.refs import as_id
from services.core.uow import Db, unit_of_work
from statemachine.authority import Who
from statemachine.charts.clue import OPEN_STATES, LABELS as CLUE_LABELS, ClueState
from statemachine.charts.ladder import CASE_LABELS, OPEN_CASE_STATES, CaseState
from statemachine.errors import ConflictError, InvalidInput, NotFound, TooLarge

from .kinds import sniff
from .names import clean_name
from .store import EvidenceStore

__all__ = ["OWNER_KINDS", "Owner", "EvidenceView", "Attached", "attach", "list_evidence", "open_evidence",
           "submission_id", "ATTACH_TRIGGER"]

EF, T, E, RS, U = (EvidenceFile.__table__, Clue.__table__, EscalationCase.__table__,
                   ReportSubmission.__table__, Unit.__table__)
OWNER_KINDS = ("clue", "case", "submission")
ATTACH_TRIGGER = "attach_evidence"
# the audit chain's entity of each owner kind: a submission's records are its "report" ones
# (services/reports/duties.py), so its files show in the same history
ENTITIES = {"clue": "clue", "case": "case", "submission": "report"}
_OPEN_CLUE = {s.value for s in OPEN_STATES}
_OPEN_CASE = {s.value for s in OPEN_CASE_STATES}


@dataclass(frozen=True)
class Owner:
    kind: str
    id: int
    unit: UnitRef
    label: str         # how messages name it: "clue XZ-2023-0001", "case 7", "report submission 3"
    open_: bool
    state_text: str    # why it no longer takes files, when it does not


@dataclass(frozen=True)
class EvidenceView:
    id: int
    owner_kind: str
    owner_id: int
    owner: str
    unit: str
    name: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


@dataclass(frozen=True)
class Attached:
    evidence: EvidenceView
    created: bool      # False: these bytes were attached to this owner before


def _owner_row(conn: Connection, campaign_id: int, kind: str, ref: str):
    if kind == "clue":
        row = conn.execute(select(T.c.id.label("owner_id"), T.c.number, T.c.state.label("owner_state"), U)
                           .join(U, U.c.id == T.c.unit_id)
                           .where(T.c.campaign_id == campaign_id, T.c.number == str(ref).strip())).first()
        if row is None:
            raise NotFound(f"unknown clue '{ref}' (see 'rectify clue list')")
        return row, f"clue {row.number}", row.owner_state in _OPEN_CLUE, \
            f"it is {row.owner_state} {CLUE_LABELS[ClueState(row.owner_state)]}"
    table, what = {"case": (E, "case"), "submission": (RS, "report submission")}[kind]
    key = as_id(str(ref))
    row = None if key is None else conn.execute(
        select(table.c.id.label("owner_id"), *([table.c.state.label("owner_state")] if kind == "case" else []), U)
        .join(U, U.c.id == table.c.unit_id)
        .where(table.c.campaign_id == campaign_id, table.c.id == key)).first()
    if row is None:
        hint = "'rectify case list'" if kind == "case" else "'rectify duty owed'"
        raise NotFound(f"unknown {what} '{ref}' (see {hint})")
    if kind == "case":
        return row, f"case {row.owner_id}", row.owner_state in _OPEN_CASE, \
            f"it is {row.owner_state} {CASE_LABELS[CaseState(row.owner_state)]}"
    return row, f"report submission {row.owner_id}", True, ""


def _owner(conn: Connection, campaign_id: int, kind: str, ref: str) -> Owner:
    if kind not in OWNER_KINDS:
        raise InvalidInput(f"evidence belongs to a {', a '.join(OWNER_KINDS)}, not a '{kind}'")
    row, label, open_, state_text = _owner_row(conn, campaign_id, kind, ref)
    return Owner(kind, row.owner_id, unit_ref(row), label, open_, state_text)


def _may_see(who: Actor, owner: Owner) -> None:
    require(who, Who.unit, owner.unit, f"see the evidence of {owner.label}")


def _view(r, owner_label: str, unit_name: str) -> EvidenceView:
    return EvidenceView(r.id, r.owner_kind, r.owner_id, owner_label, unit_name, r.name, r.media_type, r.size,
                        r.sha256, r.uploaded_by, r.uploaded_at)


def attach(db: Db, campaign: str, *, owner_kind: str, ref: str, data: bytes, name: str | None, actor: str,
           now: datetime, store: EvidenceStore, max_bytes: int) -> Attached:
    """Check, store and record one file of an owner (see the module's docstring)."""
    if len(data) > max_bytes:
        raise TooLarge(f"the file is {size_text(len(data))}, larger than the {size_text(max_bytes)} "
                       f"an evidence file may be (RECTIFY_EVIDENCE_MAX_MB)")
    with unit_of_work(db) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        owner = _owner(conn, camp.id, owner_kind, ref)
        who = lookup_actor(conn, camp.id, actor)
        require(who, Who.unit, owner.unit, f"attach evidence to {owner.label}")
        if not owner.open_:
            raise ConflictError(f"{owner.label} takes no more evidence: {owner.state_text}")
        kind = sniff(data)  # after the permission: a stranger learns nothing of the checks
        shown = clean_name(name, kind)
        sha = store.put(data)
        same = (EF.c.campaign_id == camp.id, EF.c.owner_kind == owner.kind, EF.c.owner_id == owner.id,
                EF.c.sha256 == sha)
        ins = (postgresql.insert(EF) if uow.dialect == "postgresql" else sqlite.insert(EF)).values(
            campaign_id=camp.id, owner_kind=owner.kind, owner_id=owner.id, unit_id=owner.unit.id, name=shown,
            media_type=kind.media_type, size=len(data), sha256=sha, uploaded_by=who.username, uploaded_at=now)
        new_id = conn.execute(ins.on_conflict_do_nothing(
            index_elements=["campaign_id", "owner_kind", "owner_id", "sha256"]).returning(EF.c.id)).scalar()
        row = conn.execute(select(EF).where(*same)).one()
        if new_id is not None:
            uow.audit(camp.id, [audit_record(
                at=now, actor=who.username, unit_id=owner.unit.id, entity=ENTITIES[owner.kind],
                entity_id=owner.id, from_state=None, to_state=None, trigger=ATTACH_TRIGGER,
                detail={"evidence": row.id, "owner": owner.kind, "sha256": sha, "size": len(data),
                        "media_type": kind.media_type, "name": shown})])
        uow.commit()
    return Attached(_view(row, owner.label, owner.unit.name), new_id is not None)


def list_evidence(engine: Engine, campaign: str, *, owner_kind: str, ref: str, actor: str) -> list[EvidenceView]:
    """An owner's files, oldest first, for someone who may see them."""
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        owner = _owner(conn, camp.id, owner_kind, ref)
        _may_see(lookup_actor(conn, camp.id, actor), owner)
        rows = conn.execute(select(EF).where(EF.c.campaign_id == camp.id, EF.c.owner_kind == owner.kind,
                                             EF.c.owner_id == owner.id).order_by(EF.c.id)).all()
    return [_view(r, owner.label, owner.unit.name) for r in rows]


def open_evidence(engine: Engine, campaign: str, evidence_id: int | str, *, actor: str,
                  store: EvidenceStore) -> tuple[EvidenceView, bytes]:
    """One file and its bytes, checked against its digest, for someone who may see
    its owner; NotFound for an id of no file of this campaign."""
    key = as_id(str(evidence_id))
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        row = None if key is None else conn.execute(
            select(EF).where(EF.c.campaign_id == camp.id, EF.c.id == key)).first()
        if row is None:
            raise NotFound(f"unknown evidence file '{evidence_id}'")
        ref = str(row.owner_id)
        if row.owner_kind == "clue":
            ref = conn.execute(select(T.c.number).where(T.c.id == row.owner_id)).scalar_one()
        owner = _owner(conn, camp.id, row.owner_kind, ref)
        _may_see(lookup_actor(conn, camp.id, actor), owner)
    view = _view(row, owner.label, owner.unit.name)
    return view, store.read(row.sha256, what=f"evidence file {row.id} of {owner.label}")


def submission_id(engine: Engine, campaign: str, *, unit: str, duty: str, period: str) -> int:
    """The id of a unit's report for a duty and period (what `duty attach` names)."""
    from services.core.directory import unit_by_code

    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        u = unit_by_code(conn, camp.id, unit)
        sid = conn.execute(select(RS.c.id).where(RS.c.campaign_id == camp.id, RS.c.unit_id == u.id,
                                                 RS.c.duty_key == duty, RS.c.period == period)).scalar()
    if sid is None:
        raise NotFound(f"{u.name} has submitted no '{duty}' for {period} (see 'rectify duty owed')")
    return sid
