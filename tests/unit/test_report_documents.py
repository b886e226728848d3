"""A report's text section by section against golden files, and its Word and Excel
forms as an office prints them: from fixed, fictional figures (no database).

Golden files: tests/fixtures/reports/<kind>-<nn>.md, one per section (the part
before the first section is 00: title, period line, 校验码, 主送). After a
deliberate change of wording, regenerate with RECTIFY_UPDATE_GOLDEN=1 and read
the diff as the receiving office would.
"""
from __future__ import annotations

import os
import re
from datetime import date, datetime
from io import BytesIO
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn
from docx.shared import Mm

from notifications.documents.graphs import Series
from notifications.documents.reports import render_html, render_markdown
from notifications.documents.word import report_docx
from notifications.documents.workbook import report_workbook
from services.reports.contents import ReportData, Span, UnitRow
from statemachine.reports.counting import Figures
from statemachine.time.calendar import TZ

GOLDEN = Path(__file__).resolve().parent.parent / "fixtures" / "reports"
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B55]")


def _data(kind: str, *, provisional: bool = False) -> ReportData:
    as_of = datetime(2023, 5, 31, 23, 59, 59, tzinfo=TZ) if not provisional else datetime(2023, 5, 9, 2, 0, tzinfo=TZ)
    span = Span("2023-05", date(2023, 5, 1), date(2023, 5, 31), "2023年5月") if kind == "monthly" else \
        Span("final", date(2023, 3, 15), date(2023, 10, 31), "2023年3月至2023年10月")
    units = [UnitRow("county-a", "宁武县交通运输局", 1, Figures(clues=12, concluded=9, ongoing=1, in_progress=2,
                                                           self_inspection=6, self_rectified=6), 0, 1, 0, "blue"),
             UnitRow("county-b", "静乐县交通运输局", 1, Figures(clues=8, concluded=3, ongoing=1, in_progress=4,
                                                           self_inspection=4, self_rectified=3), 2, 0, 3, "red")]
    total = units[0].figures + units[1].figures
    issued = datetime(2023, 5, 16, 9, 30, tzinfo=TZ)
    labels = ("3-17", "3-24", "3-31", "4-07")
    ranked = [dict(rank=1, name="宁武县交通运输局", score="86.50", assessed=True, closed=9, closed_on_time=8, extended=1,
                   lapses=0, escalations=0),
              dict(rank=2, name="静乐县交通运输局", score="41.20", assessed=True, closed=3, closed_on_time=1, extended=2,
                   lapses=3, escalations=2)]
    return ReportData(
        campaign=dict(code="xinzhou-2023", title="全市交通运输执法领域突出问题专项整治工作实施方案",
                      doc_number="忻交发〔2023〕56号", issuing_unit="忻州市交通运输局"),
        unit=dict(code="city", name="忻州市交通运输局"), kind=kind,
        kind_label={"monthly": "工作月报", "final": "工作总结报告"}[kind], span=span, as_of=as_of,
        figures=total, period=dict(received=7, concluded=5), units=units, overdue_total=2,
        overdue=[dict(number="XZ-2023-00017", unit="静乐县交通运输局", summary="违规设置限高架未拆除", state="整改中",
                      due=datetime(2023, 5, 20, 23, 59, 59, tzinfo=TZ), days=11),
                 dict(number="XZ-2023-00021", unit="静乐县交通运输局", summary="执法记录仪未全程记录", state="核查中",
                      due=datetime(2023, 5, 25, 23, 59, 59, tzinfo=TZ), days=6)],
        lapses={"整改逾期": 2, "未按期报送": 1},
        escalations=dict(issued=2, resolved=1, open=1,
                         by_level={"通报批评": 1, "函询约谈": 1, "挂牌督办": 0, "追责问责": 0, "移交纪检监察": 0},
                         list=[dict(unit="静乐县交通运输局", measure="通报批评", cause="整改逾期", issued=issued,
                                    state="已下发"),
                               dict(unit="静乐县交通运输局", measure="函询约谈", cause="通报批评后仍未整改到位",
                                    issued=issued, state="待回复")]),
        reports=dict(on_time=24, late=1, missing=1, missed=[("静乐县交通运输局", 1)]),
        stages=[dict(stage="安排部署", units=0), dict(stage="自查自纠", units=2), dict(stage="已完成", units=0)],
        rounds=[dict(code="lb-1", title="整改“回头看”第一轮", kind="整改“回头看”", state="已结束", selected=6,
                     relapsed=1, faked=0)],
        aspects=[dict(name="“逐利执法”问题", count=18, done=14), dict(name="执法不规范问题", count=12, done=8)],
        typical=[dict(number="XZ-2023-00003", unit="宁武县交通运输局", aspect="“逐利执法”问题",
                      summary="下达罚没指标", measures="取消罚没指标，修订考核办法", evidence="宁武县/考核办法.pdf",
                      effect="已整改到位，经审核销号", note="正面典型", auto=False)],
        typical_required=3 if kind == "final" else 0,
        accountability=[dict(unit="静乐县交通运输局", reason="整改弄虚作假", text="对相关责任人予以诫勉谈话")]
        if kind == "final" else [],
        exemptions=[],
        transfers=[dict(unit="静乐县交通运输局", number="XZ-2023-00030", reason="涉嫌违纪", organ=None, item=True)]
        if kind == "final" else [],
        ledger=[dict(number="XZ-2023-00030", unit="静乐县交通运输局", aspect="执法不规范问题", summary="辅警违规执法",
                     measures=None, deadline=None, state="移交纪检监察", stage_result=None, long_term=None)]
        if kind == "final" else [],
        ledger_total=1 if kind == "final" else 0,
        charts={"burn_down": Series("未办结问题数（按周）", labels, (("未办结", (0, 16, 14, 11)),
                                                                ("累计受理", (0, 16, 20, 24)))),
                "rate": Series("各单位整改率（%）", ("宁武县交通运输局", "静乐县交通运输局"), (("整改率", (88.9, 58.3)),)),
                "weekly": Series("每周逾期与督办", labels, (("新增逾期", (0, 0, 1, 2)), ("督办措施", (0, 0, 0, 1))))},
        check_code="128-1A2B3C4D", title=f"忻州市交通运输局关于全市交通运输执法领域突出问题专项整治工作情况的"
                                         f"{'月报' if kind == 'monthly' else '总结报告'}",
        addressee="山西省交通运输厅", signer="忻州市交通运输局", dated=as_of.date(), provisional=provisional,
        ranking=dict(period=span.label, rows=ranked, red=ranked[:1], black=ranked[1:]))


