"""A generated report as a Word document (.docx, python-docx).

The .docx is laid out from the same Markdown as the .md and .html (converted
to HTML by python-markdown, then walked here), so the three never disagree:
headings, paragraphs with bold runs, lists and tables; the charts, which are
text bars in the Markdown, are PNG images here (graphs.png_for).

A 公文 as an office prints and files it (GB/T 9704-2012, docs/domain.md §10):
A4 with the standard's margins, the title in the Title style and the sections
in Heading 1/2/3 (so Word's navigation pane and a table of contents find them),
黑体 headings and 仿宋 body, page numbers "— 1 —" in the footer as a PAGE field,
the 主送 line flush left and the 落款 and date to the right. Warning words in
tables are coloured text (an emoji prints as a box).
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from io import BytesIO

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor

from statemachine.limits import document_text

from .reports import CHARTS_MARK, cn_date, markdown_html, marked_markdown, subtitle

__all__ = ["markdown_to_docx", "report_docx", "HEADING_STYLES", "WARNING_COLOURS"]

_BODY_FONT, _HEAD_FONT, _TITLE_FONT = "仿宋", "黑体", "方正小标宋简体"
_TITLE_FALLBACK = "宋体"  # where 小标宋 is not installed
# Markdown heading → Word style: the title, then the sections (一、…) and the 附件 under them
HEADING_STYLES = {1: "Title", 2: "Heading 1", 3: "Heading 2", 4: "Heading 3"}
_HEADING_SIZES = {"Title": 22, "Heading 1": 16, "Heading 2": 16, "Heading 3": 14}
WARNING_COLOURS = {"红色预警": RGBColor(0xC0, 0x00, 0x00), "黄色预警": RGBColor(0xB8, 0x86, 0x0B),
                   "蓝色提示": RGBColor(0x1F, 0x4E, 0x99)}
_BLACK = RGBColor(0, 0, 0)
_ANNEX = re.compile(r"^\d．")
_BODY_PT = 14


def _fonts(target, name: str, *, east_asia: str | None = None) -> None:
    """Latin and CJK font of a run or a style (python-docx sets the Latin one only)."""
    target.font.name = name
    element = target.element if hasattr(target, "element") else target._element
    element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asia or name)


def _styles(doc) -> None:
    normal = doc.styles["Normal"]
    _fonts(normal, _BODY_FONT)
    normal.font.size = Pt(_BODY_PT)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.25
    for style_name, size in _HEADING_SIZES.items():
        st = doc.styles[style_name]
        _fonts(st, _TITLE_FALLBACK if style_name == "Title" else _HEAD_FONT,
               east_asia=_TITLE_FONT if style_name == "Title" else _HEAD_FONT)
        st.font.size, st.font.color.rgb, st.font.bold, st.font.italic = Pt(size), _BLACK, style_name != "Title", False
        pf = st.paragraph_format
        pf.space_before, pf.space_after, pf.keep_with_next = Pt(12 if style_name != "Title" else 0), Pt(6), True
        if style_name == "Title":
            pf.alignment = WD_ALIGN_PARAGRAPH.CENTER
            # the Title style's bottom border is Word's look, not a 公文's
            pPr = st.element.get_or_add_pPr()
            for border in pPr.findall(qn("w:pBdr")):
                pPr.remove(border)
    doc.styles["Table Grid"].font.size = Pt(10.5)


def _page(section, *, landscape: bool) -> None:
    """A4 with GB/T 9704's margins (天头 37 mm, 订口 28 mm), portrait or landscape."""
    short, long_ = Mm(210), Mm(297)
    if landscape:
        section.orientation, section.page_width, section.page_height = WD_ORIENT.LANDSCAPE, long_, short
        section.top_margin, section.bottom_margin, section.left_margin, section.right_margin = \
            Mm(28), Mm(26), Mm(37), Mm(35)
    else:
        section.orientation, section.page_width, section.page_height = WD_ORIENT.PORTRAIT, short, long_
        section.top_margin, section.bottom_margin, section.left_margin, section.right_margin = \
            Mm(37), Mm(35), Mm(28), Mm(26)
    _page_number(section.footer.paragraphs[0])


def _page_number(par) -> None:
    """"— 1 —", the number a PAGE field Word and LibreOffice fill in."""
    par.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _fonts(par.add_run("— "), "宋体")
    run = par.add_run()
    _fonts(run, "宋体")
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        elif text.strip() == "PAGE":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        else:
            el = OxmlElement("w:t")
            el.text = text
        run._element.append(el)
    _fonts(par.add_run(" —"), "宋体")


