"""A notice as PDF, laid out per GB/T 9704-2012 with fpdf2.

Why fpdf2: it is pure Python (a wheel on every platform, no system library
or browser), maintained, and embeds subsets of OpenType/CFF collections such
as Debian's Noto Serif CJK, so the PDF shows the same glyphs everywhere. The
alternatives weighed: WeasyPrint needs pango from the system; Chromium's
page.pdf needs a browser at run time (CI has one, a county's server often
not); reportlab cannot embed CFF-outline CJK fonts and its built-in CID fonts
leave the glyphs to the reader's machine. The fonts come from fonts-noto-cjk
(notifications/documents/fonts.py); without them this refuses in one line.

The page: A4, 天头 37 mm, 订口 28 mm, 版心 156 × 225 mm; 22 lines of 28
characters (the body's size is set so 28 fit the 版心); 发文机关标志 in red 35 mm
below the top of the 版心, 发文字号 two lines below it, the red separator 4 mm
under that; the title two lines down, bold serif (小标宋-style); 主送 flush left;
paragraphs indented two characters; 署名 centred over 成文日期, which stands four
characters from the right, under a dashed ring that marks the seal's place;
the 版记 (抄送, 印发机关 and 印发日期 between rules) at the foot of the last page;
page numbers "— 1 —" in 4号, odd pages right and even pages left, one
character in. Lines break between characters, never before closing or after
opening punctuation (避头尾), never inside a number or a Latin word.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .fonts import cjk_fonts
from .official import OfficialDocument

__all__ = ["notice_pdf", "PAGE_MM", "TEXT_MM"]

PAGE_MM = (210.0, 297.0)
TOP, LEFT, RIGHT, BOTTOM = 37.0, 28.0, 26.0, 35.0
TEXT_MM = (156.0, 225.0)
PITCH = TEXT_MM[1] / 22               # 22 lines per page
BODY_PT = TEXT_MM[0] / 28 / 25.4 * 72  # 28 characters per line (≈ 3号)
TITLE_PT, MARK_PT, RECORD_PT = 22.0, 36.0, 14.0
RED = (204, 0, 0)
_NO_START = set("，。、；：？！）》」』”’〕】…—·%‰,.;:?!)]}")
_NO_END = set("（《「『“‘〔【([{")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-/_%]*|\s+|.", re.S)


def _lines(pdf, text: str, width: float, first_indent: float = 0.0) -> list[str]:
    """Break `text` into lines no wider than `width` (mm), the first indented."""
    out, line, used, limit, full = [], "", 0.0, width - first_indent, False
    for tok in _TOKEN.findall(text):
        w = pdf.get_string_width(tok)
        if line and (full or used + w > limit + 1e-6):
            if tok[0] in _NO_START:   # closing marks hang on this line, however many
                line, used, full = line + tok, used + w, True
                continue
            carried = ""
            while line and line[-1] in _NO_END:  # an opening mark goes down with what it opens
                carried, line = line[-1] + carried, line[:-1]
            out.append(line)
            line, used, limit, full = carried, pdf.get_string_width(carried) if carried else 0.0, width, False
            if tok.isspace() and not line:
                continue
        line += tok
        used += w
    if line or not out:
        out.append(line)
    return out


def notice_pdf(doc: OfficialDocument) -> bytes:
    fonts = cjk_fonts()
    pdf = _pdf_class()(format="A4", unit="mm")
    pdf.add_font("serif", "", str(fonts.regular), collection_font_number=fonts.regular_index)
    pdf.add_font("serif", "B", str(fonts.bold), collection_font_number=fonts.bold_index)
    pdf.set_margins(LEFT, TOP, RIGHT)
    pdf.set_auto_page_break(True, BOTTOM)
    pdf.set_title(doc.title)
    pdf.set_creator("Rectify")
    pdf.add_page()
    w = TEXT_MM[0]

    # 版头
    if doc.mark:
        size = MARK_PT
        pdf.set_font("serif", "B", size)
        while pdf.get_string_width(doc.mark) > w and size > 14:
            size -= 1
            pdf.set_font("serif", "B", size)
        pdf.set_text_color(*RED)
        pdf.set_xy(LEFT, TOP + 35)  # 上边缘至版心上边缘 35 mm
        pdf.cell(w, size / 72 * 25.4 * 1.3, doc.mark, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.set_font("serif", "", BODY_PT)
    if doc.number:
        pdf.ln(PITCH * 1.5)
        pdf.cell(w, PITCH, doc.number, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(*RED)
    pdf.set_line_width(0.8)
    y = pdf.get_y() + 1
    pdf.line(LEFT, y, LEFT + w, y)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_y(y + PITCH * 1.5)

    # 主体
    pdf.set_font("serif", "B", TITLE_PT)
    for line in _lines(pdf, doc.title, w):
        pdf.cell(w, PITCH * 1.1, line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(PITCH)
    pdf.set_font("serif", "", BODY_PT)
    char = pdf.get_string_width("字")
    if doc.addressee:
        _para(pdf, doc.addressee, w, 0)
    previous = None
    for block in doc.body:
        if block.role == "attachment" and previous != "attachment":
            pdf.ln(PITCH)
        indent = 2 * char if block.role != "attachment" or previous != "attachment" else 5 * char
        _para(pdf, block.text, w, indent, hanging=block.role == "attachment" and previous == "attachment")
        previous = block.role
    if doc.signatory or doc.date:
        _signature(pdf, doc, w, char)
    if doc.note:
        pdf.ln(PITCH)
        _para(pdf, doc.note, w, 2 * char)
    _record(pdf, doc, w)
    return bytes(pdf.output())


def _para(pdf, text: str, w: float, indent: float, *, hanging: bool = False) -> None:
    for i, line in enumerate(_lines(pdf, text, w, indent)):
        pdf.set_x(pdf.l_margin + (indent if i == 0 or hanging else 0))
        pdf.cell(w - (indent if i == 0 or hanging else 0), PITCH, line, new_x="LMARGIN", new_y="NEXT")


def _signature(pdf, doc: OfficialDocument, w: float, char: float) -> None:
    if pdf.get_y() + PITCH * 4 > PAGE_MM[1] - BOTTOM:
        pdf.add_page()
    pdf.ln(PITCH * 2)
    date_w = pdf.get_string_width(doc.date)
    right = pdf.l_margin + w - 4 * char             # 成文日期右空四字
    centre = right - date_w / 2                     # 署名 centred over the date
    top = pdf.get_y()
    for text in (doc.signatory, doc.date):
        if text:
            tw = pdf.get_string_width(text)
            pdf.set_xy(centre - tw / 2, pdf.get_y())
            pdf.cell(tw, PITCH, text, new_x="LMARGIN", new_y="NEXT")
    if doc.seal:  # the seal's place: a dashed ring pressing on 署名 and 日期
        pdf.set_draw_color(*RED)
        pdf.set_line_width(0.3)
        pdf.set_dash_pattern(dash=1.5, gap=1.5)
        mid = top + PITCH
        pdf.circle(x=centre, y=mid, radius=21)
        pdf.set_dash_pattern()
        pdf.set_draw_color(0, 0, 0)


def _record(pdf, doc: OfficialDocument, w: float) -> None:
    rows = [r for r in (doc.cc, f"{doc.printer}\t{doc.printed_on}" if doc.printer or doc.printed_on else "") if r]
    if not rows:  # an override without a 版记: the check code closes the text
        if doc.check_code:
            pdf.set_font("serif", "", 10.5)
            pdf.cell(w, PITCH * 0.8, doc.check_code, align="R", new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("serif", "", BODY_PT)
        return
    pdf.set_font("serif", "", RECORD_PT)
    one = pdf.get_string_width("字")
    cc_lines = _lines(pdf, doc.cc, w - 2 * one) if doc.cc else []
    height = (len(cc_lines) + 1) * PITCH * 0.8 + 2 + (PITCH if doc.check_code else 0)
    bottom = PAGE_MM[1] - BOTTOM
    if pdf.get_y() + height > bottom:
        pdf.add_page()
    y = bottom - height + (PITCH if doc.check_code else 0)   # 版记 at the foot of the last page
    if doc.check_code:             # clear of the seal's ring, just above the 版记
        pdf.set_font("serif", "", 10.5)
        pdf.set_xy(LEFT, y - PITCH * 0.8)
        pdf.cell(w, PITCH * 0.7, doc.check_code, align="R")
        pdf.set_font("serif", "", RECORD_PT)
    pdf.set_line_width(0.35)
    pdf.line(LEFT, y, LEFT + w, y)
    y += 1
    for i, line in enumerate(cc_lines):
        pdf.set_xy(LEFT + one + (0 if i == 0 else pdf.get_string_width("抄送：")), y)
        pdf.cell(w - 2 * one, PITCH * 0.8, line)
        y += PITCH * 0.8
    if cc_lines:
        pdf.set_line_width(0.25)
        pdf.line(LEFT, y, LEFT + w, y)
        y += 0.5
    if doc.printer or doc.printed_on:
        pdf.set_xy(LEFT + one, y)
        pdf.cell(w / 2, PITCH * 0.8, doc.printer)
        pdf.set_xy(LEFT + w / 2, y)
        pdf.cell(w / 2 - one, PITCH * 0.8, doc.printed_on, align="R")
        y += PITCH * 0.8
    pdf.set_line_width(0.35)
    pdf.line(LEFT, y + 0.5, LEFT + w, y + 0.5)
    pdf.set_font("serif", "", BODY_PT)


@lru_cache(maxsize=1)
def _pdf_class():
    from fpdf import FPDF  # imported when a PDF is asked for: the CLI's other paths stay light

    class Pdf(FPDF):
        def footer(self) -> None:
            # 4号 "— N —" 7 mm under the 版心: odd pages right, even pages left, one character in
            self.set_y(PAGE_MM[1] - BOTTOM + 7)
            self.set_font("serif", "", RECORD_PT)
            one = self.get_string_width("字")
            even = self.page_no() % 2 == 0
            self.set_x(LEFT + one if even else LEFT)
            self.cell(TEXT_MM[0] - one, 7, f"— {self.page_no()} —", align="L" if even else "R")
    return Pdf
