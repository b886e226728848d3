"""Reading clues from a CSV file: every row valid, or nothing imported."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from pathlib import Path
from typing import Iterator

from statemachine.errors import InvalidInput
from statemachine.limits import shown
from statemachine.time.calendar import TZ

from services.core.input_files import MAX_CSV_BYTES, MAX_CSV_FIELD_CHARS, read_input

from .lifecycle import NewClue

__all__ = ["read_clue_csv", "COLUMNS"]

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


def read_clue_csv(path: str | Path) -> list[NewClue]:
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
    for n, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise InvalidInput(f"{path}: row {n}: {len(row)} cells but the header has {len(header)}")
        get = lambda col: (row[index[col]].strip() if col in index and index[col] < len(row)  # noqa: E731
                           else "")
        for col in REQUIRED:
            if not get(col):
                raise InvalidInput(f"{path}: row {n}: column {col}: empty")
        received = None
        if get("received_at"):
            try:
                received = _instant(get("received_at"))
            except ValueError:
                raise InvalidInput(f"{path}: row {n}: column received_at: "
                                   f"{shown(get('received_at'))} is not a date") from None
        items.append(NewClue(channel=get("channel"), aspect=get("aspect"), summary=get("summary"),
                             unit=get("unit"), reporter_name=get("reporter_name") or None,
                             reporter_phone=get("reporter_phone") or None, received_at=received,
                             root_cause=get("root_cause") or None, row=n, kind=get("kind") or None))
    if not items:
        raise InvalidInput(f"{path}: no rows to import")
    return items
