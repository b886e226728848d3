"""Use cases on problems and clues (问题线索): add, import, transition, read."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Iterable, Sequence

from sqlalchemy import Engine, and_, bindparam, func, insert, select, update

from models.tables import Campaign, Clue, ClueSource, Unit, User
from statemachine.charts.clue import CLUE_CHART, DEADLINE_TRIGGERS, ITEM_KINDS, ClueState, kind_for_channel, \
    overdue
from statemachine.time.deadlines import DeadlineLimit, assignment_clock, deadline_limit
from statemachine.time.spans import return_span, sign_for_span
from statemachine.errors import InvalidInput, NotFound, PermissionDenied
from statemachine.limits import COLUMNS, clean_text, shown, text_problem
from statemachine.plan import CHANNELS, channel_of
from statemachine.time.calendar import WorkingCalendar, local_date

from services.campaigns.load import plan_of
from services.core.authority_sql import rows_permitted
from services.core.directory import Actor, UnitRef, actor as lookup_actor, campaign_row, require_acts_for, \
    unit_by_code, unit_by_id
from services.core.persisted import audit_record, fire_one, fire_set
from services.core.uow import Db, unit_of_work
from services.core.visibility import require_sees, seen
from .chart import CLUES, ClueInput, overdue_sql
from .history import clue_history
from .closing import after_closing
from .sources import known_refs as _source_refs, source_rows
from .rows import clue_row as _load

__all__ = ["NewClue", "ClueInput", "add_clues", "RowProblem", "known_refs", "transition", "bulk_transition",
           "BulkResult", "get_clue", "list_clues", "ClueView", "deadline_limit_on", "aspect_keys",
           "assignment_columns"]

T, U, C = Clue.__table__, Unit.__table__, Campaign.__table__


@dataclass(frozen=True)
class NewClue:
    channel: str
    aspect: str
    summary: str
    unit: str
    reporter_name: str | None = None
    reporter_phone: str | None = None
    received_at: datetime | None = None
    root_cause: str | None = None
    row: int | None = None  # where it came from in an imported file, for error messages
    kind: str | None = None  # clue | self_inspection | carried_over; by the channel when absent
    source_ref: str | None = None  # 工单号: the work order's number where it came from (12345 …)


@dataclass(frozen=True)
class ClueView:
    number: str
    state: str
    kind: str
    channel: str
    aspect: str
    summary: str
    unit: str
    owner: str | None
    received_at: datetime
    verify_due_at: datetime
    deadline_at: datetime | None
    measures: str | None
    evidence: str | None
    resolution: str | None
    reason: str | None
    version: int
    reopen_count: int
    history: list[dict] = field(default_factory=list)

    def overdue(self, as_of: datetime) -> bool:
        return overdue(self.state, verify_due_at=self.verify_due_at, deadline_at=self.deadline_at, as_of=as_of)


def add_clues(db: Db, campaign: str, items: Sequence[NewClue], *, actor: str, now: datetime,
              calendar: WorkingCalendar) -> list[str]:
    """Register clues; all of them or none. Errors name the item (row) and field."""
    with unit_of_work(db) as uow:
        numbers = _add(uow, campaign, items, actor=actor, now=now, calendar=calendar)
        uow.commit()
        return numbers


def assignment_columns(calendar: WorkingCalendar, rules, *, assigned_at: datetime) -> dict:
    """The columns of an item assigned to a unit at `assigned_at` under the plan's `clues:`
    rules: its clock (statemachine/time/deadlines.assignment_clock) and its signing, owed
    only when the plan sets `sign_for` (statemachine/charts/signing.py)."""
    clock = assignment_clock(calendar, assigned_at=assigned_at, verify_working_days=rules.verify_within_working_days,
                             sign_for=sign_for_span(rules), return_window=return_span(rules))
    return dict(assigned_at=assigned_at, verify_due_at=clock.verify_due_at, sign_due_at=clock.sign_due_at,
                signing="unsigned" if clock.sign_due_at is not None else "signed", signed_at=None, signed_by=None)


def aspect_keys(plan) -> dict[str, str]:
    """An aspect's key by its key or its name: a ledger names it in Chinese, the CLI by key."""
    return {a.name: a.key for a in plan.aspects} | {a.key: a.key for a in plan.aspects}


