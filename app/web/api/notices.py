"""`/api/v1/notices`: the notices issued (通报, 约谈通知书, 督办通知书 …) to the units one
sees: list, read, the document itself, a download (`rectify notice list|show|export`)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel
from starlette.responses import HTMLResponse

from services.notices.issue import NoticeView, get_notice, notices_between

from .common import API_DEPENDENCIES, Ctx, Page, Paging, attachment, ctx, page_of, paging

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/notices", tags=["notices"], dependencies=API_DEPENDENCIES)
Ref = Annotated[str, Path(max_length=100, description="the notice's id or its document number (忻交督〔2023〕3号)")]


class NoticeOut(BaseModel):
    id: int
    case_id: int | None
    kind: str
    doc_number: str
    title: str
    addressee: str
    created_at: datetime

    @classmethod
    def of(cls, n: NoticeView) -> "NoticeOut":
        return cls(id=n.id, case_id=n.case_id, kind=n.kind, doc_number=n.doc_number, title=n.title,
                   addressee=n.addressee, created_at=n.created_at)


class NoticeText(NoticeOut):
    text: str


@router.get("", response_model=Page[NoticeOut], summary="Notices addressed to the units one sees")
def notices(kind: str | None = Query(None, max_length=40), p: Paging = Depends(paging),
            c: Ctx = Depends(ctx)) -> Page[NoticeOut]:
    rows = notices_between(c.engine, c.campaign, kind=kind, limit=p.fetch, offset=p.offset, seen_by=c.actor)
    return Page[NoticeOut](**page_of(rows, p, NoticeOut.of))


@router.get("/{ref}", response_model=NoticeText, summary="A notice, with its text")
def notice(ref: Ref, c: Ctx = Depends(ctx)) -> NoticeText:
    n = get_notice(c.engine, c.campaign, ref, seen_by=c.actor)
    return NoticeText(**NoticeOut.of(n).model_dump(), text=n.text)


@router.get("/{ref}/document", response_class=HTMLResponse, summary="The notice as its printable document (HTML)",
            responses={200: {"content": {"text/html": {}}}})
def document(ref: Ref, c: Ctx = Depends(ctx)) -> HTMLResponse:
    return HTMLResponse(get_notice(c.engine, c.campaign, ref, seen_by=c.actor).html)


_FORMATS = {"html": "text/html; charset=utf-8", "txt": "text/plain; charset=utf-8", "pdf": "application/pdf",
            "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


@router.get("/{ref}/download", summary="The notice as a file named by its document number (A4 per GB/T 9704)",
            responses={200: {"content": {m.split(";")[0]: {} for m in _FORMATS.values()}}})
def download(ref: Ref, format: Literal["html", "txt", "pdf", "docx"] = "html", c: Ctx = Depends(ctx)):
    from services.notices.export import file_stem, notice_bytes

    n = get_notice(c.engine, c.campaign, ref, seen_by=c.actor)
    content = n.html if format == "html" else n.text if format == "txt" else notice_bytes(n, format)
    return attachment(content, filename=f"{file_stem(n.doc_number)}.{format}", media_type=_FORMATS[format])
