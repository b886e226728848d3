"""Generated reports on real databases: the docs/domain.md §6 figures (seed 000's
614 / 590 / 2 / 22, 604 / 604, 98.2 %), rolled up the tree, the per-unit
table with its warning colours, overdue items, typical cases, escalations,
idempotency per period, and bad requests refused."""
from __future__ import annotations

import re
from datetime import date

import docx
from docx.oxml.ns import qn
import openpyxl
import pytest
from sqlalchemy import func, select

from models.tables import AuditRecord, GeneratedReport
from services.clues.lifecycle import ClueInput, NewClue, add_clues, bulk_transition
from services.clues.typical import mark_typical
from services.reports import generate as reports
from services.reports.contents import gather
from statemachine.errors import InvalidInput, PermissionDenied

from ..conftest import at

SUP = dict(actor="sup.city")


def _items(engine, campaign, calendar, unit: str, n: int, *, kind: str = "clue") -> list[str]:
    channel = "自查自纠" if kind == "self_inspection" else "12345"
    return add_clues(engine, campaign, [NewClue(channel=channel, aspect="profit", summary=f"{unit} 问题 {i}",
                                                unit=unit, kind=kind) for i in range(n)],
                     now=at("2023-04-10"), calendar=calendar, **SUP)


def _move(engine, campaign, numbers, *steps):
    data = {"substantiate": ClueInput(measures="立行立改", deadline=date(2023, 6, 30), owner="王主任"),
            "submit_evidence": ClueInput(evidence="整改报告及现场照片"),
            "dismiss": ClueInput(reason="查无实据"),
            "defer": ClueInput(stage_result="已完成阶段整改", long_term_measure="纳入常态化监管")}
    for i, step in enumerate(steps):
        moved = bulk_transition(engine, campaign, step, numbers=numbers, now=at(f"2023-05-{10 + i:02d}"),
                                data=data.get(step, ClueInput()), **SUP).moved
        assert len(moved) == len(numbers)


@pytest.fixture
def seed000(engine, campaign, calendar):
    """Seed 000's figures across the tree: 614 clues (590 concluded, 2 ongoing,
    22 in progress) and 604 self-inspection problems, all rectified."""
    a = _items(engine, campaign, calendar, "county-a", 300)
    c1 = _items(engine, campaign, calendar, "town-c1", 14)
    b = _items(engine, campaign, calendar, "county-b", 300)
    clues = a + c1 + b
    _move(engine, campaign, clues, "verify")
    _move(engine, campaign, clues[:10], "dismiss")                        # 10 查无实据 (办结)
    _move(engine, campaign, clues[10:], "substantiate")
    _move(engine, campaign, clues[10:590], "submit_evidence", "approve")  # 580 销号
    _move(engine, campaign, clues[590:592], "defer")                      # 2 持续推进 (county-b)
    # 22 in progress: county-b's last 22, deadline 06-30
    selfs = _items(engine, campaign, calendar, "county-a", 404, kind="self_inspection") + \
        _items(engine, campaign, calendar, "county-b", 200, kind="self_inspection")
    _move(engine, campaign, selfs, "verify", "substantiate", "submit_evidence", "approve")
    return dict(a=a, c1=c1, b=b, clues=clues)


def test_the_seed_000_paragraph_exactly(engine, campaign, seed000):
    data = gather(engine, campaign, None, "monthly", "2023-06", now=at("2023-06-20"))
    assert data.figures.sentence() == ("共受理问题线索 614 件，已办结 590 件，持续推进中 2 件，正在办理 22 件；"
                                       "自查自纠问题 604 件，已整改 604 件；整改率 98.2%")
    assert round(data.figures.rate * 100, 2) == 98.19  # (590 + 2 + 604) / (614 + 604)


