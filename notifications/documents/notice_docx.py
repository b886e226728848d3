"""A notice as a Word document (.docx), laid out per GB/T 9704-2012 with python-docx.

The form an office edits, stamps and files. A4 with the standard's margins
(天头 37 mm, 订口 28 mm, 版心 156 × 225 mm; mirrored so 订口 stays on the
binding side), named paragraph styles for each part (公文标题, 公文正文, 主送机关,
署名, 版记 …: restyling one restyles every notice), East Asian fonts named as
offices have them (方正小标宋简体 for the title, 仿宋_GB2312 for the body, 黑体
nowhere), 28 characters by 22 lines (a document grid), the red 发文机关标志 and
separator, the seal's place, the 版记 between rules, and page numbers "— 1 —"
from a PAGE field: odd pages right, even pages left.
"""
from __future__ import annotations

from io import BytesIO

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from .official import OfficialDocument

__all__ = ["notice_docx", "STYLES"]

BODY_FONT, TITLE_FONT, LATIN = "仿宋_GB2312", "方正小标宋简体", "Times New Roman"
BODY_PT, TITLE_PT, MARK_PT, RECORD_PT = 16, 22, 36, 14
LINE_PT = 225 / 22 / 25.4 * 72   # 22 lines in the 225 mm 版心
RED = RGBColor(0xCC, 0x00, 0x00)
STYLES = ("发文机关标志", "发文字号", "公文标题", "主送机关", "公文正文", "附件说明", "署名", "成文日期", "附注", "版记")


def _fonts(target, east_asian: str, size: float, *, bold: bool = False, colour: RGBColor | None = None) -> None:
    font = target.font
    font.name, font.size, font.bold = LATIN, Pt(size), bold
    if colour is not None:
        font.color.rgb = colour
    target.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asian)


def _style(doc, name: str, east_asian: str, size: float, *, bold=False, colour=None, align=None,
           indent_chars: float = 0, space_before: float = 0):
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    _fonts(style, east_asian, size, bold=bold, colour=colour)
    fmt = style.paragraph_format
    fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(LINE_PT)
    fmt.space_before, fmt.space_after = Pt(space_before), Pt(0)
    if align is not None:
        fmt.alignment = align
    if indent_chars:
        fmt.first_line_indent = Pt(size * indent_chars)
    return style


def _border(paragraph, edge: str, *, size_eighths: int, colour: str = "000000") -> None:
    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.append(borders)
    line = OxmlElement(f"w:{edge}")
    for k, v in (("w:val", "single"), ("w:sz", str(size_eighths)), ("w:space", "1"), ("w:color", colour)):
        line.set(qn(k), v)
    borders.append(line)


def _page_field(paragraph) -> None:
    paragraph.add_run("— ")
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText" if text.strip() == "PAGE" else "w:t")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)
    paragraph.add_run(" —")


