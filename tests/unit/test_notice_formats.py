"""Notices as PDF and Word per GB/T 9704-2012: A4 pages, the parts in their places,
the title's text really in the file (not boxes), page numbers, and a clear refusal
when the CJK fonts are missing."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime

import docx
import pytest
from pypdf import PdfReader

from notifications.documents import fonts
from notifications.documents.notice_docx import STYLES, notice_docx
from notifications.documents.notice_pdf import _lines, notice_pdf
from notifications.documents.notices import render_notice
from notifications.documents.official import parse_notice
from statemachine.errors import Misconfigured
from statemachine.time.calendar import TZ

CONTEXT = {
    "issuer_name": "示例市交通运输局", "issuer_mark": "示例市交通运输局文件", "doc_number": "示交督〔2023〕7号",
    "addressee": "甲县交通运输局", "date": date(2023, 4, 8), "campaign_title": "示例专项整治",
    "grounds": "根据《示例专项整治实施方案》（示交发〔2023〕1号）有关要求",
    "facts": [f"问题“国道示例线第{i}处超限检测站违规设卡拦车”（编号XS-2023-0000{i}）未按期整改到位，"
              f"整改期限为2023年3月31日" for i in range(1, 9)],
    "required_action": "对照约谈指出的问题逐项整改", "deadline": date(2023, 4, 20),
    "interview_at": datetime(2023, 4, 12, 9, 30, tzinfo=TZ), "interview_place": "示例市交通运输局三楼会议室",
    "attendees": "你单位主要负责同志、分管负责同志", "cc": ["甲县交通运输局分管负责同志赵书涵", "示例市专项整治工作领导小组办公室"],
    "printer": "示例市交通运输局办公室", "attachments": ["问题清单", "整改报告模板"],
}


@pytest.fixture(scope="module")
def doc():
    return parse_notice(render_notice("interview", CONTEXT, check_code="12-ABCDEF01").html)


def test_the_html_reads_back_into_the_standards_parts(doc):
    assert (doc.mark, doc.number, doc.title, doc.addressee) == (
        "示例市交通运输局文件", "示交督〔2023〕7号", "约谈通知书", "甲县交通运输局：")
    assert [b.role for b in doc.body].count("fact") == 8 and doc.body[1].text.startswith("1. 问题“国道")
    assert [b.text for b in doc.body if b.role == "attachment"] == ["附件：1. 问题清单", "2. 整改报告模板"]
    assert (doc.signatory, doc.date, doc.seal) == ("示例市交通运输局", "2023年4月8日", True)
    assert doc.cc == "抄送：甲县交通运输局分管负责同志赵书涵，示例市专项整治工作领导小组办公室。"
    assert (doc.printer, doc.printed_on, doc.check_code) == ("示例市交通运输局办公室", "2023年4月8日印发",
                                                             "校验码：12-ABCDEF01")


def _pdf_text(data: bytes) -> list[str]:
    # pypdf reads fpdf2's two-byte ToUnicode entries of a CID font with a NUL before each
    # character (poppler's pdftotext reads them clean): both are dropped with the spaces
    return [re.sub(r"[\s\x00]+", "", p.extract_text()) for p in PdfReader(io.BytesIO(data)).pages]


def test_the_pdf_is_a4_with_its_parts_and_page_numbers(doc):
    data = notice_pdf(doc)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 2
    for page in reader.pages:  # A4: 595.28 × 841.89 pt
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    pages = _pdf_text(data)
    first, last = pages[0], pages[-1]
    assert first.startswith("示例市交通运输局文件示交督〔2023〕7号约谈通知书甲县交通运输局：")
    assert "于2023年4月12日9时30分到示例市交通运输局三楼会议室接受约谈" in "".join(pages)
    assert "抄送：" in last and last.index("示例市交通运输局办公室2023年4月8日印发") < last.index(f"—{len(pages)}—")
    for n, text in enumerate(pages, 1):
        assert f"—{n}—" in text
    assert reader.metadata.title == "约谈通知书"


def test_lines_never_start_with_closing_or_end_with_opening_punctuation():
    from fpdf import FPDF

    found = fonts.cjk_fonts()
    pdf = FPDF(format="A4", unit="mm")
    pdf.add_font("serif", "", str(found.regular), collection_font_number=found.regular_index)
    pdf.set_font("serif", "", 16)
    text = "根据《示例专项整治实施方案》（示交发〔2023〕1号）有关要求，经督导检查，你单位存在以下问题：" * 4
    for width in (40, 47, 55, 60, 83, 100):
        lines = _lines(pdf, text, width, 2 * pdf.get_string_width("字"))
        assert "".join(lines) == text
        assert not [ln for ln in lines[1:] if ln[0] in "，。、；：）》〕”"], (width, lines)
        assert not [ln for ln in lines[:-1] if ln[-1] in "（《〔“"], (width, lines)
        assert not [i for i in range(len(lines) - 1) if lines[i][-1].isdigit() and lines[i + 1][0].isdigit()]


def test_without_the_cjk_fonts_the_pdf_is_refused_in_one_line(tmp_path, doc):
    with pytest.raises(Misconfigured) as e:
        fonts.cjk_fonts((str(tmp_path),))
    assert str(e.value) == ("PDF notices need the Noto Serif CJK fonts, which are not installed "
                            "(apt-get install fonts-noto-cjk)")


def test_the_docx_is_a4_with_styles_and_a_page_number_field(doc):
    data = notice_docx(doc)
    word = docx.Document(io.BytesIO(data))
    s = word.sections[0]
    assert (round(s.page_width.mm), round(s.page_height.mm)) == (210, 297)
    assert [round(m.mm) for m in (s.top_margin, s.left_margin, s.right_margin, s.bottom_margin)] == [37, 28, 26, 35]
    styles = [p.style.name for p in word.paragraphs]
    assert styles[:4] == ["发文机关标志", "发文字号", "公文标题", "主送机关"] and set(styles) <= set(STYLES)
    texts = [p.text for p in word.paragraphs]
    assert texts[:4] == ["示例市交通运输局文件", "示交督〔2023〕7号", "约谈通知书", "甲县交通运输局："]
    assert "示例市交通运输局办公室\t2023年4月8日印发" in texts and "（印章）" in texts
    mark = word.paragraphs[0].style.font
    assert str(mark.color.rgb) == "CC0000" and mark.bold
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        footers = [z.read(n).decode() for n in z.namelist() if n.startswith("word/footer")]
        settings = z.read("word/settings.xml").decode()
    assert len([f for f in footers if "PAGE" in f and 'fldCharType="begin"' in f and "— " in f]) == 2  # odd, even
    assert "w:mirrorMargins" in settings and "w:evenAndOddHeaders" in settings