def test_figures_roll_up_the_tree(engine, campaign, seed000):
    city = gather(engine, campaign, None, "monthly", "2023-07", now=at("2023-07-05"))
    rows = {r.code: r for r in city.units}
    assert set(rows) == {"county-a", "county-b"}  # the city's children, each with its subtree
    a, b = rows["county-a"].figures, rows["county-b"].figures
    assert (a.clues, a.concluded, a.ongoing, a.in_progress) == (314, 314, 0, 0)  # town-c1's 14 included
    assert (b.clues, b.concluded, b.ongoing, b.in_progress) == (300, 276, 2, 22)
    assert a.clues + b.clues == city.figures.clues
    # a county's own report: its subtree only
    county = gather(engine, campaign, "county-a", "monthly", "2023-06", now=at("2023-07-05"))
    assert county.figures.clues == 314 and county.figures.self_inspection == 404
    lines = {r.code: r for r in county.units}  # its team, and its own items (本级)
    assert set(lines) == {"county-a", "town-c1"} and lines["county-a"].own
    assert lines["county-a"].name == "甲县（本级）" and lines["county-a"].figures.clues == 300
    # after 06-30 the 22 still rectifying are overdue: red; sorted by rate, best first
    assert rows["county-a"].overdue == 0 and rows["county-b"].overdue == 22
    assert (rows["county-a"].colour, rows["county-b"].colour) == ("", "red")
    assert [r.code for r in city.units] == ["county-a", "county-b"]
    assert city.overdue_total == 22 and len(city.overdue) == 22 and city.overdue[0]["days"] == 4


def test_colours_before_the_deadline(engine, campaign, seed000):
    # 06-28: county-b's 22 items fall due within blue_within_days (3) and its rate is
    # below the average: yellow wins over blue; county-a is clear
    data = gather(engine, campaign, None, "weekly", "2023-06-28", now=at("2023-06-28 10:00"))
    rows = {r.code: r for r in data.units}
    assert rows["county-b"].due_soon == 22 and rows["county-b"].rate < data.figures.rate
    assert (rows["county-a"].colour, rows["county-b"].colour) == ("", "yellow")
    # county-b's own report: its own line, blue (nothing to compare below the average with)
    own = gather(engine, campaign, "county-b", "weekly", "2023-06-28", now=at("2023-06-28 10:00"))
    assert [(r.code, r.colour) for r in own.units] == [("county-b", "blue")]


def test_period_activity_and_escalations(engine, campaign, seed000):
    data = gather(engine, campaign, None, "weekly", "2023-04-13", now=at("2023-04-13 18:00"))
    assert data.span.start == date(2023, 4, 7) and data.period["received"] == 614 + 604
    may = gather(engine, campaign, None, "monthly", "2023-05", now=at("2023-06-01"))
    assert may.period["received"] == 0 and may.period["concluded"] == 590 + 604
    assert may.charts["burn_down"].values[0][1][-1] == 22 + 2  # open now: in progress and long-term


def test_generate_writes_files_once_per_period(engine, campaign, seed000, tmp_path):
    g = reports.generate(engine, campaign, kind="monthly", period="2023-07", out_dir=tmp_path,
                         now=at("2023-07-05"), **SUP)
    assert g.created and set(g.files) == {"md", "html", "xlsx", "docx"}
    md = open(g.files["md"], encoding="utf-8").read()
    html = open(g.files["html"], encoding="utf-8").read()
    sentence = "共受理问题线索 614 件，已办结 590 件，持续推进中 2 件，正在办理 22 件；自查自纠问题 604 件，已整改 604 件；整改率 98.2%"
    assert sentence in md and sentence in html
    # the warning is words (an emoji prints as a box), coloured in the HTML
    assert not re.search("[\U0001F300-\U0001FAFF\u2B55\u26AA-\u26AB]", md + html)
    assert html.count("<svg") == 3 and "<script" not in html and '<td class="red">红色预警</td>' in html
    assert re.search(r"\| 乙县 \| 300 \| 276 \| 2 \| 22 \| 200 \| 200 \| 95\.6% \| 22 \| 红色预警 \|", md)
    # the same figures in the workbook (rate a number Excel sorts, red fill) and the Word file
    ws = openpyxl.load_workbook(g.files["xlsx"])["各单位整改情况"]
    row = next(r for r in ws.iter_rows(min_row=4) if r[0].value == "乙县")
    assert [c.value for c in row[1:7]] == [300, 276, 2, 22, 200, 200] and row[9].value.startswith("红色预警")
    assert round(row[7].value, 3) == 0.956 and row[7].number_format == "0.0%"
    assert row[0].fill.fgColor.rgb.endswith("FFC7CE")
    doc = docx.Document(g.files["docx"])
    assert any(sentence in p.text for p in doc.paragraphs)
    table = next(t for t in doc.tables if t.cell(0, 0).text == "单位")
    assert [c.text for c in table.rows[0].cells][:3] == ["单位", "问题线索", "已办结"]
    assert any([c.text for c in r.cells][:2] == ["乙县", "300"] for r in table.rows)
    again = reports.generate(engine, campaign, kind="monthly", period="2023-07", out_dir=tmp_path,
                             now=at("2023-07-06"), **SUP)
    assert not again.created and again.digest == g.digest and again.markdown == md
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(GeneratedReport)).scalar_one() == 1
    forced = reports.generate(engine, campaign, kind="monthly", period="2023-07", out_dir=tmp_path,
                              now=at("2023-07-05"), force=True, **SUP)
    # same figures, same bytes (charts included), but for the check code (校验码): the chain's head
    # moved with the first report's own record, and a report prints the head it was issued after
    code = re.compile(r"校验码：\d+-[0-9A-F]{8}")
    assert forced.created and code.sub("", forced.markdown) == code.sub("", md)
    assert code.findall(forced.markdown) != code.findall(md) and forced.digest != g.digest


