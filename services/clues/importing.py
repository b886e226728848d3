"""Reading clues from a CSV file: every row valid, or nothing imported."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from pathlib import Path

from statemachine.errors import InvalidInput
from statemachine.limits import shown
from statemachine.time.calendar import TZ

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


def read_clue_csv(path: str | Path) -> list[NewClue]:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise InvalidInput(f"{path}: cannot read: {e.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")  # spreadsheets saved by Chinese Excel
        except UnicodeDecodeError:
            raise InvalidInput(f"{path}: not UTF-8 or GB18030 text") from None
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput(f"{path}: empty file") from None
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        h = h.strip()
        for col, names in COLUMNS.items():
            if h in names:
                index[col] = i
    missing = [c for c in REQUIRED if c not in index]
    if missing:
        raise InvalidInput(f"{path}: missing column(s) {', '.join(missing)} "
                           f"(header must name {', '.join(REQUIRED)})")
    items: list[NewClue] = []
    for n, row in enumerate(reader, start=2):
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
