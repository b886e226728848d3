"""What every sheet Rectify writes shares (ledgers, report workbooks): the one way a
value goes into a cell, and the cell styles of the printed forms (boxed cells,
wrapped text, centred headings)."""
from __future__ import annotations

from typing import Any

from openpyxl.styles import Alignment, Border, Side

from statemachine.limits import document_text

__all__ = ["BOX", "WRAP", "CENTRE", "put", "FORMULA_STARTS"]

_THIN = Side(style="thin")
BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
WRAP = Alignment(wrap_text=True, vertical="center")
CENTRE = Alignment(wrap_text=True, vertical="center", horizontal="center")

# a text starting with one of these is a formula to a spreadsheet when typed (OWASP, CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CELL_CHARS = 32_767  # the most an Excel cell holds; Excel calls a longer one a corrupt file


def put(ws, row: int, column: int, value: Any = None):
    """Write `value` into a cell and return the cell.

    Text is always a text cell, never a formula: a summary `=HYPERLINK(…)` someone
    typed is shown as typed and never runs. The cell is marked as quoted text
    (Excel's leading apostrophe) when it starts like a formula, so that editing it
    in Excel does not turn it into one either; the text itself is not changed.
    Characters no .xlsx can hold (text stored before the door refused them) become
    U+FFFD, and a text longer than a cell holds is cut with "…", rather than failing
    the whole workbook."""
    cell = ws.cell(row, column)
    if isinstance(value, str):
        value = document_text(value)
        if len(value) > CELL_CHARS:
            value = value[:CELL_CHARS - 1] + "…"
        cell.value = value
        cell.data_type = "s"
        if value.startswith(FORMULA_STARTS):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell
