"""`/api/v1/ledgers`: the ledger (台账) as .xlsx in the seeds' templates: export a unit's,
import a filled one back (all rows or none), or only check it (`rectify ledger export|import`)."""
from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from pydantic import BaseModel, Field

from services.core.directory import campaign_row, unit_by_code
from services.core.input_files import MAX_XLSX_BYTES
from services.core.visibility import require_sees
from services.ledgers.export import export_ledger
from services.ledgers.importing import import_ledger
from services.ledgers.templates import TEMPLATES
from statemachine.time.calendar import TZ

from .common import API_DEPENDENCIES, Ctx, attachment, ctx, upload
from .units import UnitCode

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/ledgers", tags=["ledgers"], dependencies=API_DEPENDENCIES)
Template = Literal[tuple(TEMPLATES)]  # type: ignore[valid-type]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/{code}", summary="A unit's ledger (its subtree) as the template's .xlsx",
            responses={200: {"content": {XLSX: {}}}})
def export(template: Template, code: UnitCode,
           on: date | None = Query(None, description="填报时间 (default: today)"), c: Ctx = Depends(ctx)):
    with c.engine.connect() as conn:
        u = unit_by_code(conn, campaign_row(conn, c.campaign).id, code)
    require_sees(c.actor, u, f"export the ledger of {u.name}")
    wb = export_ledger(c.engine, c.campaign, u.code, template, on=on or c.now.astimezone(TZ).date())
    out = BytesIO()
    wb.save(out)
    return attachment(out.getvalue(), filename=f"{u.code}-ledger-{template}.xlsx", media_type=XLSX)


class ImportOut(BaseModel):
    added: int
    updated: int
    unchanged: int
    numbers: list[str] = Field(description="of the items added")
    checked: bool = Field(description="true: a dry run, nothing was written")
    summary: str


@router.post("/import", response_model=ImportOut,
             summary="Import a filled ledger: new rows become items, known ones are updated; all rows or none")
def import_(file: UploadFile = File(description="the filled .xlsx"),
            template: Template | None = Form(None, description="default: recognised from the sheet"),
            check: bool = Form(False, description="a dry run: validate everything, write nothing"),
            c: Ctx = Depends(ctx)) -> ImportOut:
    with upload(file, name="ledger.xlsx", max_bytes=MAX_XLSX_BYTES, what="ledger workbook") as path:
        r = import_ledger(c.engine, c.campaign, path, actor=c.username, now=c.now, calendar=c.runtime.calendar,
                          template=template, check=check)
    return ImportOut(added=r.added, updated=r.updated, unchanged=r.unchanged, numbers=list(r.numbers),
                     checked=r.checked, summary=str(r))
