"""What every sheet Rectify writes shares (ledgers, report workbooks): the one way a
value goes into a cell, and the cell styles of the printed forms (boxed cells,
wrapped text, centred headings)."""
from __future__ import annotations

from typing import Any

from openpyxl.styles import Alignment, Border, Side

from .escaping import xlsx_text

__all__ = ["BOX", "WRAP", "CENTRE", "put"]

_THIN = Side(style="thin")
BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
WRAP = Alignment(wrap_text=True, vertical="center")
CENTRE = Alignment(wrap_text=True, vertical="center", horizontal="center")


def put(ws, row: int, column: int, value: Any = None):
    """Write `value` into a cell and return the cell: text by `escaping.xlsx_text`
    (always a text cell, never a formula), anything else as it is."""
    cell = ws.cell(row, column)
    if isinstance(value, str):
        xlsx_text(cell, value)
    else:
        cell.value = value
    return cell
