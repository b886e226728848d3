"""Writing a unit's ledger (台账) as the seed's own .xlsx template.

The sheet is laid out as printed (title, subtitle, 填报单位/填报时间, header,
rows, footer) so that it can be stamped and sent as is, and carries each
item's system number in a hidden last column so that the filled-in file
comes back onto the same items (services.ledgers.importing).
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from sqlalchemy import Engine, select

from models.tables import Clue, Unit
from notifications.documents.xlsx_style import BOX, CENTRE, WRAP, fit_rows, font, print_setup, put
from statemachine.errors import InvalidInput
from statemachine.limits import shown

from services.campaigns.load import plan_of
from services.core.directory import campaign_row, contact_of, unit_by_code
from .cells import date_text, numbered
from .templates import TEMPLATES, Template, state_label

__all__ = ["export_ledger", "draw_ledger", "write_ledger", "ledger_items"]

T, U = Clue.__table__, Unit.__table__


def _template(key: str) -> Template:
    if key not in TEMPLATES:
        raise InvalidInput(f"unknown template {shown(key)} (one of {', '.join(TEMPLATES)})")
    return TEMPLATES[key]


def ledger_items(conn, campaign_id: int, unit, tpl: Template) -> list[dict]:
    """The unit's and its subtree's items of the template's kinds, by aspect (plan order), number."""
    order = {a.key: i for i, a in enumerate(plan_of(conn, campaign_id).aspects)}
    rows = conn.execute(
        select(T, U.c.name.label("unit_name")).join(U, U.c.id == T.c.unit_id)
        .where(T.c.campaign_id == campaign_id, U.c.path.startswith(unit.path),
               T.c.kind.in_(tpl.kinds))).mappings().all()
    return sorted((dict(r) for r in rows), key=lambda r: (order.get(r["aspect_key"], len(order)),
                                                          r["number"]))


def _cell_value(field: str, item: dict, seq: int, aspects: dict[str, str]):
    if field == "seq":
        return seq
    if field == "aspect":
        return aspects.get(item["aspect_key"], item["aspect_key"])
    if field == "unit":
        return item["unit_name"]
    if field == "progress":
        return numbered(item["progress"]) or state_label(item["state"], item["resolution"])
    if field in ("number", "deadline"):
        return item[field]
    return numbered(item[field]) or None  # '1. …\n2. …', as the import reads it back


def export_ledger(engine: Engine, campaign: str, unit_code: str, template: str, *, on: date) -> Workbook:
    wb = Workbook()
    draw_ledger(wb.active, engine, campaign, unit_code, template, on=on)
    return wb


def draw_ledger(ws, engine: Engine, campaign: str, unit_code: str, template: str, *, on: date) -> int:
    """Lay a unit's ledger out on a sheet (of its own workbook or a report's); returns its items."""
    tpl = _template(template)
    with engine.connect() as conn:
        camp = campaign_row(conn, campaign)
        unit = unit_by_code(conn, camp.id, unit_code)
        contacts = conn.execute(select(U.c.leader_json, U.c.liaison_json)
                                .where(U.c.id == unit.id)).one()
        aspects = {a.key: a.name for a in plan_of(conn, camp.id).aspects}
        items = ledger_items(conn, camp.id, unit, tpl)
    leader, liaison = contact_of(contacts.leader_json), contact_of(contacts.liaison_json)
    footer = {"审核人": leader.get("name", ""), "联系人": liaison.get("name", ""),
              "联系电话": liaison.get("phone", "")}
    ws.title = f"台账{tpl.key}"
    cols, visible = tpl.columns, len(tpl.visible)
    last = get_column_letter(visible)
    r = 1

    def line(text: str, *, size: int = 11, bold: bool = False, centre: bool = False) -> None:
        nonlocal r
        put(ws, r, 1, text).font = font(size=size, bold=bold)
        ws.cell(r, 1).alignment = CENTRE if centre else Alignment(vertical="center", wrap_text=True)
        ws.merge_cells(f"A{r}:{last}{r}")
        r += 1

    line(tpl.title_for(unit.name), size=16, bold=True, centre=True)
    if tpl.subtitle:
        line(tpl.subtitle, size=12, centre=True)
    stamp, when = f"填报单位（盖章）：{unit.name}", f"填报时间：{date_text(on)}"
    if tpl.stamp_lines == 2:
        line(when)
        line(stamp)
    else:
        half = max(visible // 2, 1)
        put(ws, r, 1, stamp)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=half)
        put(ws, r, half + 1, when)
        ws.merge_cells(start_row=r, start_column=half + 1, end_row=r, end_column=visible)
        r += 1

    header = r
    two = tpl.header_rows == 2
    for i, col in enumerate(cols, start=1):
        if col.group and two:
            put(ws, header + 1, i, col.heading)
        else:
            put(ws, header, i, col.heading)
            if two:
                ws.merge_cells(start_row=header, start_column=i, end_row=header + 1, end_column=i)
    if two:
        groups: dict[str, list[int]] = {}
        for i, col in enumerate(cols, start=1):
            if col.group:
                groups.setdefault(col.group, []).append(i)
        for name, idx in groups.items():
            put(ws, header, idx[0], name)
            ws.merge_cells(start_row=header, start_column=idx[0], end_row=header, end_column=idx[-1])
    first = header + tpl.header_rows
    for rr in range(header, first):
        for i in range(1, len(cols) + 1):
            c = ws.cell(rr, i)
            c.font, c.alignment, c.border = font(bold=True), CENTRE, BOX

    for n, item in enumerate(items, start=1):
        rr = first + n - 1
        for i, col in enumerate(cols, start=1):
            value = _cell_value(col.field, item, n, aspects)
            c = put(ws, rr, i, value)
            c.border = BOX
            c.alignment = CENTRE if col.field in ("seq", "aspect", "deadline", "owner") else WRAP
            if col.field == "deadline" and value is not None:
                c.number_format = 'yyyy"年"m"月"d"日"'
    end = first + len(items)
    _merge_runs(ws, cols, first, items)

    r = end + 1
    for label in tpl.footer:
        put(ws, r, 1, f"{label}：{footer[label]}")
        r += 1

    for i, col in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.column_dimensions[get_column_letter(len(cols))].hidden = True
    fit_rows(ws, first, end - 1)
    print_setup(ws, title_rows=f"{header}:{first - 1}", last_column=visible, last_row=r - 1)
    ws.freeze_panes = ws.cell(first, 1)
    return len(items)


def _merge_runs(ws, cols, first: int, items: list[dict]) -> None:
    """Consecutive rows of one aspect share one merged 问题方面 cell, as in the template."""
    col = next(i for i, c in enumerate(cols, start=1) if c.field == "aspect")
    start = 0
    for k in range(1, len(items) + 1):
        if k == len(items) or items[k]["aspect_key"] != items[start]["aspect_key"]:
            if k - 1 > start:
                ws.merge_cells(start_row=first + start, start_column=col,
                               end_row=first + k - 1, end_column=col)
            start = k


def write_ledger(engine: Engine, campaign: str, unit_code: str, template: str, path: str | Path,
                 *, on: date) -> int:
    """Export to a file; returns the number of items written."""
    wb = Workbook()
    n = draw_ledger(wb.active, engine, campaign, unit_code, template, on=on)
    try:
        wb.save(str(path))
    except OSError as e:
        raise InvalidInput(f"{path}: cannot write: {e.strerror or e}") from None
    return n
