"""Clues from a CSV file: every row valid, or nothing imported.

Every bad cell is named at once, one line each (row, column, why), under one
line saying how many there are; nothing is written while any is left. A work
order's number (工单号, `source_ref`) makes importing the same file again add
nothing twice: a row whose 工单号 the campaign already holds for that channel (an
item's source, merged duplicates' too: services/clues/sources.py) is left out and
counted, and the database holds the 工单号 unique per channel (migration 0012).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Iterator

from statemachine.errors import InvalidInput, PermissionDenied
from statemachine.limits import shown
from statemachine.plan import channel_of
from statemachine.time.calendar import TZ, WorkingCalendar

from services.core.directory import campaign_row
from services.core.input_files import MAX_CSV_BYTES, MAX_CSV_FIELD_CHARS, read_input
from services.core.uow import Db, unit_of_work

from .lifecycle import NewClue, RowProblem, _add, known_refs

__all__ = ["read_clue_csv", "import_clue_csv", "ImportResult", "COLUMNS"]

# canonical column -> accepted headings (the ledger's Chinese ones too)
COLUMNS = {
    "channel": ("channel", "来源", "线索来源"),
    "aspect": ("aspect", "问题方面"),
    "summary": ("summary", "问题表现", "问题描述"),
    "unit": ("unit", "责任单位"),
    "reporter_name": ("reporter_name", "反映人"),
    "reporter_phone": ("reporter_phone", "联系电话"),
    "received_at": ("received_at", "受理时间"),
    "root_cause": ("root_cause", "原因剖析"),
    "kind": ("kind", "类别"),  # clue | self_inspection | carried_over (上年度遗留问题)
    "source_ref": ("source_ref", "工单号", "工单编号"),  # the work order's number (12345 …)
}
REQUIRED = ("channel", "aspect", "summary", "unit")


def _instant(text: str) -> datetime:
    text = text.strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time(9, 0), TZ)
    dt = datetime.fromisoformat(text.replace(" ", "T", 1))
    return dt if dt.tzinfo else dt.replace(tzinfo=TZ)


def _records(path, reader) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells); a record the csv module cannot read, or a cell longer
    than any clue's text, is one line naming its row."""
    n = 0
    while True:
        n += 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            problem = str(e)
            if "field limit" in problem:
                problem = f"a cell is longer than {MAX_CSV_FIELD_CHARS:,} characters"
            elif "NUL" in problem:
                problem = "a cell contains a NUL character"
            raise InvalidInput(f"{path}: row {n}: cannot read the CSV: {problem}") from None
        if any(len(cell) > MAX_CSV_FIELD_CHARS for cell in row):
            # csv.field_size_limit() is the process's, and could have been raised
            raise InvalidInput(f"{path}: row {n}: cannot read the CSV: "
                               f"a cell is longer than {MAX_CSV_FIELD_CHARS:,} characters")
        yield n, row


def _columns(path, header: list[str]) -> dict[str, int]:
    """Canonical column -> its index; a heading given twice, or two headings for one
    column (summary and 问题表现), is refused: which one would count?"""
    index: dict[str, int] = {}
    seen: dict[str, int] = {}
    for i, h in enumerate(header):
        h = h.strip()
        if h and h in seen:
            raise InvalidInput(f"{path}: row 1: column '{h}' is given twice "
                               f"(columns {seen[h] + 1} and {i + 1})")
        seen.setdefault(h, i)
        for col, names in COLUMNS.items():
            if h in names:
                if col in index:
                    raise InvalidInput(f"{path}: row 1: columns '{header[index[col]].strip()}' and "
                                       f"'{h}' are both the {col} (columns {index[col] + 1} and {i + 1})")
                index[col] = i
    return index


def _refused(path, problems: list[RowProblem]) -> InvalidInput:
    """One refusal naming every bad cell, by row then column (PermissionDenied when that is all)."""
    order = {c: i for i, c in enumerate(COLUMNS)}
    seen: set[tuple[int, str]] = set()  # a cell once: an empty unit is not also an unknown one
    problems = [p for p in sorted(problems, key=lambda p: (p.row, order.get(p.column, 99)))
                if (p.row, p.column) not in seen and not seen.add((p.row, p.column))]
    n = len(problems)
    msg = "\n".join([f"{path}: {n} error{'s' if n != 1 else ''}, nothing imported"] + [str(p) for p in problems])
    return (PermissionDenied if all(p.denied for p in problems) else InvalidInput)(msg)


