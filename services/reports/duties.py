"""Reporting duties (报送): what each unit owes when, its submissions, and
which are late or missing (a missing one is a `missed_report` lapse, found by
the sweep — services/ladder/sweep.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select

from models.tables import ReportSubmission, Unit
from statemachine.errors import ConflictError, InvalidInput
from statemachine.limits import COLUMNS, clean_text
from statemachine.reports.duties import Occurrence, all_occurrences, find_occurrence

from services.core.persisted import audit_record
from services.core.uow import unit_of_work
from services.core.visibility import seen
from services.campaigns.load import plan_of
from services.core.directory import actor as lookup_actor, campaign_row, require_acts_for, unit_by_code

__all__ = ["DutyLine", "owed", "submit", "STATUS_LABELS", "owes"]

RS, U = ReportSubmission.__table__, Unit.__table__
STATUS_LABELS = {"submitted": "已报送", "late": "逾期报送", "missing": "未报送",
                 "due_soon": "即将到期", "upcoming": "未到期"}
DUE_SOON = timedelta(days=3)


@dataclass(frozen=True)
class DutyLine:
    unit: str
    unit_name: str
    duty: str
    name: str
    period: str
    due_at: datetime
    status: str
    submitted_at: datetime | None = None
    submitted_by: str | None = None
    attachment: str | None = None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


def owes(unit_row, occ: Occurrence) -> bool:
    """Participants owe `participants` duties; the root (the lead office) owes `lead` ones."""
    return bool(unit_row.participates) if occ.owed_by == "participants" else unit_row.parent_id is None


def _status(occ: Occurrence, sub, as_of: datetime) -> str:
    if sub is not None:
        return "late" if sub.late else "submitted"
    if occ.due_at < as_of:
        return "missing"
    return "due_soon" if occ.due_at - as_of <= DUE_SOON else "upcoming"


def owed(engine: Engine, campaign: str, *, as_of: datetime, unit: str | None = None,
         duty: str | None = None, status: str | None = None, upcoming: int = 1,
         seen_by=None) -> list[DutyLine]:
    """Every report due so far of the units in scope (a unit and those below
    it), with its status, plus the next `upcoming` of each duty."""
    if status is not None and status not in STATUS_LABELS:
        raise InvalidInput(f"unknown status '{status}' (one of {', '.join(STATUS_LABELS)})")
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        plan = plan_of(conn, camp.id)
        if duty is not None and duty not in {d.key for d in plan.reporting}:
            raise InvalidInput(f"unknown reporting duty '{duty}' "
                               f"(one of {', '.join(d.key for d in plan.reporting) or 'none'})")
        q = select(U.c.id, U.c.code, U.c.name, U.c.participates, U.c.parent_id, U.c.path) \
            .where(U.c.campaign_id == camp.id).order_by(U.c.path)
        if unit is not None:
            q = q.where(U.c.path.startswith(unit_by_code(conn, camp.id, unit).path))
        if seen_by is not None:  # an Actor: only the units that person sees
            q = q.where(seen(seen_by, U.c.id))
        units = conn.execute(q).all()
        subs = {(r.unit_id, r.duty_key, r.period): r for r in conn.execute(
            select(RS).where(RS.c.campaign_id == camp.id))}
    wanted: list[Occurrence] = []
    ahead: dict[str, int] = {}
    for o in all_occurrences(plan):
        if duty is not None and o.duty != duty:
            continue
        if o.due_at >= as_of:
            ahead[o.duty] = ahead.get(o.duty, 0) + 1
            if ahead[o.duty] > upcoming:
                continue
        wanted.append(o)
    lines = []
    for o in wanted:
        for u in units:
            if not owes(u, o):
                continue
            sub = subs.get((u.id, o.duty, o.period))
            st = _status(o, sub, as_of)
            if status is None or st == status:
                lines.append(DutyLine(u.code, u.name, o.duty, o.name, o.period, o.due_at, st,
                                      sub.submitted_at if sub else None,
                                      sub.submitted_by if sub else None,
                                      sub.attachment if sub else None))
    return lines


def submit(engine: Engine, campaign: str, *, unit: str, duty: str, attachment: str, actor: str,
           now: datetime, period: str | None = None, note: str | None = None) -> DutyLine:
    """Record a unit's report. Without a period: the latest one already due if it
    is still missing (a late report), else the next one due."""
    if not attachment or not attachment.strip():
        raise InvalidInput("an attachment reference is required (--attachment)")
    attachment = clean_text(attachment.strip(), COLUMNS["report_submissions.attachment"], what="attachment")
    note = clean_text(note, COLUMNS["report_submissions.note"], what="note")
    period = clean_text(period, COLUMNS["report_submissions.period"], what="period")
    with unit_of_work(engine) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        plan = plan_of(conn, camp.id)
        u = unit_by_code(conn, camp.id, unit)
        urow = conn.execute(select(U.c.participates, U.c.parent_id).where(U.c.id == u.id)).one()
        who = lookup_actor(conn, camp.id, actor)
        require_acts_for(who, u, "submit reports")
        done = {(r.period) for r in conn.execute(
            select(RS.c.period).where(RS.c.unit_id == u.id, RS.c.duty_key == duty))}
        if period is None:
            occ = find_occurrence(plan, duty, None, at=now)
            past = [o for o in all_occurrences(plan) if o.duty == duty and o.due_at < now]
            if past and past[-1].period not in done:
                occ = past[-1]
        else:
            occ = find_occurrence(plan, duty, period)
        if not owes(urow, occ):
            whom = "the participating units" if occ.owed_by == "participants" else "the lead office"
            raise InvalidInput(f"{u.name} does not owe '{duty}': it is owed by {whom}")
        if occ.period in done:
            prev = conn.execute(select(RS.c.submitted_by, RS.c.submitted_at).where(
                RS.c.unit_id == u.id, RS.c.duty_key == duty, RS.c.period == occ.period)).one()
            raise ConflictError(f"{u.name}: '{duty}' for {occ.period} was already submitted by "
                                f"{prev.submitted_by} at {prev.submitted_at:%Y-%m-%d %H:%M}")
        late = now > occ.due_at
        sid = conn.execute(insert(RS).values(
            campaign_id=camp.id, unit_id=u.id, duty_key=duty, period=occ.period, due_at=occ.due_at,
            submitted_at=now, submitted_by=who.username, attachment=attachment.strip(),
            note=note, late=late).returning(RS.c.id)).scalar_one()
        uow.audit(camp.id, [audit_record(
            at=now, actor=who.username, unit_id=u.id, entity="report", entity_id=sid,
            from_state=None, to_state="late" if late else "submitted", trigger="submit_report",
            detail={"duty": duty, "period": occ.period, "attachment": attachment.strip(),
                    "due_at": occ.due_at.isoformat()})])
        uow.commit()
    return DutyLine(u.code, u.name, duty, occ.name, occ.period, occ.due_at,
                    "late" if late else "submitted", now, who.username, attachment.strip())