def test_a_provisional_report_is_made_again_once_its_period_ends(engine, campaign, seed000, tmp_path):
    early = reports.generate(engine, campaign, kind="monthly", period="2023-07", out_dir=tmp_path,
                             now=at("2023-07-05"), **SUP)
    assert early.provisional and "临时报告：统计截至2023年7月5日9时00分" in early.markdown
    same = reports.generate(engine, campaign, kind="monthly", period="2023-07", out_dir=tmp_path,
                            now=at("2023-07-31 18:00"), **SUP)
    assert not same.created and same.digest == early.digest  # July not over: the recorded one
    late = reports.generate(engine, campaign, kind="monthly", period="2023-07", out_dir=tmp_path,
                            now=at("2023-08-09"), **SUP)
    assert late.created and not late.provisional and "临时" not in late.markdown
    assert "（2023年7月，统计截至2023年7月31日23时59分）" in late.markdown  # the whole month, as of its end
    assert reports.due_reports(engine, campaign, now=at("2023-08-10")) == []  # nothing left to remake
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(GeneratedReport)).scalar_one() == 1


def test_missing_files_are_made_again_and_another_folder_gets_a_copy(engine, campaign, seed000, tmp_path):
    g = reports.generate(engine, campaign, kind="monthly", period="2023-06", out_dir=tmp_path / "a",
                         now=at("2023-07-05"), formats=("md",), **SUP)
    copy = reports.generate(engine, campaign, kind="monthly", period="2023-06", out_dir=tmp_path / "b",
                            now=at("2023-07-06"), formats=("md",), **SUP)
    assert not copy.created and copy.files["md"] != g.files["md"]
    assert open(copy.files["md"], encoding="utf-8").read() == g.markdown
    more = reports.generate(engine, campaign, kind="monthly", period="2023-06", out_dir=tmp_path / "b",
                            now=at("2023-07-06"), formats=("md", "docx"), **SUP)
    assert more.created and set(more.files) == {"md", "docx"}  # a format never made: made now


def test_a_report_as_pdf_carries_the_figures_of_its_markdown(engine, campaign, seed000, tmp_path):
    import io

    import pypdf

    g = reports.generate(engine, campaign, kind="monthly", period="2023-06", out_dir=tmp_path,
                         now=at("2023-07-05"), formats=("md", "pdf"), **SUP)
    assert set(g.files) == {"md", "pdf"} and g.files["pdf"].endswith("monthly-2023-06.pdf")
    reader = pypdf.PdfReader(io.BytesIO(open(g.files["pdf"], "rb").read()))
    # pypdf reads fpdf2's two-byte ToUnicode entries of a CID font with a NUL before each
    text = "".join(re.sub(r"[\s\x00]+", "", p.extract_text()) for p in reader.pages)
    rows = [line for line in g.markdown.split("## 二、各单位整改情况")[1].split("## ")[0].splitlines()
            if line.startswith("| ") and not line.startswith("| 单位")]
    assert rows
    for row in rows:  # each unit's row, figure by figure, as the Markdown and the database give it
        assert "".join(c.strip() for c in row.strip("|").split("|")) in text, row
    figures = re.search(r"共受理问题线索 (\d+) 件，已办结 (\d+) 件", g.markdown)
    assert f"共受理问题线索{figures[1]}件，已办结{figures[2]}件" in text
    assert float(reader.pages[0].mediabox.width) == pytest.approx(595.28, abs=0.5)


