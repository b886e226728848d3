"""A generated report as PDF, by the route the notices take (fpdf2, the Noto Serif CJK
fonts of fonts.py embedded), from the same Markdown as the .md, .html and .docx.

The Markdown is converted to HTML (reports.markdown_html) and walked here into
blocks (headings, paragraphs, list items, tables, the charts' place, the page
break before the 附件), so the PDF never says anything the other formats do not.
Laid out as word.py lays out the .docx: A4 with GB/T 9704's margins (landscape
for the final report's wide tables), the title centred in bold, the sections in
bold, paragraphs indented two characters, the period line centred, 主送 flush
left, 落款 and date to the right (右空四字), page numbers "— 1 —" centred at the
foot. A table's header row is drawn again at the top of every page the table
runs onto; warning words in tables are coloured text. The charts are the PNGs
Word gets (graphs.png_for).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from io import BytesIO

from statemachine.limits import document_text

from .fonts import cjk_fonts
from .notice_pdf import _lines
from .reports import CHARTS_MARK, cn_date, markdown_html, marked_markdown, subtitle

__all__ = ["Block", "markdown_to_pdf", "report_pdf"]

BODY_PT, TABLE_PT, FOOT_PT = 14.0, 10.0, 12.0
_HEADING_PT = {1: 20.0, 2: 16.0, 3: 15.0, 4: 14.0}
_MARGINS = {False: (37.0, 28.0, 26.0, 35.0), True: (28.0, 37.0, 35.0, 26.0)}  # top, left, right, bottom
_WARNING_COLOURS = {"红色预警": (0xC0, 0x00, 0x00), "黄色预警": (0xB8, 0x86, 0x0B), "蓝色提示": (0x1F, 0x4E, 0x99)}
_LINE = 1.6  # line height as a multiple of the font size
_ANNEX = re.compile(r"^\d．")  # 附件说明's later lines, under the first one's name (as word.py sets them)


@dataclass
class Block:
    """One thing on the page: h1..h4, p, li, table (rows; the first the header), charts, break."""

    kind: str
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    header: bool = False


class _Blocks(HTMLParser):
    """python-markdown's output (h1-h4, p, br, ul/ol/li, table, strong/em, hr) as blocks."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.open: Block | None = None
        self.table: Block | None = None
        self.cell: list[str] | None = None
        self.numbers: list[int | None] = []  # per open list: the next number, None for bullets

    def handle_starttag(self, tag, attrs):
        if self.table is not None:
            if tag == "tr":
                self.table.rows.append([])
            elif tag in ("td", "th"):
                self.cell = []
                if tag == "th" and len(self.table.rows) == 1:
                    self.table.header = True
            return
        if tag in ("h1", "h2", "h3", "h4", "p"):
            self.open = Block(tag)
        elif tag in ("ul", "ol"):
            self.numbers.append(1 if tag == "ol" else None)
        elif tag == "li":
            number = self.numbers[-1] if self.numbers else None
            self.open = Block("li", text=f"{number}. " if number else "· ")
            if number:
                self.numbers[-1] = number + 1
        elif tag == "br" and self.open is not None:
            self.open.text += "\n"
        elif tag == "table":
            self.table = Block("table")
        elif tag == "hr":
            self.blocks.append(Block("break"))

    def handle_endtag(self, tag):
        if self.table is not None:
            if tag in ("td", "th") and self.cell is not None:
                self.table.rows[-1].append(" ".join("".join(self.cell).split()))
                self.cell = None
            elif tag == "table":
                self.table.rows = [r for r in self.table.rows if r]
                if self.table.rows:
                    self.blocks.append(self.table)
                self.table = None
            return
        if tag in ("h1", "h2", "h3", "h4", "p", "li") and self.open is not None:
            text = self.open.text.strip()
            if text == CHARTS_MARK:
                self.blocks.append(Block("charts"))
            elif text:
                self.open.text = text
                self.blocks.append(self.open)
            self.open = None
        elif tag in ("ul", "ol") and self.numbers:
            self.numbers.pop()

    def handle_data(self, data):
        data = document_text(data)
        if self.cell is not None:
            self.cell.append(data)
        elif self.table is None and self.open is not None:
            self.open.text += data


def blocks_of(md: str) -> list[Block]:
    walker = _Blocks()
    walker.feed(markdown_html(md))
    walker.close()
    return walker.blocks


@lru_cache(maxsize=1)
def _pdf_class():
    from fpdf import FPDF

    class Pdf(FPDF):
        def footer(self) -> None:
            self.set_y(-(self.b_margin - 7))
            self.set_font("serif", "", FOOT_PT)
            self.set_text_color(0, 0, 0)
            self.cell(0, 7, f"— {self.page_no()} —", align="C")
    return Pdf


