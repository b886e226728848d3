"""Reports (周报, 月报, 阶段总结, 总结报告): those generated for a unit, generating one
(the same use case the report flow runs, services/reports/generate.py), and
downloading each format through the same permission check."""
from __future__ import annotations

from typing import List, Optional
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse

from services.accounts.accounts import Identity
from services.reports.contents import KINDS
from services.reports.generate import FORMATS, generate
from services.work.reading import readable_reports, report_file, units_within

from ..api.common import attachment
from ..auth import signed_in
from ..deps import domain_now, engine, runtime
from ..templating import render
from .forms import text

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
MEDIA = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "pdf": "application/pdf"}


@router.get("/reports")
def reports_page(request: Request, who: Identity = Depends(signed_in), unit: str = "", done: str = ""):
    eng = engine(request)
    ref, generated = readable_reports(eng, who.campaign, unit or who.actor.unit.code, who.actor)
    return render(request, "reports.html", unit=ref, generated=generated,
                  units=units_within(eng, who.campaign, who.actor), kinds=KINDS, formats=FORMATS,
                  now=domain_now(request), done=done[:200])


@router.post("/reports")
def reports_generate(request: Request, who: Identity = Depends(signed_in), kind: str = Form(..., max_length=20),
                     unit: str = Form(..., max_length=64), period: Optional[str] = Form(None, max_length=32),
                     formats: Optional[List[str]] = Form(None), force: bool = Form(False)):
    g = generate(engine(request), who.campaign, kind=kind, unit=unit, period=text(period),
                 formats=tuple(formats or FORMATS), out_dir=runtime(request).reports_dir,
                 actor=who.actor.username, now=domain_now(request), force=force)
    state = "已生成" if g.created else "此前已生成（可勾选“重新生成”）"
    return RedirectResponse(f"/reports?unit={quote(g.unit)}&done={quote(f'{g.unit_name} {KINDS[kind]} {g.period} {state}')}",
                            status_code=303)


@router.get("/reports/file")
def reports_file(request: Request, unit: str, kind: str, period: str, format: str,
                 who: Identity = Depends(signed_in)):
    content = report_file(engine(request), who.campaign, who.actor, unit=unit, kind=kind, period=period,
                          fmt=format)
    # a download, never a page of this site: the report's HTML keeps its own styles away from it
    return attachment(content, filename=f"{who.campaign}-{unit}-{kind}-{period}.{format}",
                      media_type=MEDIA.get(format, "application/octet-stream"))