def test_final_report_structure_typical_cases_and_accountability(engine, campaign, seed000, tmp_path):
    mark_typical(engine, campaign, seed000["a"][20], note="正面典型：取消罚没指标", now=at("2023-09-01"), **SUP)
    g = reports.generate(engine, campaign, kind="final", out_dir=tmp_path, now=at("2023-10-20"), **SUP)
    md = g.markdown
    for heading in ("一、工作情况", "二、工作成效", "三、发现问题", "四、追责问责", "五、有关建议",
                    "附件1 整改问题清单（台账）", "附件2 各单位整改情况", "附件3 典型案例",
                    "附件4 追责问责、容错免责情况专题说明"):
        assert heading in md
    assert md.index("一、工作情况") < md.index("五、有关建议") < md.index("附件1")
    typical = md.split("附件3 典型案例")[1].split("附件4")[0]
    assert "正面典型：取消罚没指标" in typical and typical.count("自动选取，待确认") == 2  # 3 required
    assert "共 1218 件，此处列前 500 件" in md
    # the .xlsx carries the whole ledger (004 整改工作台账) behind the report's tables
    wb = openpyxl.load_workbook(g.files["xlsx"])
    assert wb.sheetnames == ["各单位整改情况", "逾期问题", "典型案例", "追责问责容错免责", "台账004"]
    numbers = [r[0] for r in wb["台账004"].iter_rows(min_row=4, min_col=10, max_col=10, values_only=True) if r[0]]
    assert len(numbers) == len(set(numbers)) == 1218
    word = docx.Document(g.files["docx"])
    # headings are Word's heading styles (navigation pane, table of contents), 黑体 by the style
    headings = [p.text for p in word.paragraphs if p.style.name.startswith("Heading")]
    assert word.styles["Heading 1"].element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    assert headings.index("一、工作情况") < headings.index("五、有关建议") < headings.index("附件1 整改问题清单（台账）")
    assert word.sections[0].page_width > word.sections[0].page_height  # landscape for the wide tables
    assert "本次专项整治未发生追责问责" in md


def test_user_text_cannot_inject_html(engine, campaign, calendar, tmp_path):
    add_clues(engine, campaign, [NewClue(channel="12345", aspect="profit", unit="county-a",
                                         summary="<script>alert(1)</script>| 罚款")],
              now=at("2023-04-10"), calendar=calendar, **SUP)
    g = reports.generate(engine, campaign, kind="final", out_dir=tmp_path, now=at("2023-05-20"), **SUP)
    html = open(g.files["html"], encoding="utf-8").read()
    assert "<script>" not in html and "&lt;script&gt;" in html
    words = "\n".join(p.text for p in docx.Document(g.files["docx"]).paragraphs)
    ws = openpyxl.load_workbook(g.files["xlsx"])["台账004"]
    assert "&lt;" not in words and any("<script>alert(1)</script>" in str(c.value) for r in ws.iter_rows()
                                        for c in r)  # text as written, in files that run no script


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(kind="yearly"), InvalidInput, "unknown report kind 'yearly'"),
    (dict(kind="monthly", period="2023-13"), InvalidInput, "period '2023-13' is not a monthly period"),
    (dict(kind="weekly", period="last week"), InvalidInput, "is not a weekly period"),
    (dict(kind="stage", period="nope"), InvalidInput, "a stage report needs --period STAGE"),
    (dict(kind="final", period="2023"), InvalidInput, "period is 'final'"),
    (dict(kind="final", formats=("odt",)), InvalidInput, "unknown format 'odt'"),
    (dict(kind="final", unit="county-b", actor="off.a"), PermissionDenied, "may not generate reports for 乙县"),
])
def test_bad_requests_are_refused_and_write_nothing(engine, campaign, tmp_path, kwargs, error, message):
    args = dict(actor="sup.city") | kwargs
    with engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(AuditRecord)).scalar_one()
    with pytest.raises(error, match=message):
        reports.generate(engine, campaign, out_dir=tmp_path / "out", now=at("2023-06-01"), **args)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(GeneratedReport)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(AuditRecord)).scalar_one() == before
    assert not (tmp_path / "out").exists()