def _add(uow, campaign: str, items: Sequence[NewClue], *, actor: str, now: datetime,
         calendar: WorkingCalendar, problems: list[RowProblem] | None = None) -> list[str]:
    """Insert `items`. Without `problems` the first bad one is refused; with it every bad
    cell is added there (row, column, reason) and nothing is inserted if any is."""
    conn = uow.conn
    camp = campaign_row(conn, campaign)
    plan = plan_of(conn, camp.id)
    who = lookup_actor(conn, camp.id, actor)
    aspect_key = aspect_keys(plan)
    units: dict[str, object] = {}
    rows = []
    collected: list[RowProblem] = []
    refs = _source_refs(conn, camp.id, [(channel_of(i.channel), i.source_ref) for i in items
                                        if i.source_ref and channel_of(i.channel)])
    for i, item in enumerate(items, start=1):
        where = f"row {item.row or i}" if len(items) > 1 or item.row else "clue"
        found = _problems(conn, camp, plan, who, item, aspect_key, units, refs)
        if found:
            if problems is None:
                column, why, denied = found[0]
                raise (PermissionDenied if denied else InvalidInput)(f"{where}: {column}: {why}")
            collected += [RowProblem(item.row or i, column, why, denied) for column, why, denied in found]
            continue
        text = {f: clean_text(getattr(item, f), COLUMNS[f"clues.{f}"], what=f"{where}: {f}")
                for f in _NEW_TEXT}
        unit = units[item.unit]
        received = item.received_at or now
        rows.append(dict(
            campaign_id=camp.id,
            kind=item.kind or kind_for_channel(channel_of(item.channel)),
            channel=channel_of(item.channel), aspect_key=aspect_key[item.aspect], summary=text["summary"].strip(),
            root_cause=text["root_cause"], reporter_name=text["reporter_name"],
            reporter_phone=text["reporter_phone"], source_ref=item.source_ref or None, unit_id=unit.id,
            state=ClueState.received.value, received_at=received, **assignment_columns(
                calendar, plan.clues, assigned_at=received),
            updated_at=now, updated_by=who.username, version=1, reopen_count=0))
    if problems is not None and (collected or problems):  # the file's own problems count too
        problems += collected
        return []
    if not rows:
        return []
    last = conn.execute(update(C).where(C.c.id == camp.id)
                        .values(clue_seq=C.c.clue_seq + len(rows))
                        .returning(C.c.clue_seq)).scalar_one()
    year = camp.start_date.year
    for n, row in enumerate(rows, start=last - len(rows) + 1):
        row["number"] = f"{plan.clues.number_prefix}-{year}-{n:05d}"
    ids = conn.execute(insert(T).returning(T.c.id, T.c.number, T.c.unit_id,
                                           sort_by_parameter_order=True), rows).all()
    conn.execute(insert(ClueSource.__table__), source_rows(rows, [r.id for r in ids]))
    uow.audit(camp.id, (audit_record(
        at=now, actor=who.username, unit_id=r.unit_id, entity="clue", entity_id=r.id,
        from_state=None, to_state=ClueState.received.value, trigger="receive",
        detail={"number": r.number} | ({"source_ref": row["source_ref"]} if row["source_ref"] else {}))
        for r, row in zip(ids, rows)))
    return [r.number for r in ids]


@dataclass(frozen=True)
class RowProblem:
    """One bad cell of an imported file: its row, its column and why."""

    row: int
    column: str
    why: str
    denied: bool = False  # the actor may not, rather than the cell is wrong

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.why}"


