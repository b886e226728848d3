"""The cell styles every sheet Rectify writes shares (ledgers, report workbooks):
boxed cells, wrapped text, centred headings, as the printed forms have them."""
from __future__ import annotations

from openpyxl.styles import Alignment, Border, Side

__all__ = ["BOX", "WRAP", "CENTRE"]

_THIN = Side(style="thin")
BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
WRAP = Alignment(wrap_text=True, vertical="center")
CENTRE = Alignment(wrap_text=True, vertical="center", horizontal="center")
