"""The clue chart as stored: what each trigger writes besides the state, and
the SQL form of its row guard; the one persisted transition
(services/core/persisted.py) runs both the single and the set path from it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, literal, or_

from models.tables import Clue
from statemachine.charts.clock import ClockState
from statemachine.charts.clue import CLUE_CHART, RECTIFY_PENDING, VERIFY_PENDING, ClueContext
from statemachine.time.deadlines import DeadlineLimit
from statemachine.limits import COLUMNS, clean_fields
from statemachine.time.calendar import end_of_day

from services.core.persisted import PersistedChart

__all__ = ["ClueInput", "effects", "CLUES", "verify_overdue_sql", "rectify_overdue_sql", "overdue_sql", "due_soon_sql"]

T = Clue.__table__
RUNNING = ClockState.running.value


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
    # not the actor's: the plan's clues.max_extensions, set by the use case for `extend`
    max_extensions: int | None = None

    def __post_init__(self) -> None:
        clean_fields(self, _INPUT_LIMITS)

    def context(self, *, actor: str, actor_unit: int, owner_unit: int | None,
                row_owner: str | None, limit: DeadlineLimit | None = None, as_of: datetime | None = None,
                row_deadline: date | None = None, row_deadline_at: datetime | None = None,
                row_received: date | None = None, signing: str = "signed",
                row_extensions: int | None = None, row_callback: str | None = None) -> ClueContext:
        return ClueContext(actor=actor, actor_unit=actor_unit, owner_unit=owner_unit,
                           owner=self.owner or row_owner, measures=self.measures,
                           deadline=self.deadline, reason=self.reason, evidence=self.evidence,
                           stage_result=self.stage_result, long_term_measure=self.long_term_measure,
                           limit=limit, as_of=as_of, row_deadline=row_deadline, row_deadline_at=row_deadline_at,
                           row_received=row_received, signing=signing, row_extensions=row_extensions,
                           max_extensions=self.max_extensions, row_callback=row_callback)


# each text an actor supplies, held to the column it is written to (statemachine/limits.py)
_INPUT_LIMITS = {f: COLUMNS[f"clues.{f}"] for f in ("reason", "measures", "owner", "evidence", "stage_result",
                                                    "long_term_measure", "result_form")}


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
    elif trigger in ("dismiss", "approve", "transfer", "merge"):
        v.update(resolution={"dismiss": "dismissed", "approve": "approved",
                             "transfer": "transferred", "merge": "merged"}[trigger], closed_at=now)
    elif trigger == "reject":
        v["reject_count"] = T.c.reject_count + 1
    elif trigger in ("reopen", "redo"):
        # a reopened item owes no callback until it is closed again (statemachine/charts/callback.py)
        v.update(deadline=data.deadline, deadline_at=end_of_day(data.deadline), resolution=None,
                 closed_at=None, evidence=None, reopen_count=T.c.reopen_count + 1, callback="none",
                 callback_due_at=None)
    elif trigger == "extend":
        v.update(deadline=data.deadline, deadline_at=end_of_day(data.deadline),
                 extension_count=T.c.extension_count + 1)
    return v


def _has_owner_sql(data: ClueInput, source, now: datetime) -> ColumnElement[bool]:
    # a responsible person given with the trigger counts for every row
    if data is not None and data.owner:
        return literal(True)
    return and_(T.c.owner.is_not(None), func.trim(T.c.owner) != "")


def _extends_in_time_sql(data: ClueInput, source, now: datetime) -> ColumnElement[bool]:
    # statemachine.time.deadlines.extension_refusal: a running deadline, not passed, earlier than the new one
    if data is None or data.deadline is None:
        return literal(False)
    return and_(T.c.deadline.is_not(None), T.c.deadline_at.is_not(None), T.c.deadline_at >= now,
                T.c.deadline < data.deadline)


def _extensions_left_sql(data: ClueInput, source, now: datetime) -> ColumnElement[bool]:
    # statemachine.time.deadlines.extensions_left_refusal; without the plan's count, no row
    if data is None or data.max_extensions is None:
        return literal(False)
    return T.c.extension_count < data.max_extensions


def _after_receipt_sql(data: ClueInput, source, now: datetime) -> ColumnElement[bool]:
    # statemachine.time.deadlines.receipt_refusal: received on or before the deadline's (Beijing) day
    if data is None or data.deadline is None:
        return literal(True)  # has_deadline refuses
    return T.c.received_at <= end_of_day(data.deadline)


CLUES = PersistedChart(
    chart=CLUE_CHART, table=T, entity="clue",
    writes=lambda trigger, data, now, actor: effects(trigger, data or ClueInput(), now=now, actor=actor),
    row_sql={"has_owner": _has_owner_sql, "extends_in_time": _extends_in_time_sql,
             "deadline_after_receipt": _after_receipt_sql, "extensions_left": _extensions_left_sql})


# -- statemachine.charts.clue.overdue_cause as WHERE clauses (tests/integration/test_rule_sql_agrees.py) --
# a suspended clock (挂账, statemachine/charts/clock.py) owes nothing while it stands
def verify_overdue_sql(as_of: datetime, table=T) -> ColumnElement[bool]:
    return and_(table.c.state.in_([s.value for s in VERIFY_PENDING]), table.c.verify_due_at < as_of,
                table.c.clock == RUNNING)


def rectify_overdue_sql(as_of: datetime, table=T) -> ColumnElement[bool]:
    return and_(table.c.state.in_([s.value for s in RECTIFY_PENDING]), table.c.deadline_at < as_of,
                table.c.clock == RUNNING)


def overdue_sql(as_of: datetime, table=T) -> ColumnElement[bool]:
    return or_(verify_overdue_sql(as_of, table), rectify_overdue_sql(as_of, table))


def due_soon_sql(as_of: datetime, blue_within_days: int, table=T) -> ColumnElement[bool]:
    """statemachine.warning.due_soon of a running rectification deadline, as a WHERE clause."""
    return and_(table.c.state.in_([s.value for s in RECTIFY_PENDING]), table.c.deadline_at >= as_of,
                table.c.deadline_at <= as_of + timedelta(days=blue_within_days))