def _read(path: str | Path, problems: list[RowProblem]) -> list[NewClue]:
    """The file's items; a bad cell is added to `problems` (its row read as far as it goes),
    a file that cannot be read as a whole is refused at once."""
    raw = read_input(path, max_bytes=MAX_CSV_BYTES, what="clue CSV")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")  # spreadsheets saved by Chinese Excel
        except UnicodeDecodeError:
            raise InvalidInput(f"{path}: not UTF-8 or GB18030 text") from None
    # newline="": the csv module splits records itself, so a quoted line break stays in
    # its cell and a file saved with CR alone (Excel for Mac's "CSV (Macintosh)") reads
    rows = _records(path, csv.reader(io.StringIO(text, newline="")))
    try:
        header = next(rows)[1]
    except StopIteration:
        raise InvalidInput(f"{path}: empty file") from None
    index = _columns(path, header)
    missing = [c for c in REQUIRED if c not in index]
    if missing:
        raise InvalidInput(f"{path}: missing column(s) {', '.join(missing)} "
                           f"(header must name {', '.join(REQUIRED)})")
    items: list[NewClue] = []
    first_row: dict[tuple[str, str], int] = {}  # (channel, 工单号) → the row that gave it first
    for n, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):  # which cell is which is not known: the file as a whole
            raise InvalidInput(f"{path}: row {n}: {len(row)} cells but the header has {len(header)}")
        get = lambda col: (row[index[col]].strip() if col in index and index[col] < len(row)  # noqa: E731
                           else "")
        bad = [col for col in REQUIRED if not get(col)]
        problems += [RowProblem(n, col, "empty") for col in bad]
        received = None
        if get("received_at"):
            try:
                received = _instant(get("received_at"))
            except ValueError:
                problems.append(RowProblem(n, "received_at", f"{shown(get('received_at'))} is not a date"))
                bad.append("received_at")
        ref = get("source_ref") or None
        if ref is not None:
            key = (channel_of(get("channel")) or get("channel"), ref)  # a number is unique per channel
            if key in first_row:
                problems.append(RowProblem(n, "source_ref", f"工单号 {shown(ref)} is row {first_row[key]}'s too"))
                bad.append("source_ref")
            first_row.setdefault(key, n)
        if bad:  # the row's other cells are still checked against the campaign
            items.append(NewClue(channel=get("channel"), aspect=get("aspect"), summary=get("summary") or "-",
                                 unit=get("unit"), row=n, kind=get("kind") or None, source_ref=None,
                                 reporter_name=get("reporter_name") or None,
                                 reporter_phone=get("reporter_phone") or None,
                                 root_cause=get("root_cause") or None))
            continue
        items.append(NewClue(channel=get("channel"), aspect=get("aspect"), summary=get("summary"),
                             unit=get("unit"), reporter_name=get("reporter_name") or None,
                             reporter_phone=get("reporter_phone") or None, received_at=received,
                             root_cause=get("root_cause") or None, row=n, kind=get("kind") or None,
                             source_ref=ref))
    if not items and not problems:
        raise InvalidInput(f"{path}: no rows to import")
    return items


def read_clue_csv(path: str | Path) -> list[NewClue]:
    """The file's items, or one refusal naming every cell that is bad on its face
    (the campaign's own checks come when they are added)."""
    problems: list[RowProblem] = []
    items = _read(path, problems)
    if problems:
        raise _refused(path, problems)
    return items


@dataclass(frozen=True)
class ImportResult:
    numbers: list[str]              # the clues added
    already: list[tuple[int, str]]  # (row, number): rows whose 工单号 (per channel) the campaign holds already

    def __str__(self) -> str:
        n, k = len(self.numbers), len(self.already)
        added = f"imported {n} clue{'s' if n != 1 else ''}" + (
            f" ({self.numbers[0]} … {self.numbers[-1]})" if n > 1 else f" ({self.numbers[0]})" if n else "")
        return added + (f"; {k} row{'s' if k != 1 else ''} already imported by 工单号, left out" if k else "")


def import_clue_csv(db: Db, campaign: str, path: str | Path, *, actor: str, now: datetime,
                    calendar: WorkingCalendar) -> ImportResult:
    """Import the file's clues in one unit of work: all new rows, or (InvalidInput naming every
    bad cell) none. Rows whose 工单号 was imported before are left out, not added twice."""
    problems: list[RowProblem] = []
    items = _read(path, problems)
    with unit_of_work(db) as uow:
        camp = campaign_row(uow.conn, campaign)
        key = lambda i: (channel_of(i.channel), i.source_ref)  # noqa: E731
        held = known_refs(uow.conn, camp.id, [key(i) for i in items if i.source_ref and channel_of(i.channel)])
        already = [(i.row, held[key(i)]) for i in items if i.source_ref and key(i) in held]
        new = [i for i in items if not (i.source_ref and key(i) in held)]
        numbers = _add(uow, campaign, new, actor=actor, now=now, calendar=calendar, problems=problems) \
            if new else []
        if problems:
            raise _refused(path, problems)
        uow.commit()
        return ImportResult(numbers, already)