def _sections(md: str) -> list[str]:
    """The text before the first section, then each section from its heading on."""
    parts = re.split(r"(?m)^(?=#{2,3} )", md)
    return [p.strip() + "\n" for p in parts]


@pytest.mark.parametrize("kind", ["monthly", "final"])
def test_each_section_reads_as_its_golden_file(kind):
    sections = _sections(render_markdown(_data(kind)))
    GOLDEN.mkdir(parents=True, exist_ok=True)
    if os.environ.get("RECTIFY_UPDATE_GOLDEN"):
        for old in GOLDEN.glob(f"{kind}-*.md"):
            old.unlink()
        for i, text in enumerate(sections):
            (GOLDEN / f"{kind}-{i:02d}.md").write_text(text, encoding="utf-8")
    golden = sorted(GOLDEN.glob(f"{kind}-*.md"))
    assert len(golden) == len(sections), [s.splitlines()[0] for s in sections]
    for path, text in zip(golden, sections):
        assert text == path.read_text(encoding="utf-8"), path.name


def test_the_report_is_its_own_document():
    md = render_markdown(_data("monthly"))
    lines = md.splitlines()
    assert lines[0] == "# 忻州市交通运输局关于全市交通运输执法领域突出问题专项整治工作情况的月报"
    assert "工作实施方案工作月报" not in md and "忻交发〔2023〕56号" not in md  # the plan's 文号 is the plan's
    assert lines[2] == "（2023年5月，统计截至2023年5月31日23时59分）"
    assert "山西省交通运输厅：" in lines and lines.index("忻州市交通运输局") < lines.index("2023年5月31日")
    # 四、督办情况 is a table (a blank line before it) with the states in Chinese
    sup = md.split("## 四、督办情况", 1)[1].split("## 五", 1)[0]
    assert "\n\n| 单位 | 措施 | 事由 | 下发时间 | 状态 |" in sup and "已下发" in sup and "待回复" in sup
    assert not re.search(r"\b(issued|awaiting_response|responded|proposed)\b", md) and not EMOJI.search(md)
    html = render_html(_data("monthly"))
    table = html.split("四、督办情况", 1)[1]
    assert "<table>" in table and "| 单位 |" not in table and "<td>待回复</td>" in table
    assert '<td class="red">红色预警</td>' in html and '<p class="sign">忻州市交通运输局</p>' in html
    assert "@page{size:A4" in html and not EMOJI.search(html)


