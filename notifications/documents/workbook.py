"""A generated report's tables as an .xlsx workbook: what a unit passes on and
re-sorts in a spreadsheet (各单位整改情况 with its warning colours, overdue
items, typical cases, accountability). The final report's ledger sheet is
added by services.reports.generate, which has the database (services.ledgers.export).
"""
from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Alignment, PatternFill
from openpyxl.utils import get_column_letter

from .xlsx_style import BOX, CENTRE, WRAP, fit_rows, font, print_setup, put
from statemachine.time.calendar import TZ
from statemachine.warning import UNIT_COLOUR_LABELS

__all__ = ["report_workbook", "FILLS", "COLOUR_LABELS"]

COLOUR_LABELS = UNIT_COLOUR_LABELS  # statemachine/warning.py

# the early-warning colours of docs/domain.md §12, in Excel's own light tints
FILLS = {"red": PatternFill("solid", fgColor="FFC7CE"), "yellow": PatternFill("solid", fgColor="FFEB9C"),
         "blue": PatternFill("solid", fgColor="DDEBF7")}


def _table(ws, title: str, subtitle: str, headings: list[tuple[str, float]], rows: list[list],
           fills: list[PatternFill | None] | None = None, pct_cols: tuple[int, ...] = ()) -> None:
    """Title, subtitle, a boxed header and rows; percentages as numbers Excel can sort."""
    last = get_column_letter(len(headings))
    put(ws, 1, 1, title)
    ws.merge_cells(f"A1:{last}1")
    ws["A1"].font, ws["A1"].alignment = font(size=14, bold=True), CENTRE
    put(ws, 2, 1, subtitle)
    ws.merge_cells(f"A2:{last}2")
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="center")
    ws.row_dimensions[2].height = 30  # the subtitle (unit, period, 截至, 校验码) takes two lines when narrow
    for i, (heading, width) in enumerate(headings, start=1):
        c = put(ws, 3, i, heading)
        c.font, c.alignment, c.border = font(bold=True), CENTRE, BOX
        ws.column_dimensions[get_column_letter(i)].width = width
    for n, row in enumerate(rows):
        for i in range(1, len(headings) + 1):
            c = put(ws, 4 + n, i, row[i - 1] if i <= len(row) else None)
            c.border, c.alignment = BOX, WRAP
            if i in pct_cols:
                c.number_format = "0.0%"
            if fills and fills[n] is not None:
                c.fill = fills[n]
    ws.freeze_panes = "A4"
    fit_rows(ws, 4, 3 + len(rows))
    print_setup(ws, title_rows="3:3", last_column=len(headings), last_row=3 + len(rows))


def _units(ws, data, head: str) -> None:
    rows = [[u.name + ("（本级）" if u.own else ""), u.figures.clues, u.figures.concluded, u.figures.ongoing,
             u.figures.in_progress, u.figures.self_inspection, u.figures.self_rectified,
             u.rate, u.overdue, COLOUR_LABELS[u.colour]]
            for u in data.units]
    _table(ws, "各单位整改情况", head,
           [("单位", 24), ("问题线索", 10), ("已办结", 10), ("持续推进", 10), ("正在办理", 10),
            ("自查问题", 10), ("已整改", 10), ("整改率", 10), ("逾期", 8), ("预警", 26)],
           rows, [FILLS.get(u.colour) for u in data.units], pct_cols=(8,))


def report_workbook(data) -> Workbook:
    """`data`: a services.reports.contents.ReportData."""
    when = f"{'临时，' if data.provisional else ''}统计截至 {data.as_of.astimezone(TZ):%Y-%m-%d %H:%M}"
    head = f"{data.unit['name']} · {data.span.label} · {when} · 校验码：{data.check_code}"
    wb = Workbook()
    ws = wb.active
    ws.title = "各单位整改情况"
    _units(ws, data, head)
    _table(wb.create_sheet("逾期问题"), "逾期问题", f"{head} · 共 {data.overdue_total} 件",
           [("编号", 16), ("责任单位", 20), ("问题表现", 44), ("状态", 12), ("期限", 14), ("逾期天数", 10)],
           [[o["number"], o["unit"], o["summary"], o["state"], o["due"].date() if o["due"] else None,
             o["days"]] for o in data.overdue])
    if data.escalations.get("list"):
        _table(wb.create_sheet("督办情况"), "督办情况", head,
               [("单位", 20), ("措施", 14), ("事由", 24), ("下发时间", 18), ("状态", 12)],
               [[e["unit"], e["measure"], e["cause"], e["issued"].replace(tzinfo=None) if e["issued"] else None,
                 e["state"]] for e in data.escalations["list"]])
    if data.typical or data.kind == "final":
        _table(wb.create_sheet("典型案例"), "典型案例",
               f"{head} · 要求 {data.typical_required} 个，现有 {len(data.typical)} 个",
               [("编号", 16), ("单位", 20), ("问题方面", 18), ("问题表现", 40), ("整改措施", 36),
                ("成效", 30), ("说明", 24)],
               [[t["number"], t["unit"], t["aspect"], t["summary"], t.get("measures"), t.get("effect"),
                 "自动选取，待确认" if t.get("auto") else t.get("note")] for t in data.typical])
    if data.kind == "final":
        rows = ([["追责问责", a["unit"], a["reason"], a.get("text")] for a in data.accountability]
                + [["容错免责", a["unit"], a["reason"], a.get("grounds")] for a in data.exemptions]
                + [["移交纪检监察", a["unit"] + (f"（问题线索 {a['number']}）" if a.get("item") else ""), a["reason"],
                    a.get("organ") or "纪检监察机关"] for a in data.transfers])
        _table(wb.create_sheet("追责问责容错免责"), "追责问责、容错免责情况专题说明", head,
               [("类别", 14), ("单位", 20), ("事由", 36), ("决定 / 依据 / 接收机关", 40)], rows)
    return wb
