"""A generated report as PDF (notifications/documents/report_pdf.py) as an office reads
and prints it: A4, the figures of the other formats, headings, tables whose header
row comes again on every page, page numbers, 主送 / 落款 / date, the charts as
images, and the CJK fonts embedded (a PDF of boxes elsewhere otherwise)."""
from __future__ import annotations

import dataclasses
import re
from io import BytesIO

import pypdf
import pytest

from notifications.documents.report_pdf import blocks_of, report_pdf
from notifications.documents.reports import marked_markdown

from .test_report_documents import _data

A4 = (595.28, 841.89)  # points


def _text(page) -> str:
    # pypdf reads fpdf2's two-byte ToUnicode entries of a CID font with a NUL before each
    return re.sub(r"[\s\x00]+", "", page.extract_text())


def _fonts(reader) -> list[dict]:
    found = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                d = descendant.get_object()
                found[d["/BaseFont"]] = d["/FontDescriptor"].get_object()
    return list(found.values())


@pytest.fixture(scope="module", params=["monthly", "final"])
def report(request):
    data = _data(request.param)
    return data, pypdf.PdfReader(BytesIO(report_pdf(data)))


def test_a4_with_the_figures_headings_and_signature(report):
    data, reader = report
    box = reader.pages[0].mediabox
    size = (float(box.width), float(box.height))
    want = A4 if data.kind == "monthly" else A4[::-1]  # the final report's wide tables: landscape
    assert size == pytest.approx(want, abs=0.5)
    assert all((float(p.mediabox.width), float(p.mediabox.height)) == pytest.approx(want, abs=0.5)
               for p in reader.pages)
    text = "".join(_text(p) for p in reader.pages)
    assert text.startswith(re.sub(r"\s", "", data.title))
    assert "山西省交通运输厅：" in text and "校验码：128-1A2B3C4D" in text
    # every unit's figures, as the tables of the .md / .html / .docx give them
    assert "宁武县交通运输局1291266" in text and "88.9%" in text and "58.3%" in text
    assert "静乐县交通运输局831443" in text and "红色预警" in text and "蓝色提示" in text
    assert "整改率76.7%" in text
    assert ("一、总体情况" if data.kind == "monthly" else "一、工作情况") in text
    assert "忻州市交通运输局2023年5月31日" in text  # 落款 over the date
    assert "█" not in text and "@@CHARTS@@" not in text
    for n, page in enumerate(reader.pages, 1):  # page numbers "— n —" at the foot
        assert _text(page).endswith(f"—{n}—")


def test_the_charts_are_images_and_the_fonts_embedded(report):
    _, reader = report
    assert sum(len(p.images) for p in reader.pages) == 3  # burn-down, rates, weekly
    fonts = _fonts(reader)
    assert fonts and all(any(k in f for k in ("/FontFile", "/FontFile2", "/FontFile3")) for f in fonts)
    assert any("NotoSerifCJK" in f["/FontName"].replace(" ", "") for f in fonts)


def test_a_long_table_repeats_its_header_row_on_every_page():
    row = {"unit": "静乐县交通运输局", "aspect": "执法不规范问题", "summary": "辅警违规执法，群众反映强烈",
            "measures": "开展执法人员资格清理，辅警不得单独执法", "deadline": "2023-06-30", "state": "整改中",
            "stage_result": "已清理辅警12人", "long_term": "建立执法人员资格动态管理制度"}
    ledger = [dict(row, number=f"XZ-2023-{i:05d}") for i in range(1, 91)]
    data = dataclasses.replace(_data("final"), ledger=ledger, ledger_total=len(ledger))
    reader = pypdf.PdfReader(BytesIO(report_pdf(data)))
    pages = [_text(p) for p in reader.pages]
    holding = [t for t in pages if "辅警不得单独执法" in t]  # the pages with ledger rows
    assert len(holding) >= 3  # the ledger runs over several pages
    assert all("序号编号责任单位问题方面" in t for t in holding)
    assert all(f"XZ-2023-{i:05d}" in "".join(pages) for i in (1, 45, 90))


def test_the_blocks_are_the_markdowns():
    """What the PDF lays out is what the Markdown says: no section, table row or
    paragraph of the other formats is left out."""
    data = _data("monthly")
    md = marked_markdown(data)
    blocks = blocks_of(md)
    headings = [b.text for b in blocks if b.kind in ("h2", "h3")]
    assert headings == [line.lstrip("# ").strip() for line in md.splitlines() if re.match(r"#{2,3} ", line)]
    tables = [b for b in blocks if b.kind == "table"]
    md_rows = [line for line in md.splitlines() if line.startswith("|") and not line.startswith("|---")]
    assert sum(len(t.rows) for t in tables) == len(md_rows)
    assert [b.kind for b in blocks].count("charts") == 1