def test_a_provisional_report_says_so():
    md = render_markdown(_data("monthly", provisional=True))
    assert md.splitlines()[2] == "（2023年5月，临时报告：统计截至2023年5月9日2时00分，本期结束后重新生成）"
    ws = report_workbook(_data("monthly", provisional=True)).active
    assert "临时，统计截至 2023-05-09 02:00" in ws["A2"].value


@pytest.mark.parametrize("kind", ["monthly", "final"])
def test_word_is_a4_with_heading_styles_page_numbers_and_chart_images(kind):
    doc = docx.Document(BytesIO(report_docx(_data(kind))))
    s = doc.sections[0]
    portrait = (Mm(210), Mm(297)) if kind == "monthly" else (Mm(297), Mm(210))
    assert (abs(s.page_width - portrait[0]) < Mm(1), abs(s.page_height - portrait[1]) < Mm(1)) == (True, True)
    styles = {p.style.name for p in doc.paragraphs}
    assert {"Title", "Heading 1"} <= styles and (kind == "monthly" or "Heading 2" in styles)
    title = next(p for p in doc.paragraphs if p.style.name == "Title")
    assert title.text.startswith("忻州市交通运输局关于")
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings[0] == ("一、总体情况" if kind == "monthly" else "一、工作情况")
    # a body run carries no direct heading formatting: the style does it
    assert doc.styles["Heading 1"].element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    footer = s.footer._element.xml
    assert "PAGE" in footer and 'w:fldCharType="begin"' in footer
    assert len(doc.inline_shapes) == 3  # burn-down, rates, weekly: pictures, not rows of █
    words = "\n".join(p.text for p in doc.paragraphs)
    assert "█" not in words and "@@CHARTS@@" not in words and not EMOJI.search(words)
    right = [p.text for p in doc.paragraphs if p.alignment is not None and p.alignment == 2]  # RIGHT
    assert right[:2] == ["忻州市交通运输局", "2023年5月31日"]
    if kind == "monthly":
        table = next(t for t in doc.tables if t.cell(0, 0).text == "单位" and t.cell(0, 1).text == "措施")
        assert [c.text for c in table.rows[2].cells][-1] == "待回复"
        warn = next(t for t in doc.tables if t.cell(0, 9).text == "预警" if len(t.columns) >= 10)
        red = warn.cell(2, 9).paragraphs[0].runs[0]
        assert warn.cell(2, 9).text == "红色预警" and str(red.font.color.rgb) == "C00000"


def test_the_workbook_prints_on_a4_one_page_wide_in_a_cjk_font():
    wb = report_workbook(_data("final"))
    for ws in wb.worksheets:
        assert ws.page_setup.paperSize == 9 and ws.page_setup.fitToWidth == 1
        assert ws.page_setup.fitToHeight == 0 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$3:$3"  # the header row on every page
        assert ws["A1"].font.name == "宋体" and ws["A4"].font.name == "宋体" and ws["A4"].font.charset == 134
    out = BytesIO()
    wb.save(out)
    again = openpyxl.load_workbook(BytesIO(out.getvalue()))["典型案例"]
    assert again.page_setup.paperSize == 9 and again["F4"].value == "已整改到位，经审核销号"
    assert again["D4"].alignment.wrap_text


def test_counts_are_charted_from_zero():
    """16 open items must not look like none: the burn-down's axis starts at 0."""
    from notifications.documents.graphs import burn_down_svg, weekly_svg

    series = Series("未办结问题数（按周）", ("3-17", "3-24", "3-31"), (("未办结", (16, 20, 25)),))
    for svg in (burn_down_svg(series), weekly_svg(series)):
        ticks = [t for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg) if t.isdigit()]
        assert ticks[0] == "0", ticks