def known_refs(conn, campaign_id: int, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(channel, source_ref) → the number of the item already holding that work order
    (services/clues/sources.py: a 工单号 is unique per channel)."""
    return _source_refs(conn, campaign_id, pairs)


def _problems(conn, camp, plan, who, item: NewClue, aspect_key, units, refs) -> list[tuple[str, str, bool]]:
    """(column, why, denied) for each bad cell of one new item, in column order."""
    out: list[tuple[str, str, bool]] = []
    if channel_of(item.channel) is None:
        out.append(("channel", f"unknown source {shown(item.channel)} (one of {', '.join(CHANNELS)})", False))
    if item.aspect not in aspect_key:
        out.append(("aspect", f"unknown aspect {shown(item.aspect)} "
                              f"(one of {', '.join(a.key for a in plan.aspects)})", False))
    if not item.summary or not item.summary.strip():
        out.append(("summary", "the problem description is empty", False))
    for f in _NEW_TEXT:
        try:
            clean_text(getattr(item, f), COLUMNS[f"clues.{f}"], what=f)
        except InvalidInput as e:
            if not (f == "summary" and not (item.summary or "").strip()):
                out.append((f, str(e).removeprefix(f"{f}: "), False))
    if item.source_ref:
        why = text_problem(item.source_ref, COLUMNS["clues.source_ref"])
        if why:
            out.append(("source_ref", why, False))
        elif (channel_of(item.channel), item.source_ref) in refs:
            out.append(("source_ref", f"工单号 {shown(item.source_ref)} is clue "
                                      f"{refs[(channel_of(item.channel), item.source_ref)]} already", False))
    if item.unit not in units:
        try:
            units[item.unit] = unit_by_code(conn, camp.id, item.unit)
        except NotFound:
            units[item.unit] = ("unit", f"unknown unit {shown(item.unit)}", False)
        except InvalidInput as e:  # a name several units share
            units[item.unit] = ("unit", str(e), False)
    unit = units[item.unit]
    if isinstance(unit, tuple):
        out.append(unit)
    elif not unit.participates:
        out.append(("unit", f"'{unit.name}' does not take part in the campaign", False))
    else:
        try:
            require_acts_for(who, unit, "register clues")
        except PermissionDenied as e:
            out.append(("unit", str(e), True))
    if item.kind is not None and item.kind not in ITEM_KINDS:
        out.append(("kind", f"unknown kind {shown(item.kind)} (one of {', '.join(ITEM_KINDS)})", False))
    return out


# what a new item brings as text, each held to its column (statemachine/limits.py)
_NEW_TEXT = ("summary", "root_cause", "reporter_name", "reporter_phone")



# the owning unit's columns, labelled so they sit beside the clue's in one row
_UNIT_COLS = [U.c.code.label("u_code"), U.c.name.label("u_name"), U.c.path.label("u_path"),
              U.c.participates.label("u_participates"), U.c.stage_key.label("u_stage_key"),
              U.c.version.label("u_version")]


US, UA = User.__table__, Unit.__table__.alias("actor_unit")
# the acting user and their unit, labelled likewise
_ACTOR_COLS = [US.c.username.label("a_username"), US.c.name.label("a_name"), US.c.role.label("a_role"),
               UA.c.id.label("a_unit_id"), UA.c.code.label("a_code"), UA.c.name.label("a_unit_name"),
               UA.c.path.label("a_path"), UA.c.participates.label("a_participates"),
               UA.c.stage_key.label("a_stage_key"), UA.c.version.label("a_version")]


# built once (bind parameters): building and hashing it cost as much as running it
_LOAD_WITH_UNIT = (select(T, *_UNIT_COLS, *_ACTOR_COLS).join(C, C.c.id == T.c.campaign_id)
                   .join(U, U.c.id == T.c.unit_id)
                   .outerjoin(US, and_(US.c.campaign_id == C.c.id, US.c.username == bindparam("actor")))
                   .outerjoin(UA, UA.c.id == US.c.unit_id)
                   .where(C.c.code == bindparam("campaign"), T.c.number == bindparam("number")))


def _load_with_unit(conn, campaign: str, number: str, actor: str):
    """Clue, owning unit and the acting user in one round trip (the single-clue hot path)."""
    row = conn.execute(_LOAD_WITH_UNIT, dict(campaign=campaign, number=number, actor=actor)).first()
    if row is None:
        _load(conn, campaign_row(conn, campaign).id, number)  # raises the precise NotFound
    if row.a_username is None:
        lookup_actor(conn, row.campaign_id, actor)  # raises the precise refusal
    unit = UnitRef(row.unit_id, row.u_code, row.u_name, row.u_path, row.u_participates,
                   row.u_stage_key, row.u_version)
    who = Actor(row.a_username, row.a_name, row.a_role,
                UnitRef(row.a_unit_id, row.a_code, row.a_unit_name, row.a_path, row.a_participates,
                        row.a_stage_key, row.a_version))
    return row, unit, who


def _known_trigger(trigger: str) -> None:
    if trigger not in CLUE_CHART.triggers:
        raise InvalidInput(f"unknown trigger {shown(trigger)} (one of {', '.join(CLUE_CHART.triggers)})")


def deadline_limit_on(conn, campaign_id: int, day: date,
                      calendar: WorkingCalendar | None = None) -> DeadlineLimit:
    """The deadlines that may be set on `day` in this campaign (statemachine/time/deadlines.py)."""
    if calendar is None:  # the calendar of this process's runtime (its override file)
        from services.core.runtime import current

        calendar = current().calendar
    return deadline_limit(calendar, today=day,
                          working_days=plan_of(conn, campaign_id).clues.rectify_within_working_days)


def _limit(conn, campaign_id: int, trigger: str, data: ClueInput, now: datetime,
           calendar: WorkingCalendar | None) -> DeadlineLimit | None:
    # worked out only when a deadline is set: without one, has_deadline says what is missing
    if trigger not in DEADLINE_TRIGGERS or data.deadline is None:
        return None
    return deadline_limit_on(conn, campaign_id, local_date(now), calendar)


def transition(db: Db, campaign: str, number: str, trigger: str, *, actor: str, now: datetime,
               data: ClueInput = ClueInput(), expected_version: int | None = None,
               calendar: WorkingCalendar | None = None) -> ClueView:
    """Fire one trigger on one clue (the one persisted transition, services/core/persisted.py).
    A trigger that sets a deadline is held to the plan's limit counted on `calendar`
    (default: this process's)."""
    _known_trigger(trigger)
    with unit_of_work(db) as uow:
        row, unit, who = _load_with_unit(uow.conn, campaign, number, actor or "")
        data = with_plan_facts(uow.conn, row.campaign_id, trigger, data)
        ctx = data.context(actor=who.username, actor_unit=who.unit.id, owner_unit=row.unit_id,
                           row_owner=row.owner, limit=_limit(uow.conn, row.campaign_id, trigger, data, now, calendar),
                           as_of=now, row_deadline=row.deadline, row_deadline_at=row.deadline_at,
                           row_received=local_date(row.received_at), signing=row.signing,
                           row_extensions=row.extension_count, row_callback=row.callback)
        fired = fire_one(uow, CLUES, row, trigger, actor=who, now=now, campaign_id=row.campaign_id,
                         ctx=ctx, data=data, unit=unit, label=f"clue {number}",
                         expected_version=expected_version, reason=data.reason,
                         detail=_detail(trigger, data))
        after_closing(uow.conn, campaign_id=row.campaign_id, trigger=trigger, clue_ids=[row.id], now=now,
                      calendar=calendar)
        uow.commit()
        return _view_of(fired.row._mapping, unit.name)


def with_plan_facts(conn, campaign_id: int, trigger: str, data: ClueInput) -> ClueInput:
    """`data` with what the plan says about `trigger`: an extension's limit on how many."""
    if trigger != "extend":
        return data
    return replace(data, max_extensions=plan_of(conn, campaign_id).clues.max_extensions)


def _detail(trigger: str, data: ClueInput) -> dict | None:
    d = {k: (v.isoformat() if hasattr(v, "isoformat") else v)
         for k, v in vars(data).items() if v is not None and k not in ("reason", "max_extensions")}
    return d or None


@dataclass(frozen=True)
class BulkResult:
    trigger: str
    moved: list[tuple[str, str, str]]  # (number, from, to)
    skipped: int


def bulk_transition(db: Db, campaign: str, trigger: str, *, actor: str, now: datetime,
                    data: ClueInput = ClueInput(), numbers: Iterable[str] | None = None,
                    unit: str | None = None, state: str | None = None,
                    calendar: WorkingCalendar | None = None) -> BulkResult:
    """The same chart as a set: one UPDATE … RETURNING per source state (services/core/persisted.py).

    Rows the trigger does not apply to (wrong state, a row guard says no,
    outside the actor's reach) are left alone and counted as skipped.
    """
    _known_trigger(trigger)
    with unit_of_work(db) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        who = lookup_actor(conn, camp.id, actor)
        scope = [T.c.campaign_id == camp.id]
        numbers = list(numbers) if numbers is not None else None
        if numbers is not None:
            scope.append(T.c.number.in_(numbers))
        if unit:
            scope.append(T.c.unit_id == unit_by_code(conn, camp.id, unit).id)
        if state:
            scope.append(T.c.state == CLUE_CHART.coerce(state).value)
        data = with_plan_facts(conn, camp.id, trigger, data)
        ctx = data.context(actor=who.username, actor_unit=who.unit.id, owner_unit=None, row_owner=None,
                           limit=_limit(conn, camp.id, trigger, data, now, calendar), as_of=now)
        moved = fire_set(uow, CLUES, trigger, actor=who, now=now, campaign_id=camp.id, where=scope,
                         ctx=ctx, data=data, returning=(T.c.number,), reason=data.reason,
                         detail=_detail(trigger, data))
        after_closing(conn, campaign_id=camp.id, trigger=trigger, clue_ids=[m.id for m in moved], now=now,
                      calendar=calendar)
        # clues named by number count as skipped when the actor may not touch them; an
        # unnamed request counts only what the actor could reach
        counted = list(scope)
        if numbers is None:
            counted.append(_reach(who, trigger))
        total = conn.execute(select(func.count()).select_from(T).where(*counted)).scalar_one()
        uow.commit()
        return BulkResult(trigger, [(m.row.number, m.from_state, m.to_state) for m in moved],
                          max(total - len(moved), 0))


def _reach(who, trigger: str):
    return rows_permitted(CLUE_CHART.who(trigger), who, T.c.unit_id, what=f"'{trigger}' clues")


def _view_of(row: dict, unit_name: str, history: list[dict] | None = None) -> ClueView:
    return ClueView(
        number=row["number"], state=row["state"], kind=row["kind"], channel=row["channel"],
        aspect=row["aspect_key"], summary=row["summary"], unit=unit_name, owner=row["owner"],
        received_at=row["received_at"], verify_due_at=row["verify_due_at"],
        deadline_at=row["deadline_at"], measures=row["measures"], evidence=row["evidence"],
        resolution=row["resolution"], reason=row["reason"], version=row["version"],
        reopen_count=row["reopen_count"], history=history or [])


def _view(conn, row, *, with_history: bool = False) -> ClueView:
    return _view_of(row._mapping, unit_by_id(conn, row.unit_id).name,
                    clue_history(conn, row.id) if with_history else None)


def get_clue(engine: Engine, campaign: str, number: str, *, seen_by: Actor | None = None) -> ClueView:
    """`seen_by`: refused (PermissionDenied) unless that person sees the clue's unit."""
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        row = _load(conn, camp.id, number)
        if seen_by is not None:
            require_sees(seen_by, unit_by_id(conn, row.unit_id), f"see clue {number}")
        return _view(conn, row, with_history=True)


def list_clues(engine: Engine, campaign: str, *, unit: str | None = None, state: str | None = None,
               overdue_as_of: datetime | None = None, limit: int = 200, offset: int = 0,
               kind: str | None = None, aspect: str | None = None,
               seen_by: Actor | None = None) -> list[ClueView]:
    """`seen_by`: only the clues that person sees (services/core/visibility.py); `aspect`:
    its key or name (InvalidInput when the plan has no such aspect)."""
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        q = select(T, U.c.name.label("unit_name")).join(U, U.c.id == T.c.unit_id) \
            .where(T.c.campaign_id == camp.id)
        if unit:
            u = unit_by_code(conn, camp.id, unit)
            q = q.where(T.c.unit_id.in_(select(U.c.id).where(U.c.path.startswith(u.path))))
        if state:
            q = q.where(T.c.state == CLUE_CHART.coerce(state).value)
        if overdue_as_of is not None:
            q = q.where(overdue_sql(overdue_as_of))
        if kind:
            if kind not in ITEM_KINDS:
                raise InvalidInput(f"kind: unknown kind {shown(kind)} (one of {', '.join(ITEM_KINDS)})")
            q = q.where(T.c.kind == kind)
        if aspect:
            keys = aspect_keys(plan_of(conn, camp.id))
            if aspect not in keys:
                raise InvalidInput(f"aspect: unknown aspect {shown(aspect)} (one of {', '.join(sorted(set(keys.values())))})")
            q = q.where(T.c.aspect_key == keys[aspect])
        if seen_by is not None:
            q = q.where(seen(seen_by, T.c.unit_id))
        rows = conn.execute(q.order_by(T.c.number).limit(limit).offset(offset)).all()
        return [_view_of(r._mapping, r.unit_name) for r in rows]
