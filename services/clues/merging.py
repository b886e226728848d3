"""合并: a duplicate item merged into the one kept (statemachine/charts/merge.py for the kept
item's rules, the clue chart's `merge` for the duplicate's). The duplicate's sources move to
the kept item, it ends `merged` with a pointer to it, and its clock owes nothing more: a
waiting 延期 request is refused, a 挂账 spell ends, and the sweep raises no lapse of a merged
item (only received, verifying and rectifying items are overdue). Both items' units must be
below the supervisor who merges. When the kept item is already 办结, every reporter of every
source hears the outcome now (services/clues/closing.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from models.tables import Clue, ClueSource, ClueSuspension
from statemachine.authority import Who, refusal
from statemachine.charts.extension import ExtensionContext
from statemachine.charts.merge import Kept, merge_refusal
from statemachine.errors import GuardRefused, NotFound, PermissionDenied
from statemachine.limits import COLUMNS, clean_text, shown
from statemachine.time.calendar import WorkingCalendar, local_date

from services.core.directory import actor as lookup_actor, campaign_row, unit_by_id
from services.core.persisted import audit_record, fire_one
from services.core.uow import Db, unit_of_work
from .chart import CLUES, ClueInput
from .closing import after_closing
from .rows import clue_row
from .extensions import EXTENSIONS, _Decision, _waiting

__all__ = ["MergeView", "merge"]

T, CS, SP = Clue.__table__, ClueSource.__table__, ClueSuspension.__table__


@dataclass(frozen=True)
class MergeView:
    number: str
    into: str
    state: str
    sources_moved: int
    told: list[str]  # the reporters told the outcome now (masked numbers)


def _kept(conn, campaign_id: int, number: str):
    row = conn.execute(select(T).where(T.c.campaign_id == campaign_id, T.c.number == number)).first()
    if row is not None:
        return row
    # another campaign's item of that number: refused as such, not as unknown
    row = conn.execute(select(T).where(T.c.number == number).order_by(T.c.id).limit(1)).first()
    if row is None:
        raise NotFound(f"--into: unknown clue {shown(number)} (see 'rectify clue list')")
    return row


def merge(db: Db, campaign: str, number: str, *, into: str, reason: str | None, actor: str, now: datetime,
          calendar: WorkingCalendar | None = None, expected_version: int | None = None) -> MergeView:
    """Merge item `number` (the duplicate) into item `into` (kept), in one unit of work."""
    reason = clean_text(reason, COLUMNS["clues.reason"], what="reason")
    with unit_of_work(db) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        who = lookup_actor(conn, camp.id, actor)
        dup = clue_row(conn, camp.id, number, expected_version=expected_version, seen_by=who)
        keep = _kept(conn, camp.id, into)
        dup_unit, keep_unit = unit_by_id(conn, dup.unit_id), unit_by_id(conn, keep.unit_id)
        if keep.campaign_id == camp.id:  # the kept item's unit answers to the merger too
            why = refusal(Who.supervisor, who.relation_to(keep_unit), actor=who.label, unit_name=keep_unit.name,
                          what=f"merge items into {keep.number}")
            if why:
                raise PermissionDenied(why)
        keep_into = (conn.execute(select(T.c.number).where(T.c.id == keep.merged_into_id)).scalar()
                     if keep.merged_into_id else None)
        rule = Kept(dup_id=dup.id, dup_campaign_id=dup.campaign_id, keep_id=keep.id,
                    keep_campaign_id=keep.campaign_id, keep_number=keep.number, keep_state=keep.state,
                    keep_merged_into=keep_into)

        def kept_may_take_it() -> None:
            why = merge_refusal(rule)
            if why:
                raise GuardRefused(entity=f"clue {number}", trigger="merge", guard="may_merge_into", reason=why)

        data = ClueInput(reason=reason)
        ctx = data.context(actor=who.username, actor_unit=who.unit.id, owner_unit=dup.unit_id, row_owner=dup.owner,
                           as_of=now, row_received=local_date(dup.received_at))
        ctx.merge_into = keep.number
        # the duplicate's waiting 延期 request is answered first: its deadline stops with it
        waiting = _waiting(conn, dup.id)
        fired = fire_one(uow, CLUES, dup, "merge", actor=who, now=now, campaign_id=camp.id, ctx=ctx, data=data,
                         unit=dup_unit, label=f"clue {number}", what="merge (合并) clues", reason=reason,
                         values={"merged_into_id": keep.id}, check=kept_may_take_it,
                         detail={"into": keep.number})
        if waiting is not None:
            fire_one(uow, EXTENSIONS, waiting, "refuse", actor=who, now=now, campaign_id=camp.id,
                     data=_Decision(None, f"合并至 {keep.number}"), unit=dup_unit,
                     ctx=ExtensionContext(reason=f"合并至 {keep.number}"), label=f"clue {number}'s extension request",
                     what="decide extensions (延期) of clues", reason=f"合并至 {keep.number}",
                     detail={"number": number, "asked": waiting.asked.isoformat(), "granted": None})
        conn.execute(update(SP).where(SP.c.clue_id == dup.id, SP.c.ended_at.is_(None))
                     .values(ended_at=now, ended_by=who.username, working_days=0))
        moved = conn.execute(select(func.count()).select_from(CS).where(CS.c.clue_id == dup.id)).scalar_one()
        conn.execute(update(CS).where(CS.c.clue_id == dup.id)
                     .values(clue_id=keep.id, merged_from_id=func.coalesce(CS.c.merged_from_id, dup.id)))
        # items merged into the duplicate before now point at the kept one: no chains
        conn.execute(update(T).where(T.c.merged_into_id == dup.id).values(merged_into_id=keep.id))
        told: list[str] = []
        if keep.state == "closed":
            # told here, by the close's own rules: the duplicate's reporters had heard nothing
            told = _tell(conn, camp.id, keep, now, calendar)
        uow.audit(camp.id, [audit_record(
            at=now, actor=who.username, unit_id=keep.unit_id, entity="clue", entity_id=keep.id,
            from_state=keep.state, to_state=keep.state, trigger="merged_in", reason=reason,
            detail={"from": number, "sources": moved} | ({"told": told} if told else {}))])
        uow.commit()
        return MergeView(number, keep.number, fired.row.state, moved, told)


def _tell(conn, campaign_id: int, keep, now: datetime, calendar: WorkingCalendar | None) -> list[str]:
    trigger = "approve" if keep.resolution == "approved" else "dismiss"
    return after_closing(conn, campaign_id=campaign_id, trigger=trigger, clue_ids=[keep.id], now=now,
                         calendar=calendar)
