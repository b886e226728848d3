"""What each clue trigger writes besides the state: shared by the single and
the bulk path so that both leave identical rows."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, func, literal

from models.tables import Clue
from statemachine.calendar import end_of_day
from statemachine.clue import ClueContext

__all__ = ["ClueInput", "effects", "row_guard_sql"]

T = Clue.__table__


@dataclass(frozen=True)
class ClueInput:
    """What an actor may supply with a trigger (CLI flags, API body fields)."""

    reason: str | None = None
    measures: str | None = None
    deadline: date | None = None
    owner: str | None = None
    evidence: str | None = None
    stage_result: str | None = None
    long_term_measure: str | None = None
    result_form: str | None = None

    def context(self, *, actor: str, actor_unit: int, owner_unit: int | None,
                row_owner: str | None) -> ClueContext:
        return ClueContext(actor=actor, actor_unit=actor_unit, owner_unit=owner_unit,
                           owner=self.owner or row_owner, measures=self.measures,
                           deadline=self.deadline, reason=self.reason, evidence=self.evidence,
                           stage_result=self.stage_result, long_term_measure=self.long_term_measure)


def effects(trigger: str, data: ClueInput, *, now: datetime, actor: str) -> dict:
    """Column values written by `trigger` (the state itself is set by the caller)."""
    v: dict = {"updated_at": now, "updated_by": actor}
    if data.reason:
        v["reason"] = data.reason
    if trigger == "substantiate":
        v.update(measures=data.measures, deadline=data.deadline, deadline_at=end_of_day(data.deadline))
        if data.owner:
            v["owner"] = data.owner
        if data.result_form:
            v["result_form"] = data.result_form
    elif trigger == "submit_evidence":
        v["evidence"] = data.evidence
    elif trigger == "defer":
        v.update(stage_result=data.stage_result, long_term_measure=data.long_term_measure)
    elif trigger in ("dismiss", "approve", "transfer"):
        v.update(resolution={"dismiss": "dismissed", "approve": "approved",
                             "transfer": "transferred"}[trigger], closed_at=now)
    elif trigger == "reject":
        v["reject_count"] = T.c.reject_count + 1
    elif trigger == "reopen":
        v.update(deadline=data.deadline, deadline_at=end_of_day(data.deadline), resolution=None,
                 closed_at=None, evidence=None, reopen_count=T.c.reopen_count + 1)
    return v


def row_guard_sql(guard: str, data: ClueInput, *, actor_unit: int) -> ColumnElement[bool]:
    """The bulk path's form of a row-dependent guard (statemachine.clue)."""
    if guard == "has_owner":
        if data.owner:
            return literal(True)
        return and_(T.c.owner.is_not(None), func.trim(T.c.owner) != "")
    if guard == "approver_not_owner":
        return T.c.unit_id != actor_unit
    raise KeyError(f"no SQL form for guard {guard!r}")
