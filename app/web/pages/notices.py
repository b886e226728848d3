"""The notices one sees (通报, 约谈通知书, 督办通知书 …: services/notices/issue.py
`notices_between`, as `GET /api/v1/notices`), a page at a time, and a notice as its
printable document: the stored HTML as issued, with the A4 print style."""
from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse

from services.accounts.accounts import Identity
from services.core.refs import MAX_INT
from services.notices.issue import notices_between
from services.work.reading import readable_notice

from ..api.common import Paging, page_of
from ..auth import signed_in
from ..deps import engine
from ..display import NOTICE_KINDS
from ..templating import render

__all__ = ["NOTICE_CSP", "NOTICE_PAGE", "router"]

router = APIRouter(include_in_schema=False)
NOTICE_PAGE = 50
# the stored notice is a whole document with its own <style> (notifications/documents/
# templates/_base.html.j2) and no script: its response may style itself, and nothing else
NOTICE_CSP = ("default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'none'")
PRINT_STYLE = '<link rel="stylesheet" href="/static/print.css">'
# on screen only (print.css hides it): the way back, and how to print without a script
PRINT_BAR = ('<div class="print-bar"><a href="/notices">← 通知文书</a>{case} · '
             '打印：使用浏览器的“打印”（Ctrl+P），A4 纸</div>')


@router.get("/notices")
def notice_list(request: Request, who: Identity = Depends(signed_in), kind: str = Query("", max_length=40),
                offset: int = Query(0, ge=0, le=MAX_INT)):
    p = Paging(NOTICE_PAGE, offset)
    rows = notices_between(engine(request), who.campaign, kind=kind or None, limit=p.fetch, offset=p.offset,
                           seen_by=who.actor)
    page = page_of(rows, p, lambda n: n)
    kept = {"kind": kind} if kind else {}

    def at(start: int) -> str:
        return "/notices?" + urlencode({**kept, **({"offset": start} if start else {})})

    return render(request, "notices.html", page=page, kind=kind, kinds=NOTICE_KINDS,
                  prev=at(max(offset - NOTICE_PAGE, 0)) if offset else None,
                  next=at(page["next_offset"]) if page["next_offset"] is not None else None)


@router.get("/notices/{notice_id}")
def notice_document(request: Request, notice_id: int, who: Identity = Depends(signed_in)):
    """The notice as issued (its stored HTML), with the A4 print style: print it from the browser."""
    notice = readable_notice(engine(request), who.campaign, notice_id, who.actor)
    case = f' · <a href="/cases/{notice.case_id}">督办 #{notice.case_id}</a>' if notice.case_id else ""
    html = notice.html.replace("</head>", PRINT_STYLE + "</head>", 1)
    head, body, rest = html.partition("<body>")
    if body:
        html = head + body + PRINT_BAR.format(case=case) + rest
    return HTMLResponse(html, headers={"content-security-policy": NOTICE_CSP})