def markdown_to_pdf(md: str, *, title: str = "", landscape: bool = False, charts: list[bytes] = (),
                    centred: tuple[str, ...] = (), flush_left: tuple[str, ...] = (),
                    flush_right: tuple[str, ...] = ()) -> bytes:
    """`charts`: PNGs for the paragraph that reads CHARTS_MARK; `centred`, `flush_left`
    and `flush_right`: paragraphs (by their whole text) set centred (the period line),
    without indent (主送) or to the right (落款, 成文日期)."""
    fonts = cjk_fonts()
    top, left, right, bottom = _MARGINS[landscape]
    pdf = _pdf_class()(orientation="L" if landscape else "P", format="A4", unit="mm")
    pdf.add_font("serif", "", str(fonts.regular), collection_font_number=fonts.regular_index)
    pdf.add_font("serif", "B", str(fonts.bold), collection_font_number=fonts.bold_index)
    pdf.set_margins(left, top, right)
    pdf.set_auto_page_break(True, bottom)
    pdf.set_title(title)
    pdf.set_creator("Rectify")
    pdf.add_page()
    width = pdf.w - left - right
    pictures = list(charts)
    for block in blocks_of(md):
        if block.kind == "break":
            pdf.add_page()
        elif block.kind == "table":
            _table(pdf, block, width)
        elif block.kind == "charts":
            _charts(pdf, pictures, width)
        elif block.kind.startswith("h"):
            level = int(block.kind[1])
            pdf.set_font("serif", "B", _HEADING_PT[level])
            if level > 1:
                pdf.ln(_HEADING_PT[level] / 72 * 25.4 * 0.5)
            _text(pdf, block.text, width, size=_HEADING_PT[level], align="C" if level == 1 else "L")
        else:
            pdf.set_font("serif", "", BODY_PT)
            if block.text in centred:
                _text(pdf, block.text, width, size=BODY_PT, align="C")
            elif block.text in flush_right:
                _text(pdf, block.text, width - 4 * pdf.get_string_width("字"), size=BODY_PT, align="R")
            else:
                chars = 0 if block.text in flush_left or block.kind == "li" else 5 if _ANNEX.match(block.text) else 2
                indent = chars * pdf.get_string_width("字")
                _text(pdf, block.text, width, size=BODY_PT, indent=indent)
    return bytes(pdf.output())


def _text(pdf, text: str, width: float, *, size: float, align: str = "L", indent: float = 0.0) -> None:
    """Lines broken between characters (避头尾, numbers and Latin words whole: notice_pdf)."""
    height = size / 72 * 25.4 * _LINE
    for part in text.split("\n"):
        for i, line in enumerate(_lines(pdf, part, width, indent)):
            shift = indent if i == 0 and align == "L" else 0.0
            pdf.set_x(pdf.l_margin + shift)
            pdf.cell(width - shift, height, line, align=align, new_x="LMARGIN", new_y="NEXT")


def _charts(pdf, pictures: list[bytes], width: float) -> None:
    if not pictures:
        pdf.set_font("serif", "", BODY_PT)
        _text(pdf, "（暂无数据）", width, size=BODY_PT, align="C")
        return
    w = min(width, 160.0)
    for png in pictures:
        pdf.image(BytesIO(png), x=pdf.l_margin + (width - w) / 2, w=w)
        pdf.ln(2)


def _table(pdf, block: Block, width: float) -> None:
    from fpdf.enums import TableCellFillMode
    from fpdf.fonts import FontFace

    columns = max(len(r) for r in block.rows)
    rows = [r + [""] * (columns - len(r)) for r in block.rows]
    pdf.set_font("serif", "", TABLE_PT)
    pdf.ln(1)
    # each column as wide as its longest cell asks (a header may take two lines), within
    # bounds, shared out over the width: a figure or a warning word is never broken
    body = rows[1:] if block.header else rows
    wanted = [min(max(max([pdf.get_string_width(r[j]) for r in body] + [0.0]),
                      pdf.get_string_width(rows[0][j]) / 2, 9.0) + 3.0, 60.0) for j in range(columns)]
    head = FontFace(emphasis="BOLD", fill_color=(238, 238, 238))
    with pdf.table(width=width, col_widths=tuple(wanted), headings_style=head, first_row_as_headings=block.header,
                   repeat_headings=1, line_height=TABLE_PT / 72 * 25.4 * 1.4, text_align="LEFT",
                   cell_fill_mode=TableCellFillMode.NONE, padding=1) as table:
        for row in rows:
            r = table.row()
            for text in row:
                colour = _WARNING_COLOURS.get(text[:4])
                r.cell(text, style=FontFace(emphasis="BOLD", color=colour) if colour else None)
    pdf.ln(2)


def report_pdf(data) -> bytes:
    """A generated report (services.reports.contents.ReportData) as an A4 PDF: the final
    report landscape, its charts as images, the fonts embedded."""
    from .graphs import png_for

    charts = [png_for(name, s) for name, s in data.charts.items() if s.labels]
    return markdown_to_pdf(marked_markdown(data), title=data.title, landscape=data.kind == "final", charts=charts,
                           centred=(subtitle(data),),
                           flush_left=(f"{data.addressee}：", "校验码：" + data.check_code),
                           flush_right=(data.signer, cn_date(data.dated)))