def _setup(doc) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(35 - 7 - 6)
    doc.settings.odd_and_even_pages_header_footer = True   # page numbers alternate sides
    settings = doc.settings.element   # 订口 on the binding side; in its place in the schema's order
    zoom = settings.find(qn("w:zoom"))
    mirror = OxmlElement("w:mirrorMargins")
    if zoom is not None:
        zoom.addnext(mirror)
    else:
        settings.insert(0, mirror)
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    grid.set(qn("w:type"), "linesAndChars")
    grid.set(qn("w:linePitch"), str(round(LINE_PT * 20)))
    grid.set(qn("w:charSpace"), "0")
    _fonts(doc.styles["Normal"], BODY_FONT, BODY_PT)
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT), (section.even_page_footer,
                                                                       WD_ALIGN_PARAGRAPH.LEFT)):
        p = footer.paragraphs[0]
        p.alignment = align
        indent = Pt(RECORD_PT)
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            p.paragraph_format.right_indent = indent
        else:
            p.paragraph_format.left_indent = indent
        _page_field(p)
        for run in p.runs:
            _fonts(run, "宋体", RECORD_PT)
    _style(doc, "发文机关标志", TITLE_FONT, MARK_PT, bold=True, colour=RED, align=WD_ALIGN_PARAGRAPH.CENTER,
           space_before=Mm(35).pt - LINE_PT)
    _style(doc, "发文字号", BODY_FONT, BODY_PT, align=WD_ALIGN_PARAGRAPH.CENTER, space_before=2 * LINE_PT)
    _style(doc, "公文标题", TITLE_FONT, TITLE_PT, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
           space_before=2 * LINE_PT)
    _style(doc, "主送机关", BODY_FONT, BODY_PT, space_before=LINE_PT)
    _style(doc, "公文正文", BODY_FONT, BODY_PT, indent_chars=2, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _style(doc, "附件说明", BODY_FONT, BODY_PT, indent_chars=2)
    _style(doc, "署名", BODY_FONT, BODY_PT, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _style(doc, "成文日期", BODY_FONT, BODY_PT, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _style(doc, "附注", BODY_FONT, BODY_PT, indent_chars=2, space_before=LINE_PT)
    _style(doc, "版记", BODY_FONT, RECORD_PT)


def notice_docx(doc_parts: OfficialDocument) -> bytes:
    d = doc_parts
    doc = Document()
    _setup(doc)
    doc.core_properties.title = d.title
    body = doc.paragraphs[0] if doc.paragraphs else None
    if body is not None:
        body._p.getparent().remove(body._p)
    if d.mark:
        doc.add_paragraph(d.mark, style="发文机关标志")
    number = doc.add_paragraph(d.number, style="发文字号")
    _border(number, "bottom", size_eighths=24, colour="CC0000")   # the red separator, 3 pt
    doc.add_paragraph(d.title, style="公文标题")
    doc.add_paragraph(d.addressee, style="主送机关")
    previous = None
    for block in d.body:
        if block.role == "attachment":
            p = doc.add_paragraph(block.text, style="附件说明")
            if previous != "attachment":
                p.paragraph_format.space_before = Pt(LINE_PT)
            else:
                p.paragraph_format.left_indent = Pt(BODY_PT * 5)
                p.paragraph_format.first_line_indent = Pt(0)
        else:
            doc.add_paragraph(block.text, style="公文正文")
        previous = block.role
    # 署名 centred over 成文日期, which stands four characters in from the right; the seal's place
    width = max(len(d.signatory), len(d.date))
    right = Pt(BODY_PT * 4)
    if d.seal:
        seal = doc.add_paragraph("（印章）", style="署名")
        seal.paragraph_format.space_before = Pt(2 * LINE_PT)
        seal.paragraph_format.right_indent = Pt(BODY_PT * (4 + (width - 4) / 2))
        for run in seal.runs:
            run.font.color.rgb = RED
    for text, style in ((d.signatory, "署名"), (d.date, "成文日期")):
        if text:
            p = doc.add_paragraph(text, style=style)
            p.paragraph_format.right_indent = Pt(BODY_PT * (4 + (width - len(text)) / 2)) if text != d.date \
                else right
    if d.note:
        doc.add_paragraph(d.note, style="附注")
    if d.check_code:
        p = doc.add_paragraph(d.check_code, style="署名")
        for run in p.runs:
            run.font.size = Pt(10.5)
    rows = []
    if d.cc:
        rows.append(doc.add_paragraph(d.cc, style="版记"))
    if d.printer or d.printed_on:
        p = doc.add_paragraph(style="版记")
        p.paragraph_format.tab_stops.add_tab_stop(Mm(156) - Pt(RECORD_PT), alignment=2)  # right tab
        p.add_run(f"{d.printer}\t{d.printed_on}")
        rows.append(p)
    for i, p in enumerate(rows):
        p.paragraph_format.left_indent = p.paragraph_format.right_indent = Pt(RECORD_PT)
        if i == 0:
            p.paragraph_format.space_before = Pt(2 * LINE_PT)
            p.paragraph_format.keep_with_next = True
            _border(p, "top", size_eighths=8)        # thick first line (≈ 0.35 mm)
        _border(p, "bottom", size_eighths=8 if i == len(rows) - 1 else 4)
    out = BytesIO()
    doc.save(out)
    return out.getvalue()
