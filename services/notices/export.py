"""Writing notices to files: each named by its 文号 (忻交督〔2023〕3号.pdf), in the
formats asked for.

`html` (the default, as before) writes the HTML and the plain text; `pdf` and
`docx` lay the stored HTML out per GB/T 9704-2012
(notifications/documents/notice_pdf.py, notice_docx.py). What a notice says
is what was issued: the files are made from the stored document, never
rendered again from today's plan or templates.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from statemachine.errors import InvalidInput

__all__ = ["FORMATS", "export_notices", "file_stem", "notice_bytes"]

FORMATS = ("html", "pdf", "docx")


def file_stem(doc_number: str) -> str:
    """The 文号 as a file name: 〔〕 kept (they are legal everywhere), path separators not."""
    return "".join("-" if c in '/\\:*?"<>|' else c for c in doc_number).strip(" .") or "notice"


def notice_bytes(notice, fmt: str) -> bytes:
    from notifications.documents.official import parse_notice

    if fmt == "pdf":
        from notifications.documents.notice_pdf import notice_pdf

        return notice_pdf(parse_notice(notice.html))
    if fmt == "docx":
        from notifications.documents.notice_docx import notice_docx

        return notice_docx(parse_notice(notice.html))
    raise InvalidInput(f"unknown notice format '{fmt}' (one of {', '.join(FORMATS)})")


def export_notices(notices, folder: Path, formats: Iterable[str] = ("html",)) -> int:
    """Write each notice in each format; returns the number of files written."""
    formats = list(dict.fromkeys(formats))
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise InvalidInput(f"unknown notice format '{bad[0]}' (one of {', '.join(FORMATS)})")
    if "pdf" in formats:  # refused before anything is written, not after the first file
        from notifications.documents.fonts import cjk_fonts

        cjk_fonts()
    n = 0
    for notice in notices:
        stem = file_stem(notice.doc_number)
        for fmt in formats:
            if fmt == "html":
                (folder / f"{stem}.html").write_text(notice.html, encoding="utf-8")
                (folder / f"{stem}.txt").write_text(notice.text, encoding="utf-8")
                n += 2
            else:
                (folder / f"{stem}.{fmt}").write_bytes(notice_bytes(notice, fmt))
                n += 1
    return n