class _Walker(HTMLParser):
    """python-markdown's output (h1-h4, p, br, ul/ol/li, table, strong/em, hr) into a Document."""

    def __init__(self, doc, *, charts: list[bytes], chart_width):
        super().__init__(convert_charrefs=True)
        self.doc = doc
        self.par = None          # the paragraph text goes into
        self.bold = False
        self.heading = 0
        self.lists: list[str] = []
        self.table: list[list[str]] | None = None
        self.cell: list[str] | None = None
        self.header_rows = 0
        self.charts, self.chart_width = charts, chart_width

    def _start(self, style: str | None = None, *, indent: bool = False):
        self.par = self.doc.add_paragraph(style=style)
        if indent:  # 首行缩进两字, as a 公文's body
            self.par.paragraph_format.first_line_indent = Pt(2 * _BODY_PT)
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
            self._start(HEADING_STYLES[self.heading])
        elif tag == "p":
            self._start(indent=True)
        elif tag == "br" and self.par is not None:
            self.par.add_run().add_break()
        elif tag in ("ul", "ol"):
            self.lists.append(tag)
        elif tag == "li":
            self._start("List Number" if self.lists and self.lists[-1] == "ol" else "List Bullet")
        elif tag in ("strong", "b"):
            self.bold = True
        elif tag == "table":
            self.table, self.header_rows = [], 0
        elif tag == "hr":  # the 附件 begin on a page of their own
            self._start().add_run().add_break(WD_BREAK.PAGE)
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
            if self.par is not None and self.par.text == CHARTS_MARK:
                self._pictures(self.par)
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
        if not self.heading and self.bold:
            run.bold = True

    def _pictures(self, par) -> None:
        """The charts where the Markdown has its text bars: one centred picture each."""
        par.paragraph_format.first_line_indent = None
        par.clear()
        if not self.charts:
            par.add_run("（暂无数据）")
            return
        for i, png in enumerate(self.charts):
            p = par if i == 0 else self.doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.add_run().add_picture(BytesIO(png), width=self.chart_width)

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
            if i < self.header_rows:  # the header repeats on every page the table runs onto
                trPr = cells._tr.get_or_add_trPr()
                trPr.append(OxmlElement("w:tblHeader"))
            for j, cell in enumerate(cells.cells):
                # the font comes from the table style (set once): a run each is the slow part
                text = row[j] if j < len(row) else ""
                run = cell.paragraphs[0].add_run(text)
                if i < self.header_rows:
                    run.bold = True
                elif text[:4] in WARNING_COLOURS:
                    run.font.color.rgb = WARNING_COLOURS[text[:4]]
                    run.bold = True
        self.par = None


def markdown_to_docx(md: str, *, landscape: bool = False, charts: list[bytes] = (), centred: tuple[str, ...] = (),
                     flush_left: tuple[str, ...] = (), flush_right: tuple[str, ...] = ()) -> bytes:
    """`charts`: PNGs for the paragraph that reads CHARTS_MARK; `flush_left` /
    `flush_right`: paragraphs (by their whole text) set without indent (主送) or to
    the right (落款, 成文日期)."""
    doc = Document()
    _styles(doc)
    _page(doc.sections[0], landscape=landscape)
    usable = doc.sections[0].page_width - doc.sections[0].left_margin - doc.sections[0].right_margin
    walker = _Walker(doc, charts=list(charts), chart_width=min(usable, Cm(16)))
    walker.feed(markdown_html(md))
    walker.close()
    for p in doc.paragraphs:
        if p.text in centred:
            p.paragraph_format.first_line_indent = None
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if _ANNEX.match(p.text):  # 附件说明's later lines, under the first one's name
            p.paragraph_format.first_line_indent, p.paragraph_format.left_indent = None, Pt(5 * _BODY_PT)
        if p.text in flush_left or p.text in flush_right:
            p.paragraph_format.first_line_indent = None
            if p.text in flush_right:
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                p.paragraph_format.right_indent = Pt(4 * _BODY_PT)  # 右空四字
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


def report_docx(data) -> bytes:
    """A generated report (services.reports.contents.ReportData) as Word: heading
    styles, A4 (landscape for the final report's wide tables), page numbers, the
    charts as images."""
    from .graphs import png_for

    charts = [png_for(name, s) for name, s in data.charts.items() if s.labels]
    return markdown_to_docx(marked_markdown(data), landscape=data.kind == "final", charts=charts,
                            centred=(subtitle(data),),
                            flush_left=(f"{data.addressee}：", "校验码：" + data.check_code),
                            flush_right=(data.signer, cn_date(data.dated)))
