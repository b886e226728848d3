"""A generated report as a Word document (.docx, python-docx).

The .docx is laid out from the same Markdown as the .md and .html (converted
to HTML by python-markdown, then walked here), so the three never disagree:
headings, paragraphs with bold runs, lists and tables; charts appear as the
Markdown's text bars (Word cannot show the SVG without a raster library).
Fonts follow the usual official-document choice: 黑体 headings, 仿宋 body.
"""
from __future__ import annotations

from html.parser import HTMLParser
from io import BytesIO

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from statemachine.limits import document_text

from .reports import markdown_html

__all__ = ["markdown_to_docx"]

_BODY_FONT, _HEAD_FONT = "仿宋", "黑体"


def _font(run, name: str, size: float | None = None, bold: bool | None = None) -> None:
    run.font.name = name
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)  # CJK text
    if size:
        run.font.size = Pt(size)
    if bold is not None:
        run.bold = bold


class _Walker(HTMLParser):
    """python-markdown's output (h1-h3, p, ul/ol/li, table, strong/em, hr) into a Document."""

    def __init__(self, doc):
        super().__init__(convert_charrefs=True)
        self.doc = doc
        self.par = None          # the paragraph text goes into
        self.bold = False
        self.heading = 0
        self.lists: list[str] = []
        self.table: list[list[str]] | None = None
        self.cell: list[str] | None = None
        self.header_rows = 0

    # -- paragraphs ------------------------------------------------------------
    def _start(self, style: str | None = None):
        self.par = self.doc.add_paragraph(style=style)
        return self.par

    def handle_starttag(self, tag, attrs):
        if self.table is not None:
            if tag == "tr":
                self.table.append([])
            elif tag in ("td", "th"):
                self.cell = []
                if tag == "th" and len(self.table) == 1:
                    self.header_rows = 1
            return
        if tag in ("h1", "h2", "h3", "h4"):
            self.heading = int(tag[1])
            p = self._start()
            if self.heading == 1:
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif tag == "p":
            self._start()
        elif tag in ("ul", "ol"):
            self.lists.append(tag)
        elif tag == "li":
            self._start("List Number" if self.lists and self.lists[-1] == "ol" else "List Bullet")
        elif tag in ("strong", "b"):
            self.bold = True
        elif tag == "table":
            self.table, self.header_rows = [], 0
        elif tag == "hr":
            self.par = None

    def handle_endtag(self, tag):
        if self.table is not None:
            if tag in ("td", "th") and self.cell is not None:
                self.table[-1].append("".join(self.cell).strip())
                self.cell = None
            elif tag == "table":
                self._flush_table()
            return
        if tag in ("h1", "h2", "h3", "h4"):
            self.heading, self.par = 0, None
        elif tag in ("p", "li"):
            self.par = None
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag in ("strong", "b"):
            self.bold = False

    def handle_data(self, data):
        data = document_text(data)  # python-docx refuses what XML cannot hold; old rows may have it
        if self.cell is not None:
            self.cell.append(data)
            return
        if self.table is not None or not data.strip() and self.par is None:
            return
        if self.par is None:
            self._start()
        run = self.par.add_run(data)
        if self.heading:
            _font(run, _HEAD_FONT, {1: 18, 2: 15, 3: 13, 4: 12}[self.heading], True)
        else:
            _font(run, _BODY_FONT, 12, self.bold or None)

    def _flush_table(self):
        rows = [r for r in self.table if r]
        self.table = None
        if not rows:
            return
        width = max(len(r) for r in rows)
        t = self.doc.add_table(rows=len(rows), cols=width)
        t.style = "Table Grid"
        # row by row: python-docx's table.cell(i, j) rescans the whole grid each call
        for i, (row, cells) in enumerate(zip(rows, t.rows)):
            for j, cell in enumerate(cells.cells):
                # the font comes from the table style (set once): a run each is the slow part
                run = cell.paragraphs[0].add_run(row[j] if j < len(row) else "")
                if i < self.header_rows:
                    run.bold = True
        self.par = None


def markdown_to_docx(md: str, *, landscape: bool = False) -> bytes:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = _BODY_FONT
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), _BODY_FONT)
    doc.styles["Table Grid"].font.size = Pt(10.5)
    if landscape:  # the final report's ledger and unit tables are wide
        s = doc.sections[0]
        s.orientation, s.page_width, s.page_height = WD_ORIENT.LANDSCAPE, s.page_height, s.page_width
    walker = _Walker(doc)
    walker.feed(markdown_html(md))
    walker.close()
    out = BytesIO()
    doc.save(out)
    return out.getvalue()
