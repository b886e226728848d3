"""Reading a filled ledger (台账) .xlsx back: every row valid, or nothing imported.

A ledger comes back from a unit as the seed printed it: title lines, a one-
or two-level header somewhere near the top, merged 问题方面 cells, the blank
placeholders '1. 2. 3. 4.', the footer lines. Rows carrying a 编号 (the hidden
column of our own export) update that item's ledger fields; rows without one
are new self-found problems, taken through the clue state machine so that
its guards and the audit log hold as for any other item. Differences in a
known item's 问题表现, 问题方面 or 责任单位 are not applied: those are the
problem's identity, not its ledger, and change through their own commands.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import Connection, Engine, select, update

from models.tables import Clue, Unit
from statemachine.errors import ConflictError, InvalidInput, NotFound, PermissionDenied
from statemachine.limits import COLUMNS, shown, text_problem
from statemachine.time.deadlines import EXTENSION_HINT, deadline_refusal
from statemachine.time.calendar import WorkingCalendar, end_of_day, local_date

from services.campaigns.load import plan_of
from services.clues.lifecycle import ClueInput, NewClue, add_clues, deadline_limit_on, transition
from services.core.input_files import MAX_SHEET_COLUMNS, MAX_SHEET_ROWS, MAX_XLSX_BYTES, read_input
from services.core.persisted import audit_record
from services.core.uow import UnitOfWork, unit_of_work
from services.core.directory import (Actor, UnitRef, actor as lookup_actor, campaign_row, contact_of,
                        require_acts_for, resolve_unit, unit_ref)
from .cells import match_aspect, numbered, parse_date, squash, text_of
from .templates import (DONE_WORDS, FOOTER_LABELS, NUMBER_HEADING, TEMPLATES, Template,
                               state_label)
from .workbook_bounds import NOT_XLSX, check_workbook

__all__ = ["read_ledger", "import_ledger", "Ledger", "LedgerRow", "RowError", "ImportResult",
           "LEDGER_FIELDS"]

T, U = Clue.__table__, Unit.__table__

# what a ledger may change on a known item (the rest is the problem's identity)
LEDGER_FIELDS = ("root_cause", "measures", "deadline", "result_form", "owner", "progress",
                 "stage_result", "long_term_measure", "evidence", "remark")
CHANNEL = "自查自纠"


@dataclass(frozen=True)
class RowError:
    row: int
    heading: str
    message: str
    permission: bool = False

    def __str__(self) -> str:
        return f"row {self.row}, {self.heading}: {self.message}"


@dataclass
class LedgerRow:
    row: int
    seq: str
    number: str
    aspect: str
    unit: str
    values: dict[str, Any]  # the ledger fields the sheet has: normalised text, a date, or None


@dataclass
class Ledger:
    path: str
    template: Template
    unit: str        # 填报单位
    header_row: int
    fields: frozenset[str]
    rows: list[LedgerRow]
    errors: list[RowError] = field(default_factory=list)

    def heading(self, name: str) -> str:
        col = self.template.column(name)
        return col.heading if col else {"unit": "填报单位", "owner": "联系人"}.get(name, name)


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int
    numbers: tuple[str, ...] = ()  # of the added items
    checked: bool = False          # a check: nothing was written

    def __str__(self) -> str:
        if self.checked:
            return (f"ledger is valid: would add {self.added}, update {self.updated}, "
                    f"leave {self.unchanged} unchanged (nothing written)")
        return f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}"


def fail(path: str, errors: list[RowError], template: Template | None = None) -> None:
    """One InvalidInput (PermissionDenied when that is all) naming every bad cell."""
    if not errors:
        return
    order = {c.heading: i for i, c in enumerate(template.columns)} if template else {}
    errors = sorted(errors, key=lambda e: (e.row, order.get(e.heading, 99)))
    n = len(errors)
    msg = "\n".join([f"{path}: {n} error{'s' if n != 1 else ''}, nothing imported"]
                    + [str(e) for e in errors])
    raise (PermissionDenied if all(e.permission for e in errors) else InvalidInput)(msg)


# -- reading ----------------------------------------------------------------------------
def _open(path: str):
    import openpyxl

    # read once and checked before openpyxl sees it (workbook_bounds.py); openpyxl
    # then reads the same bytes, never a file swapped in between
    data = read_input(path, max_bytes=MAX_XLSX_BYTES, what="ledger workbook")
    check_workbook(data, path=path)
    try:
        with warnings.catch_warnings():
            # "Data Validation extension is not supported", "invalid specification": openpyxl
            # tells a developer, on stderr; the one line a user gets is ours
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception:  # noqa: BLE001 - a file from outside: whatever openpyxl trips on, it is not a ledger
        raise InvalidInput(f"{path}: {NOT_XLSX}") from None
    for ws in wb.worksheets:  # what the check saw is what openpyxl built; iterating relies on it
        if ws.max_row > MAX_SHEET_ROWS or ws.max_column > MAX_SHEET_COLUMNS:
            raise InvalidInput(f"{path}: sheet '{ws.title}' is {ws.max_row:,} rows × {ws.max_column:,} "
                               f"columns: a ledger has at most {MAX_SHEET_ROWS:,} rows and "
                               f"{MAX_SHEET_COLUMNS} columns")
    return wb


def _grid(ws) -> dict[tuple[int, int], Any]:
    """Non-empty cells; a merged range's value in every cell it covers (a merged
    问题方面 applies to each row it spans)."""
    g = {(c.row, c.column): c.value for row in ws.iter_rows() for c in row
         if c.value is not None and text_of(c.value).strip()}
    for rng in ws.merged_cells.ranges:
        v = g.get((rng.min_row, rng.min_col))
        if v is not None:
            for r in range(rng.min_row, rng.max_row + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    g[(r, c)] = v
    return g


def _cells(g, r: int, width: int) -> list[str]:
    return [squash(text_of(g.get((r, c)))) for c in range(1, width + 1)]


def _detect(above: str, headings: set[str]) -> Template | None:
    for marker, key in (("2023年新问题", "003-2023"), ("2022年自查整改问题", "003-2022"),
                        ("整改工作台账", "004")):
        if marker in above:
            return TEMPLATES[key]
    for markers, key in (({"问题清单", "原因剖析", "成果形式"}, "003-2023"),
                         ({"阶段性成效", "长期举措", "完成情况"}, "003-2022"),
                         ({"问题类别", "具体表现", "可验证成果", "整改进度"}, "004")):
        if markers & headings:
            return TEMPLATES[key]
    return None


def _names(template: Template) -> dict[str, str]:
    return {squash(n): c.field for c in template.columns for n in (c.heading, *c.aliases)}


def _filler_unit(g, upto: int, width: int) -> str:
    for r in range(1, upto):
        for c in range(1, width + 1):
            text = text_of(g.get((r, c))).strip()
            if not squash(text).startswith("填报单位"):
                continue
            rest = text.split("：", 1)[-1] if "：" in text else text.split(":", 1)[-1]
            if rest.strip() and rest.strip() != text:
                return rest.strip()
            for c2 in range(c + 1, width + 1):  # the name typed into the next cell
                nxt = text_of(g.get((r, c2))).strip()
                if nxt and nxt != text and not squash(nxt).startswith("填报时间"):
                    return nxt
    return ""


def _is_footer(cells: list[str]) -> bool:
    first = next((c for c in cells if c), "")
    return first.startswith(FOOTER_LABELS) or first.startswith(("注:", "注："))


def read_ledger(path: str | Path, template: str | Template | None = None) -> Ledger:
    """Parse a filled template; cell-level problems are collected in .errors."""
    path = str(path)
    if isinstance(template, str):
        if template not in TEMPLATES:
            raise InvalidInput(f"unknown template {shown(template)} (one of {', '.join(TEMPLATES)})")
        template = TEMPLATES[template]
    wb = _open(path)
    for ws in wb.worksheets:
        g = _grid(ws)
        width = ws.max_column
        top = next((r for r in range(1, ws.max_row + 1) if "序号" in _cells(g, r, width)), None)
        if top is not None:
            break
    else:
        raise InvalidInput(f"{path}: no ledger header found (a row with 序号)")
    above = "".join(squash(text_of(v)) for (r, _), v in sorted(g.items()) if r < top)
    heads = set(_cells(g, top, width)) | set(_cells(g, top + 1, width))
    tpl = template or _detect(above, heads)
    if tpl is None:
        raise InvalidInput(f"{path}: cannot tell which template this is: "
                           f"give it ({', '.join(TEMPLATES)})")
    names = _names(tpl)
    seq_col = _cells(g, top, width).index("序号")
    second = _cells(g, top + 1, width)
    last = top + 1 if (second[seq_col] in ("", "序号") and set(second) & set(names)) else top
    columns: dict[str, int] = {}
    for c in range(width):
        for r in (last, top):
            f = names.get(_cells(g, r, width)[c])
            if f and f not in columns:
                columns[f] = c + 1
                break
    errors = [RowError(last, c.heading, "missing column")
              for c in tpl.columns if c.required and c.field not in columns]
    ledger = Ledger(path, tpl, _filler_unit(g, top, width), top,
                    frozenset(columns) & frozenset(LEDGER_FIELDS), [], errors)
    seen_seq: dict[str, int] = {}
    seen_num: dict[str, int] = {}
    for r in range(last + 1, ws.max_row + 1):
        if _is_footer(_cells(g, r, width)):
            break
        raw = {f: g.get((r, c)) for f, c in columns.items()}
        row = _read_row(ledger, r, raw)
        if row is None:
            continue
        for key, seen, heading in ((row.seq, seen_seq, "序号"), (row.number, seen_num, NUMBER_HEADING)):
            if key and key in seen:
                errors.append(RowError(r, heading, f"duplicate {heading} {key} (also row {seen[key]})"))
            elif key:
                seen[key] = r
        ledger.rows.append(row)
    return ledger


def _read_row(ledger: Ledger, r: int, raw: dict[str, Any]) -> LedgerRow | None:
    """One data row, or None for an empty (template placeholder) row."""
    values: dict[str, Any] = {}
    refused: list[RowError] = []
    for f in ("summary", *LEDGER_FIELDS):
        if f in raw and f != "deadline":
            values[f] = numbered(raw[f]) or None
            why = values[f] and text_problem(values[f], COLUMNS[f"clues.{f}"])
            if why:  # a cell its column cannot hold (statemachine/limits.py)
                refused.append(RowError(r, ledger.heading(f), why))
    if not any(values.values()) and not text_of(raw.get("deadline")).strip():
        return None
    ledger.errors.extend(refused)
    if "deadline" in raw:
        try:
            values["deadline"] = parse_date(raw["deadline"])
        except ValueError as e:
            values["deadline"] = None
            ledger.errors.append(RowError(r, ledger.heading("deadline"), str(e)))
    aspect = text_of(raw.get("aspect")).strip()
    if "summary" in raw and not values["summary"]:
        ledger.errors.append(RowError(r, ledger.heading("summary"), "empty: describe the problem"))
    if "aspect" in raw and not aspect:
        ledger.errors.append(RowError(r, ledger.heading("aspect"), "empty"))
    return LedgerRow(r, text_of(raw.get("seq")).strip(), text_of(raw.get("number")).strip(),
                     aspect, text_of(raw.get("unit")).strip(), values)


# -- importing --------------------------------------------------------------------------
def _done(progress: str | None) -> bool:
    text = (progress or "").lstrip("0123456789. ")
    return text.startswith(DONE_WORDS)


def _changes(item, row: LedgerRow) -> dict[str, Any]:
    """The ledger fields whose cell differs from the item (numbering normalised)."""
    out: dict[str, Any] = {}
    for f in LEDGER_FIELDS:
        if f not in row.values:
            continue
        new, old = row.values[f], item[f]
        if f == "deadline":
            if new != old:
                out[f] = new
            continue
        if f == "progress" and new == state_label(item["state"], item["resolution"]):
            # the export's label for an item without the unit's own words
            if old is None or numbered(old) == new:
                continue
            new = None
        if numbered(new or "") != numbered(old or ""):
            out[f] = new or None
    return out


def _deadline_change(item, new, limit: Callable[[], Any]) -> str | None:
    """Why a ledger may not make `new` the item's deadline, or None: a deadline is set
    within the plan's limit where there is none; one set is moved only by an extension
    (statemachine/time/deadlines.py), never silently by a sheet coming back from the unit."""
    old, number = item["deadline"], item["number"]
    if old is None:
        return deadline_refusal(new, limit()) if new is not None else None
    if new is None:
        return f"empty, but {number} keeps its deadline {old}"
    return (f"{new}, but the deadline of {number} is {old} and a ledger does not move it; {EXTENSION_HINT} "
            f"('rectify clue transition {number} extend --deadline {new} --reason …')")


def _write(uow: UnitOfWork, campaign_id: int, item, changes: dict[str, Any], who: Actor,
           now: datetime) -> None:
    values = dict(changes)
    if "deadline" in changes and (item["deadline_at"] is not None or item["state"] == "rectifying"):
        values["deadline_at"] = end_of_day(changes["deadline"]) if changes["deadline"] else None
    done = uow.conn.execute(update(T).where(T.c.id == item["id"], T.c.version == item["version"])
                        .values(**values, updated_at=now, updated_by=who.username,
                                version=T.c.version + 1))
    if done.rowcount != 1:
        raise ConflictError(f"clue {item['number']} was changed by someone else meanwhile; "
                            f"nothing imported, retry")
    uow.audit(campaign_id, [audit_record(
        at=now, actor=who.username, unit_id=item["unit_id"], entity="clue", entity_id=item["id"],
        from_state=item["state"], to_state=item["state"], trigger="ledger_update",
        detail={k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in changes.items()})])


@dataclass
class _New:
    row: LedgerRow
    aspect: str
    unit: UnitRef
    owner: str | None


@dataclass(frozen=True)
class _Units:
    by_id: dict[int, UnitRef]
    liaison: dict[int, str | None]   # the responsible person of a new problem without 联系人
    found: dict[str, UnitRef | InvalidInput | NotFound]

    def find(self, named: str) -> UnitRef:
        """The unit a cell names: a code or a name (resolve_unit), else the same
        with blanks and quotes ignored (a cell wraps a long name)."""
        if named not in self.found:
            units = self.by_id.values()
            try:
                self.found[named] = resolve_unit(named, units)
            except NotFound:
                try:
                    self.found[named] = resolve_unit(squash(named), units,
                                                     lambda name, key: squash(name) == key)
                except (NotFound, InvalidInput) as e:
                    self.found[named] = e
            except InvalidInput as e:
                self.found[named] = e
        hit = self.found[named]
        if isinstance(hit, Exception):
            raise hit
        return hit


def _units(conn: Connection, campaign_id: int) -> _Units:
    rows = conn.execute(select(U).where(U.c.campaign_id == campaign_id).order_by(U.c.path)).all()
    return _Units({r.id: unit_ref(r) for r in rows},
                  {r.id: contact_of(r.liaison_json).get("name") or None for r in rows}, {})


def import_ledger(engine: Engine, campaign: str, path: str | Path, *, actor: str, now: datetime,
                  calendar: WorkingCalendar, template: str | None = None,
                  check: bool = False) -> ImportResult:
    """Import a filled ledger; with check, do all of it (the clue machine's guards
    included) and roll it back, so a unit can fix its sheet before sending it."""
    ledger = read_ledger(path, template)
    tpl = ledger.template
    with unit_of_work(engine) as uow:
        conn = uow.conn
        camp = campaign_row(conn, campaign)
        plan = plan_of(conn, camp.id)
        who = lookup_actor(conn, camp.id, actor)
        units = _units(conn, camp.id)
        limits: list = []

        def limit():  # the deadlines that may be set today; only worked out when a row sets one
            if not limits:
                limits.append(deadline_limit_on(conn, camp.id, local_date(now), calendar))
            return limits[0]

        errors = list(ledger.errors)
        wanted = [r.number for r in ledger.rows if r.number]
        items = {m["number"]: m for m in conn.execute(
            select(T).where(T.c.campaign_id == camp.id, T.c.number.in_(wanted))).mappings()} \
            if wanted else {}
        updates: list[tuple[Any, dict]] = []
        new: list[_New] = []
        unchanged = 0

        def err(r: LedgerRow, heading: str, msg: str, permission: bool = False) -> None:
            errors.append(RowError(r.row, heading, msg, permission))

        def may(r: LedgerRow, unit: UnitRef, heading: str) -> bool:
            try:
                require_acts_for(who, unit, "import ledger rows")
                return True
            except PermissionDenied as e:
                err(r, heading, str(e), permission=True)
                return False

        for r in ledger.rows:
            aspect = None
            if r.aspect:
                try:
                    aspect = match_aspect(r.aspect, plan.aspects)
                except ValueError as e:
                    err(r, ledger.heading("aspect"), str(e))
            # a row's own 责任单位, else (a new row) the unit that filled the ledger in
            unit, named, unit_heading = None, r.unit, ledger.heading("unit")
            if not named and not r.number:
                named, unit_heading = ledger.unit, "填报单位"
            if named:
                try:
                    unit = units.find(named)
                except NotFound:
                    err(r, unit_heading, f"unknown unit {shown(named)} (give a unit's name or code)")
                except InvalidInput as e:
                    err(r, unit_heading, str(e))
            if r.number:
                item = items.get(r.number)
                if item is None:
                    err(r, NUMBER_HEADING, f"unknown {NUMBER_HEADING} {shown(r.number)} in this campaign "
                        f"(leave it empty for a new problem)")
                    continue
                changes = _changes(item, r)
                if "deadline" in changes:
                    why = _deadline_change(item, changes["deadline"], limit)
                    if why:
                        err(r, ledger.heading("deadline"), why)
                if not changes:
                    unchanged += 1
                elif may(r, units.by_id[item["unit_id"]], NUMBER_HEADING):
                    updates.append((item, changes))
                continue
            if unit is None:
                if not named:
                    err(r, unit_heading, "empty: which unit is responsible?")
                continue
            if not unit.participates:
                err(r, unit_heading, f"'{unit.name}' does not take part in the campaign")
                continue
            owner = r.values.get("owner")
            v = r.values
            why = v.get("deadline") and deadline_refusal(v["deadline"], limit())
            if why:
                err(r, ledger.heading("deadline"), why)
            if v.get("measures") and v.get("deadline") and not owner:
                owner = units.liaison[unit.id]
                if not owner:
                    err(r, "联系人", f"empty, and {unit.name} has no liaison: a problem under "
                        f"rectification needs a responsible person")
            if may(r, unit, unit_heading) and aspect:
                new.append(_New(r, aspect, unit, owner))
        fail(ledger.path, errors, tpl)

        for item, changes in updates:
            _write(uow, camp.id, item, changes, who, now)
        numbers = _add(uow, camp, tpl, new, who, now, calendar) if new else []
        if not check:  # a checked import did all of it, and rolls it back
            uow.commit()
        return ImportResult(len(numbers), len(updates), unchanged, tuple(numbers), checked=check)


def _add(uow: UnitOfWork, camp, tpl: Template, new: list[_New], who: Actor, now: datetime,
         calendar: WorkingCalendar) -> list[str]:
    conn = uow.conn
    numbers = add_clues(uow, camp.code, [NewClue(
        channel=CHANNEL, aspect=n.aspect, summary=n.row.values["summary"], unit=n.unit.code,
        root_cause=n.row.values.get("root_cause"), row=n.row.row, kind=tpl.new_kind) for n in new],
        actor=who.username, now=now, calendar=calendar)
    for n, number in zip(new, numbers):
        v = n.row.values
        if v.get("measures") and v.get("deadline"):
            fire = lambda trigger, data=ClueInput(): transition(  # noqa: E731
                uow, camp.code, number, trigger, actor=who.username, now=now, data=data, calendar=calendar)
            fire("verify")
            fire("substantiate", ClueInput(measures=v["measures"], deadline=v["deadline"],
                                           owner=n.owner, result_form=v.get("result_form")))
            if _done(v.get("progress")):
                fire("submit_evidence", ClueInput(evidence=v.get("evidence") or v["progress"]))
        item = conn.execute(select(T).where(T.c.campaign_id == camp.id, T.c.number == number)) \
            .mappings().one()
        given = LedgerRow(n.row.row, "", number, "", "",
                          {f: x for f, x in v.items() if f in LEDGER_FIELDS and x})
        changes = _changes(item, given)
        if changes:
            _write(uow, camp.id, item, changes, who, now)
    return numbers
