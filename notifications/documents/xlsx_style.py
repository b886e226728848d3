"""What every sheet Rectify writes shares (ledgers, report workbooks): the one way a
value goes into a cell, the cell styles of the printed forms (boxed cells,
wrapped text, centred headings), the CJK font, and the page set-up that prints
them as the forms are printed: A4, the width on one page, the heading rows on
every page, rows tall enough for their wrapped text."""
from __future__ import annotations

import math
import unicodedata
from typing import Any

from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from .escaping import xlsx_text

__all__ = ["BOX", "WRAP", "CENTRE", "FONT_NAME", "font", "put", "print_setup", "fit_rows"]

_THIN = Side(style="thin")
BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
WRAP = Alignment(wrap_text=True, vertical="center")
CENTRE = Alignment(wrap_text=True, vertical="center", horizontal="center")

# 宋体 with the GB2312 character set: where 宋体 is not installed, Excel and LibreOffice
# take the machine's Chinese font for that charset instead of a Latin one
FONT_NAME = "宋体"
_GB2312 = 134
_SIZE = 11
_LINE_PT = 14.5  # one line of 11 pt 宋体, with its leading


def font(*, size: float = _SIZE, bold: bool = False) -> Font:
    return Font(name=FONT_NAME, charset=_GB2312, size=size, bold=bold)


_PLAIN = font()


def put(ws, row: int, column: int, value: Any = None):
    """Write `value` into a cell and return the cell: text by `escaping.xlsx_text`
    (always a text cell, never a formula), anything else as it is; in the sheets' font."""
    cell = ws.cell(row, column)
    if isinstance(value, str):
        xlsx_text(cell, value)
    else:
        cell.value = value
    cell.font = _PLAIN
    return cell


def print_setup(ws, *, title_rows: str | None, landscape: bool = True, last_column: int | None = None,
                last_row: int | None = None) -> None:
    """A4, as wide as one page (as many pages down as it takes), the heading rows
    printed on every page."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_options.horizontalCentered = True
    if title_rows:
        ws.print_title_rows = title_rows
    if last_column and last_row:
        ws.print_area = f"A1:{get_column_letter(last_column)}{max(last_row, 1)}"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def _width(text: str) -> int:
    """Display width in Excel's character units: a CJK character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def fit_rows(ws, first: int, last: int, *, skip_merged: bool = True) -> None:
    """Set each row's height to its tallest wrapped cell: Excel does not grow a row
    for wrapped text it did not type itself, so a multi-line cell prints clipped."""
    merged = {(r, c) for rng in ws.merged_cells.ranges if skip_merged
              for r in range(rng.min_row, rng.max_row + 1) for c in range(rng.min_col, rng.max_col + 1)}
    widths: dict[int, float] = {}
    for r in range(first, last + 1):
        lines = 1
        for cell in ws[r]:
            if cell.value is None or (r, cell.column) in merged:
                continue
            col = widths.setdefault(cell.column, (ws.column_dimensions[get_column_letter(cell.column)].width or 8.43))
            size = (cell.font.size or _SIZE) / _SIZE
            usable = max(col - 1, 1) / size
            n = sum(max(1, math.ceil(_width(part) / usable)) for part in str(cell.value).split("\n"))
            lines = max(lines, n)
        if lines > 1:
            ws.row_dimensions[r].height = lines * _LINE_PT + 2
