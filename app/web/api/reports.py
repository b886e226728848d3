"""`/api/v1/reports`: generated reports (周报, 月报, 阶段总结, 总结报告): generate one, list a
unit's, download each format (`rectify report generate|list`).

Generating runs the generate-report flow's one step (services/reports/generate.py) in
the request, as the CLI's flow run does, without a Prefect flow run."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from services.core.directory import campaign_row, unit_by_code
from services.core.visibility import require_sees
from services.reports import store
from services.reports.generate import DEFAULT_FORMATS, FORMATS, KINDS, generate, list_generated
from statemachine.errors import NotFound

from .common import API_DEPENDENCIES, Ctx, StrictIn, attachment, ctx, text
from .units import UnitCode

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], dependencies=API_DEPENDENCIES)
Kind = Literal[tuple(KINDS)]  # type: ignore[valid-type]
Format = Literal[tuple(FORMATS)]  # type: ignore[valid-type]
MEDIA = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "pdf": "application/pdf"}


class ReportOut(BaseModel):
    unit: str
    kind: str
    period: str
    as_of: datetime
    generated_at: datetime | None = None
    digest: str
    formats: list[str]
    downloads: dict[str, str] = Field(description="format → where to download it")


def _downloads(unit: str, kind: str, period: str, formats) -> dict[str, str]:
    return {f: f"{router.prefix}/{unit}/{kind}/{period}/{f}" for f in sorted(formats)}


class GenerateIn(StrictIn):
    kind: Kind
    unit: text(100, min_length=1) | None = Field(None, description="default: the lead unit (the whole campaign)")
    period: text(32, min_length=1) | None = Field(
        None, description="weekly: the week's last day; monthly: YYYY-MM; stage: a stage key; final: final")
    formats: list[Format] = Field(list(DEFAULT_FORMATS), min_length=1, max_length=len(FORMATS))
    force: bool = Field(False, description="regenerate one already made for its period")


class GeneratedOut(ReportOut):
    created: bool = Field(description="false: it had been generated for its period already")
    markdown: str


@router.post("", status_code=201, response_model=GeneratedOut,
             summary="Generate a unit's report for a period (the unit, or a supervisor above it)")
def generate_report(body: GenerateIn, c: Ctx = Depends(ctx)) -> GeneratedOut:
    g = generate(c.engine, c.campaign, kind=body.kind, unit=body.unit, period=body.period,
                 formats=tuple(dict.fromkeys(body.formats)), out_dir=c.runtime.reports_dir, actor=c.username,
                 now=c.now, force=body.force)
    return GeneratedOut(unit=g.unit, kind=g.kind, period=g.period, as_of=g.as_of, digest=g.digest,
                        formats=sorted(g.files), downloads=_downloads(g.unit, g.kind, g.period, g.files),
                        created=g.created, markdown=g.markdown)


def _seen_unit(c: Ctx, code: str):
    with c.engine.connect() as conn:
        u = unit_by_code(conn, campaign_row(conn, c.campaign).id, code)
    require_sees(c.actor, u, f"see the reports of {u.name}")
    return u


@router.get("", response_model=list[ReportOut], summary="The reports generated for a unit (default: one's own)")
def reports(unit: str | None = Query(None, max_length=100), c: Ctx = Depends(ctx)) -> list[ReportOut]:
    u = _seen_unit(c, unit or c.actor.unit.code)
    return [ReportOut(unit=u.code, kind=r["kind"], period=r["period"], as_of=r["as_of"],
                      generated_at=r["generated_at"], digest=r["digest"], formats=sorted(r["files"]),
                      downloads=_downloads(u.code, r["kind"], r["period"], r["files"]))
            for r in list_generated(c.engine, c.campaign, unit=u.code)]


@router.get("/{unit}/{kind}/{period}/{format}", summary="Download one format of a generated report",
            responses={200: {"content": {m.split(";")[0]: {} for m in MEDIA.values()}}})
def download(kind: Kind, format: Format, unit: UnitCode, period: Annotated[str, Path(max_length=32)],
             c: Ctx = Depends(ctx)):
    u = _seen_unit(c, unit)
    found = next((r for r in list_generated(c.engine, c.campaign, unit=u.code)
                  if r["kind"] == kind and r["period"] == period), None)
    if found is None:
        raise NotFound(f"no {kind} report of {u.name} for {period} (generate it first)")
    ref = found["files"].get(format)
    if ref is None:
        raise NotFound(f"the {kind} report of {u.name} for {period} has no {format} (regenerate it with force)")
    with c.engine.connect() as conn:  # from the store every host reads (services/reports/store.py)
        content = store.read(conn, campaign_row(conn, c.campaign).id, ref)
    return attachment(content, filename=f"{u.code}-{kind}-{period}.{format}", media_type=MEDIA[format])
