"""The items as a person may read them: a clue, a case, a notice, a round, the audit
trail and the chain's verification, the units they may name. Reading follows the
same rule as acting for a unit (services/core/visibility.py: the unit itself, or a
supervisor above it); a round also to the units it inspects and its teams' members
(services/lookback/rounds.py). The refusal is the services' one line.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Engine, select

from models.tables import AuditRecord, Clue, EscalationCase, InspectionRound, InspectionTeam, Notice, Unit
from statemachine.errors import NotFound

from services.clues.lifecycle import ClueView, get_clue
from services.core.audit import VerifyResult, verify
from services.core.directory import Actor, UnitRef, campaign_row, unit_by_code, unit_by_id, unit_ref
from services.core.visibility import require_sees, require_sees_campaign, sees_campaign, seen, seen_records
from services.ladder.cases import CaseView, get_case
from services.lookback.rounds import RoundView, get_round
from services.notices.issue import NoticeView, get_notice
from services.reports.generate import list_generated

__all__ = ["readable_reports", "report_file", "readable_clue", "readable_case", "readable_notice", "readable_round",
           "AuditPage", "audit_trail", "may_verify_chain", "verified_chain", "units_within", "AUDIT_PAGE"]

T, E, N, A, U, RD, TM = (Clue.__table__, EscalationCase.__table__, Notice.__table__, AuditRecord.__table__,
                         Unit.__table__, InspectionRound.__table__, InspectionTeam.__table__)
AUDIT_PAGE = 50


def _unit_of(engine: Engine, campaign: str, table, match, missing: str) -> UnitRef:
    unit_column = table.c.addressee_unit_id if table is N else table.c.unit_id
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        unit_id = conn.execute(select(unit_column).where(table.c.campaign_id == camp.id, match)).scalar()
        if unit_id is None:
            raise NotFound(missing)
        return unit_by_id(conn, unit_id)


def readable_clue(engine: Engine, campaign: str, number: str, who: Actor) -> tuple[ClueView, UnitRef]:
    """The clue with its history, and its unit, if `who` may read it."""
    unit = _unit_of(engine, campaign, T, T.c.number == number, f"unknown clue '{number}'")
    require_sees(who, unit, f"see clue {number}")
    return get_clue(engine, campaign, number), unit


# what a case's page shows besides its CaseView: the words of both sides
CASE_TEXTS = ("required_action", "response", "response_attachment", "interview_at", "interview_minutes",
              "decision_text", "exemption_grounds", "receiving_organ", "follow_up", "resolution_note")


def readable_case(engine: Engine, campaign: str, case_id: int, who: Actor) -> tuple[CaseView, UnitRef, dict]:
    """The case with its notices and history, its unit, and its texts (CASE_TEXTS)."""
    unit = _unit_of(engine, campaign, E, E.c.id == case_id, f"unknown case {case_id}")
    require_sees(who, unit, f"see case {case_id}")
    with engine.connect() as conn:
        texts = dict(conn.execute(select(*(E.c[k] for k in CASE_TEXTS)).where(E.c.id == case_id)).one()._mapping)
    return get_case(engine, campaign, case_id), unit, texts


def readable_notice(engine: Engine, campaign: str, notice_id: int, who: Actor) -> NoticeView:
    """A notice, to its addressee unit and the supervisors above it."""
    unit = _unit_of(engine, campaign, N, N.c.id == notice_id, f"unknown notice {notice_id}")
    require_sees(who, unit, f"see notice {notice_id}")
    return get_notice(engine, campaign, str(notice_id))


def readable_round(engine: Engine, campaign: str, code: str, who: Actor) -> tuple[RoundView, list[str], UnitRef]:
    """A round, to those who see it (services/lookback/rounds.py `sees_round`: its
    organisers, the units it inspects, its teams' members); with the codes of the teams
    `who` is a member of, and the organising unit."""
    view = get_round(engine, campaign, code, seen_by=who)
    mine = [t.code for t in view.teams if who.username in t.members]
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        organiser = unit_by_id(conn, conn.execute(select(RD.c.organiser_unit_id).where(
            RD.c.campaign_id == camp.id, RD.c.code == code)).scalar_one())
    return view, mine, organiser


def _root(conn, campaign_id: int) -> UnitRef:
    return unit_ref(conn.execute(select(U).where(U.c.campaign_id == campaign_id, U.c.parent_id.is_(None))
                                 .order_by(U.c.path).limit(1)).one())


def may_verify_chain(engine: Engine, campaign: str, who: Actor) -> bool:
    """Whether `who` sees the whole campaign (services/core/visibility.py `sees_campaign`)."""
    with engine.connect() as conn:
        return sees_campaign(who, _root(conn, campaign_row(conn, campaign).id))


def verified_chain(engine: Engine, campaign: str, who: Actor) -> VerifyResult:
    """The whole audit chain walked (services/core/audit.py `verify`), for those who see
    the whole campaign: its records count and the first break say something of every
    unit's records, and the walk reads them all."""
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        root = _root(conn, camp.id)
    require_sees_campaign(who, root, "verify the audit chain")
    return verify(engine, camp.id)


@dataclass(frozen=True)
class AuditPage:
    rows: list[dict]
    next_before: int | None  # the `before` of the next (older) page, None on the last


def audit_trail(engine: Engine, campaign: str, who: Actor, *, before: int | None = None,
                limit: int = AUDIT_PAGE) -> AuditPage:
    """The campaign's audit records `who` may read (those of the units they may act for,
    of an account only their own: services/core/visibility.py `seen_records`), newest first,
    `limit` a page; `before` a sequence number: the page of records older than it."""
    reach = seen_records(who, A)
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        q = (select(A.c.seq, A.c.at, A.c.actor, A.c.entity, A.c.entity_id, A.c.from_state, A.c.to_state,
                    A.c.trigger, A.c.reason, A.c.detail, A.c.hash, U.c.name.label("unit_name"))
             .outerjoin(U, U.c.id == A.c.unit_id)
             .where(A.c.campaign_id == camp.id, reach))
        if before is not None:
            q = q.where(A.c.seq < before)
        rows = [dict(r._mapping) for r in conn.execute(q.order_by(A.c.seq.desc()).limit(limit + 1))]
    for r in rows:
        r["detail"] = json.loads(r["detail"]) if r["detail"] else None
    more = len(rows) > limit
    return AuditPage(rows[:limit], rows[limit - 1]["seq"] if more else None)


def units_within(engine: Engine, campaign: str, who: Actor) -> list[UnitRef]:
    """The units `who` sees, and may act for as the unit, in tree order."""
    reach = seen(who, U.c.id)
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        return [unit_ref(r) for r in conn.execute(select(U).where(U.c.campaign_id == camp.id, reach)
                                                  .order_by(U.c.path))]


def readable_reports(engine: Engine, campaign: str, unit: str, who: Actor) -> tuple[UnitRef, list[dict]]:
    """The reports generated for `unit` (a code), if `who` sees that unit."""
    with engine.connect() as conn:
        ref = unit_by_code(conn, campaign_row(conn, campaign).id, unit)
    require_sees(who, ref, f"see the reports of {ref.name}")
    return ref, list_generated(engine, campaign, unit=ref.code)


def report_file(engine: Engine, campaign: str, who: Actor, *, unit: str, kind: str, period: str,
                fmt: str) -> bytes:
    """A generated report's file of format `fmt`, if `who` sees its unit: from the
    store the record names (services/reports/store.py), never from a path a request names."""
    from services.reports import store

    _, reports = readable_reports(engine, campaign, unit, who)
    found = next((r for r in reports if r["kind"] == kind and r["period"] == period), None)
    if found is None:
        raise NotFound(f"no {kind} report for {period} of {unit} (generate it first)")
    if fmt not in found["files"]:
        raise NotFound(f"the {kind} report for {period} has no {fmt} file "
                       f"(it has {', '.join(sorted(found['files']))})")
    with engine.connect() as conn:
        return store.read(conn, campaign_row(conn, campaign).id, found["files"][fmt])
