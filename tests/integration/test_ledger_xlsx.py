"""Ledgers (台账) as .xlsx on real SQLite and PostgreSQL: the seeds' three templates
exported (golden text dumps), read back unchanged, updated, extended with new rows,
and refused as a whole when any row is wrong."""
from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
import yaml
from sqlalchemy import select

from models.tables import AuditRecord, Clue
from services.campaigns.load import campaign_id, load_plan
from services.campaigns.plans import parse_plan
from services.clues.lifecycle import ClueInput, NewClue, add_clues, get_clue, transition
from services.core.audit import verify
from services.ledgers.export import export_ledger, write_ledger
from services.ledgers.importing import import_ledger, read_ledger
from statemachine.errors import InvalidInput, PermissionDenied

from ..conftest import SMALL_PLAN, at

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "ledgers"
TEMPLATE_KEYS = ("003-2023", "003-2022", "004")
CAMPAIGN = "smoke-2023"
NOW = at("2023-05-16 10:00")


def ledger_plan_text() -> str:
    """The small test plan with the aspects and contacts a ledger shows (fictional)."""
    doc = yaml.safe_load(SMALL_PLAN.read_text(encoding="utf-8"))
    doc["aspects"] += [{"key": "nonstandard", "name": "执法不规范问题",
                        "focus": "滥用自由裁量权，随意设置路障，选择性执法"},
                       {"key": "rough", "name": "执法粗暴问题", "focus": "“冷横硬推”，以罚代管"}]
    contacts = {"city": ("王建国", "陈晓红", "13800000101", "13800000102"),
                "county-a": ("刘志强", "黄丽娜", "13800000201", "13800000202")}
    for u in doc["units"]:
        if u["code"] in contacts:
            leader, liaison, p1, p2 = contacts[u["code"]]
            u["leader"] = {"name": leader, "role": "分管领导", "phone": p1}
            u["liaison"] = {"name": liaison, "role": "联络员", "phone": p2}
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


@pytest.fixture
def ledger_campaign(engine) -> str:
    plan = parse_plan(ledger_plan_text(), source="ledger-plan.yaml")
    load_plan(engine, plan, source="ledger-plan.yaml", now=at("2023-03-15"))
    return plan.campaign.code


def populate(engine, calendar) -> list[str]:
    """Seven items in every state a ledger shows, across the tree."""
    items = [NewClue("12345", "profit", "1. 罚款不开票 2. 乱收费", "county-a"),
             NewClue("自查自纠", "nonstandard", "随意设置路障拦车检查", "county-a", root_cause="制度不健全"),
             NewClue("12328", "profit", "非法中介代办“包过”", "county-b"),
             NewClue("自查自纠", "rough", "执法人员态度生硬", "town-c1"),
             NewClue("自查自纠", "profit", "电子监控设置不规范", "county-a", kind="carried_over"),
             NewClue("自查自纠", "nonstandard", "选择性执法", "county-b", kind="carried_over"),
             NewClue("信访投诉", "nonstandard", "违规扣车", "county-b")]
    n = add_clues(engine, CAMPAIGN, items, actor="sup.city", now=at("2023-04-10"), calendar=calendar)

    def fire(i, trigger, actor, **data):
        transition(engine, CAMPAIGN, n[i], trigger, actor=actor, now=at("2023-04-20"),
                   data=ClueInput(**data))
    sub = dict(measures="1. 退还罚款 2. 开展培训", deadline=date(2023, 6, 30), owner="赵书涵")
    for i in (0, 1, 3, 4):
        fire(i, "verify", "sup.city")
    fire(0, "substantiate", "off.a", **sub)
    fire(0, "submit_evidence", "off.a", evidence="退款凭证、培训签到表")
    fire(0, "approve", "sup.city")
    fire(1, "substantiate", "off.a", measures="拆除路障，建立检查审批制度", deadline=date(2023, 7, 31),
         owner="赵书涵", result_form="制度文件")
    fire(3, "dismiss", "off.c1", reason="查无实据")
    fire(4, "substantiate", "off.a", **sub)
    fire(4, "defer", "off.a", stage_result="已拆除 3 处", long_term_measure="纳入年度执法检查")
    return n


def dump(ws) -> str:
    """A deterministic text form of a sheet (xlsx bytes are not deterministic)."""
    lines = [f"sheet: {ws.title}"]
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None:
                v = c.value.date().isoformat() if isinstance(c.value, datetime) else c.value
                lines.append(f"{c.coordinate}: {str(v).replace(chr(10), '⏎')}")
    lines += [f"merged: {r.coord}" for r in sorted(ws.merged_cells.ranges,
                                                     key=lambda r: (r.min_row, r.min_col))]
    lines += [f"hidden column: {k}" for k, d in sorted(ws.column_dimensions.items()) if d.hidden]
    lines.append(f"print titles: {ws.print_title_rows}")
    return "\n".join(lines) + "\n"


def snapshot(engine) -> tuple[list, list]:
    with engine.connect() as conn:
        return (conn.execute(select(Clue.__table__).order_by(Clue.id)).all(),
                conn.execute(select(AuditRecord.__table__).order_by(AuditRecord.id)).all())


def export(engine, tmp_path, template, unit="city") -> Path:
    path = tmp_path / f"{unit}-{template}.xlsx"
    write_ledger(engine, CAMPAIGN, unit, template, path, on=date(2023, 5, 15))
    return path


def run_import(engine, calendar, path, actor="sup.city", **kw):
    return import_ledger(engine, CAMPAIGN, path, actor=actor, now=NOW, calendar=calendar, **kw)


# -- export ------------------------------------------------------------------------------
@pytest.mark.parametrize("template", TEMPLATE_KEYS)
def test_export_matches_the_golden_sheet(engine, ledger_campaign, calendar, template):
    populate(engine, calendar)
    got = dump(export_ledger(engine, CAMPAIGN, "city", template, on=date(2023, 5, 15)).active)
    golden = GOLDEN / f"city-{template}.txt"
    if os.environ.get("RECTIFY_UPDATE_GOLDEN"):  # after a deliberate change of the layout
        golden.write_text(got, encoding="utf-8")
    assert got == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("template", TEMPLATE_KEYS)
def test_an_export_prints_as_the_units_own_form(engine, ledger_campaign, calendar, tmp_path, template):
    """Titled after the unit's place (not the province's blank with （模板）), in a CJK
    font, A4 and one page wide with its headings on every page, and each multi-line
    cell wrapped in a row tall enough to print it whole."""
    populate(engine, calendar)
    path = export(engine, tmp_path, template, unit="county-a")
    ws = openpyxl.load_workbook(path).active
    title = ws["A1"].value
    assert title.startswith("甲县") and "全省" not in title and "模板" not in title
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape"
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0) and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows and ws.print_area
    cells = [c for row in ws.iter_rows(min_row=3) for c in row if isinstance(c.value, str)]
    assert cells and all(c.font.name == "宋体" and c.font.charset == 134 for c in cells)
    multi = [c for c in cells if "\n" in c.value]
    assert all(c.alignment.wrap_text for c in multi)
    assert all((ws.row_dimensions[c.row].height or 0) >= 2 * 14 for c in multi)
    if template != "003-2022":
        assert multi  # 1. … 2. … measures


def test_a_units_export_holds_its_subtree_only_and_its_own_contacts(engine, ledger_campaign, calendar):
    n = populate(engine, calendar)
    ws = export_ledger(engine, CAMPAIGN, "county-a", "004", on=date(2023, 5, 15)).active
    text = dump(ws)
    assert n[0] in text and n[3] in text and n[4] in text      # county-a and town-c1 below it
    assert n[2] not in text and n[5] not in text               # county-b
    assert "填报单位（盖章）：甲县" in text and "审核人：刘志强" in text and "联系电话：13800000202" in text


# -- round trip ----------------------------------------------------------------------------
@pytest.mark.parametrize("template", TEMPLATE_KEYS)
def test_importing_an_export_changes_nothing(engine, ledger_campaign, calendar, tmp_path, template):
    populate(engine, calendar)
    before = snapshot(engine)
    path = export(engine, tmp_path, template)
    r = run_import(engine, calendar, path)
    expected = {"003-2023": 5, "003-2022": 2, "004": 7}[template]
    assert (r.added, r.updated, r.unchanged) == (0, 0, expected)
    assert snapshot(engine) == before
    assert read_ledger(path).template.key == template  # recognised without being told


# -- updates ---------------------------------------------------------------------------------
def _find(ws, heading: str) -> int:
    for row in ws.iter_rows(max_row=8):
        for c in row:
            if c.value == heading:
                return c.column
    raise KeyError(heading)


def _row_of(ws, number: str) -> int:
    col = ws.max_column
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, col).value == number)


def edit(path: Path, number: str, **cells) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    for heading, value in cells.items():
        ws.cell(_row_of(ws, number), _find(ws, heading), value)
    wb.save(path)


def test_changed_cells_update_the_item_audited_and_only_those(engine, ledger_campaign, calendar, tmp_path):
    n = populate(engine, calendar)
    path = export(engine, tmp_path, "004")
    edit(path, n[1], 整改措施="1. 拆除路障 2. 建立审批制度", 整改进度="已拆除 2 处，制度起草中",
         备注="县局督办")
    v1 = get_clue(engine, CAMPAIGN, n[1]).version
    r = run_import(engine, calendar, path)
    assert (r.added, r.updated, r.unchanged) == (0, 1, 6)
    v = get_clue(engine, CAMPAIGN, n[1])
    assert v.version == v1 + 1 and v.state == "rectifying"
    assert v.measures == "1. 拆除路障\n2. 建立审批制度"
    assert v.deadline_at.date() == date(2023, 7, 31)  # a ledger never moves a deadline (below)
    last = v.history[-1]
    assert last["trigger"] == "ledger_update" and last["actor"] == "sup.city"
    assert json.loads(last["detail"]) == {"measures": "1. 拆除路障\n2. 建立审批制度",
                                          "progress": "已拆除 2 处，制度起草中",
                                          "remark": "县局督办"}
    assert run_import(engine, calendar, path).updated == 0           # applied once
    assert verify(engine, campaign_id(engine, CAMPAIGN)).ok
    # the progress note is exported from now on instead of the state's label
    assert "已拆除 2 处，制度起草中" in dump(export_ledger(engine, CAMPAIGN, "city", "004",
                                                           on=date(2023, 5, 15)).active)


def test_a_ledger_never_moves_a_running_deadline_and_names_the_extension(engine, ledger_campaign, calendar,
                                                                         tmp_path):
    # the day before it lapses, a sheet moving 2023-07-31 to the end of 2026 would take the item
    # off the overdue list silently: only an extension (延期) by the level above moves it
    n = populate(engine, calendar)
    path = export(engine, tmp_path, "004")
    edit(path, n[1], 整改时限="2026年12月31日", 备注="县局督办")
    wb = openpyxl.load_workbook(path)
    row = _row_of(wb.active, n[1])
    lines = refused(engine, calendar, path)
    assert lines == [f"{path}: 1 error, nothing imported",
                     f"row {row}, 整改时限: 2026-12-31, but the deadline of {n[1]} is 2023-07-31 and a ledger "
                     f"does not move it; a later deadline is an extension (延期): asked for before the "
                     f"deadline passes, granted by a supervisor above the unit ('rectify clue transition "
                     f"{n[1]} extend --deadline 2026-12-31 --reason …')"]
    # the path it names: the level above, before the deadline, within the plan's limit
    transition(engine, CAMPAIGN, n[1], "extend", actor="sup.city", now=at("2023-07-30 10:00"),
               data=ClueInput(deadline=date(2023, 8, 15), reason="汛期施工，申请延期"), calendar=calendar)
    assert get_clue(engine, CAMPAIGN, n[1]).deadline_at.date() == date(2023, 8, 15)


def test_a_state_label_in_the_progress_cell_is_no_progress_note(engine, ledger_campaign, calendar,
                                                                 tmp_path):
    n = populate(engine, calendar)
    path = export(engine, tmp_path, "003-2022")
    edit(path, n[5], 完成情况="待核查")   # what the export wrote anyway
    assert run_import(engine, calendar, path).updated == 0


# -- new rows ---------------------------------------------------------------------------------
def blank_template(path: Path, template: str, rows: list[list], *, unit="甲县", top: int = 0,
                   merges: tuple[str, ...] = ()) -> Path:
    """A ledger typed into the seed's printed template by hand (no 编号 column)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for _ in range(top):
        ws.append([])
    if template == "004":
        ws.append(["交通运输执法领域突出问题整改工作台账"])
        ws.append([f"填报单位（盖章）：{unit}", None, None, None, None, "填报时间：2023年5月15日"])
        ws.append(["序号", "问题类别", "具体表现", "整改措施", "责任单位", "整改时限", "整改进度",
                   "可验证成果", "备注"])
    elif template == "003-2023":
        ws.append(["全省道路交通安全和运输执法领域 突出问题专项整治事项清单（模板）"])
        ws.append(["（2023 年新问题）"])
        ws.append(["填报时间： 2023年5月15日"])
        ws.append(["填报单位（盖章）：", unit])
        h = ws.max_row + 1
        ws.append(["序号", "问题方面", "问题清单", None, "任务清单", None, None, "责任清单", None, "备注"])
        ws.append([None, None, "问题表现", "原因剖析", "整改措施", "完成时限", "成果形式", "责任单位",
                   "联系人"])
        for rng in (f"A{h}:A{h + 1}", f"B{h}:B{h + 1}", f"C{h}:D{h}", f"E{h}:G{h}", f"H{h}:I{h}",
                    f"J{h}:J{h + 1}"):
            ws.merge_cells(rng)
    else:
        ws.append(["全省道路交通安全和运输执法领域 突出问题专项整治事项清单（模板）"])
        ws.append(["（2022 年自查整改问题）"])
        ws.append([f"填报单位（盖章）：{unit}"])
        ws.append(["序号", "问题方面", "问题表现", "整改措施", "完成情况", "阶段性成效", "长期举措", "备注"])
    first = ws.max_row + 1
    for r in rows:
        ws.append(r)
    for rng in merges:  # given relative to the first data row: "B0:B2"
        a, b = rng.split(":")
        ws.merge_cells(f"{a[0]}{first + int(a[1:])}:{b[0]}{first + int(b[1:])}")
    ws.append([])
    ws.append(["审核人:"])
    ws.append(["联系人:"])
    ws.append(["联系电话:"])
    wb.save(path)
    return path


def test_a_hand_filled_seed_template_imports_new_problems(engine, ledger_campaign, calendar, tmp_path):
    path = blank_template(tmp_path / "附件2.xlsx", "003-2023", [
        [1, "“逐利 执法”问 题", "1. 超限处罚不开票 2. 3. 4.", "1. 监督缺位", "1. 退还款项 2. 约谈",
         datetime(2023, 6, 30), "整改报告", "甲县", "赵书涵"],
        [2, None, "1. 2. 3. 4."],                                   # placeholder row
        [3, None, "罚没指标写进考核", None, "取消考核指标", "2023.7.15", None, "county-a", None, "已完成"],
        [4, "执法不规范问题", "1. 拦车不亮证", None, None, None, None, None],
        [5, None, "1. 2. 3. 4."], [6], [7], [8],
    ], top=2, merges=("B0:B2", "B3:B7"))
    r = run_import(engine, calendar, path, actor="sup.a")
    assert (r.added, r.updated, r.unchanged) == (3, 0, 0)
    a, b, c = (get_clue(engine, CAMPAIGN, x) for x in r.numbers)
    assert (a.aspect, a.unit, a.state, a.kind, a.channel) == ("profit", "甲县", "rectifying",
                                                              "self_inspection", "自查自纠")
    assert a.summary == "1. 超限处罚不开票" and a.measures == "1. 退还款项\n2. 约谈" and a.owner == "赵书涵"
    assert [h["trigger"] for h in a.history] == ["receive", "verify", "substantiate"]
    # merged 问题方面 applies to row 3; no 联系人: the unit's liaison is the responsible person
    assert (b.aspect, b.unit, b.owner, b.state) == ("profit", "甲县", "黄丽娜", "rectifying")
    assert c.aspect == "nonstandard" and c.state == "received" and c.unit == "甲县"


def test_new_rows_said_done_ask_for_closure_but_are_never_closed(engine, ledger_campaign, calendar,
                                                                 tmp_path):
    path = blank_template(tmp_path / "台账.xlsx", "004", [
        [1, "逐利执法", "1. 罚款不开票", "退还罚款", "甲县", "2023年6月30日", "已完成整改", "退款凭证"],
        [2, "执法粗暴", "态度生硬", None, None, None, "整改中"],
    ])
    r = run_import(engine, calendar, path, actor="off.a")
    done, other = (get_clue(engine, CAMPAIGN, x) for x in r.numbers)
    assert done.state == "rectified" and done.evidence == "退款凭证" and done.owner == "黄丽娜"
    assert [h["trigger"] for h in done.history] == ["receive", "verify", "substantiate",
                                                    "submit_evidence", "ledger_update"]
    assert other.state == "received" and other.unit == "甲县"   # the 填报单位


def test_a_2022_sheet_adds_carried_over_items_of_the_filling_unit(engine, ledger_campaign, calendar,
                                                                  tmp_path):
    path = blank_template(tmp_path / "附件3.xlsx", "003-2022", [
        [1, "趋利性执法问题", "1. 违规设置电子监控", "1. 拆除 2. 备案", "持续推进", "已拆除 2 处", "纳入年度检查"],
        [2, "选择性执法问题", "人情案", "建立案件回访制度"],
    ], unit="乙县")
    r = run_import(engine, calendar, path, actor="off.b")
    assert r.added == 2
    a, b = (get_clue(engine, CAMPAIGN, x) for x in r.numbers)
    assert (a.kind, a.unit, a.aspect, b.aspect) == ("carried_over", "乙县", "profit", "nonstandard")
    with engine.connect() as conn:
        row = conn.execute(select(Clue.__table__).where(Clue.number == a.number)).one()
    assert (row.stage_result, row.long_term_measure, row.progress) == ("已拆除 2 处", "纳入年度检查", "持续推进")


# -- refusals ------------------------------------------------------------------------------
def refused(engine, calendar, path, exc=InvalidInput, actor="sup.city") -> list[str]:
    before = snapshot(engine)
    with pytest.raises(exc) as e:
        run_import(engine, calendar, path, actor=actor)
    assert snapshot(engine) == before
    return str(e.value).splitlines()


def test_a_missing_column_is_named(engine, ledger_campaign, calendar, tmp_path):
    path = blank_template(tmp_path / "x.xlsx", "004", [[1, "逐利执法", "罚款不开票", "退还", "甲县", "2023-06-30"]])
    wb = openpyxl.load_workbook(path)
    wb.active.delete_cols(5)  # 责任单位
    wb.save(path)
    lines = refused(engine, calendar, path)
    assert lines == [f"{path}: 1 error, nothing imported", "row 3, 责任单位: missing column"]


@pytest.mark.parametrize("row, expected", [
    ([1, "逐利执法", "罚款不开票", "退还", "甲县", "6月30日前"],
     "row 4, 整改时限: '6月30日前' has no year: write the full date, e.g. 2023年6月30日"),
    ([1, "逐利执法", "罚款不开票", "退还", "丙县", "2023-06-30"],
     "row 4, 责任单位: unknown unit '丙县' (give a unit's name or code)"),
    ([1, "以人民为中心的执法理念树立不牢", "罚款不开票"],
     "row 4, 问题类别: unknown aspect '以人民为中心的执法理念树立不牢' (one of “逐利执法”问题、执法不规范问题、执法粗暴问题)"),
    ([1, "逐利执法", "1. 2. 3. 4.", "退还"], "row 4, 具体表现: empty: describe the problem"),
    # 90 working days after 2023-05-16 (the small plan's clues.rectify_within_working_days)
    ([1, "逐利执法", "罚款不开票", "退还", "甲县", "2030-06-30"],
     "row 4, 整改时限: the deadline 2030-06-30 is beyond the plan's limit of 90 working days (at most "
     "2023-09-20); a later deadline is an extension (延期): asked for before the deadline passes, granted by "
     "a supervisor above the unit"),
    ([1, "逐利执法", "罚款不开票", "退还", "甲县", "2023-05-15"],
     "row 4, 整改时限: the deadline 2023-05-15 is before the day it is set (2023-05-16)"),
    # what a cell's column cannot hold (statemachine/limits.py); XML itself keeps C0 controls out
    ([1, "逐利执法", "罚款\x7f不开票", "退还", "甲县", "2023-06-30"],
     "row 4, 具体表现: a control character (U+007F) at character 3: only line breaks and tabs may be used"),
    ([1, "逐利执法", "罚" * 10_001, "退还", "甲县", "2023-06-30"],
     "row 4, 具体表现: 10,001 characters, at most 10,000"),
    ([1, "逐利执法", "罚款不开票", "退还", "town-c1", "2023-06-30"],
     "row 4, 联系人: empty, and 甲县交通运输执法大队 has no liaison: a problem under rectification "
     "needs a responsible person"),
])
def test_one_bad_cell_is_named_by_row_and_heading(engine, ledger_campaign, calendar, tmp_path, row,
                                                  expected):
    path = blank_template(tmp_path / "x.xlsx", "004", [row])
    assert refused(engine, calendar, path)[1:] == [expected]


def test_every_error_is_listed_and_nothing_is_imported(engine, ledger_campaign, calendar, tmp_path):
    n = populate(engine, calendar)
    path = export(engine, tmp_path, "004")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    r0 = _row_of(ws, n[0])
    ws.cell(r0, _find(ws, "整改措施"), "改了，但下一行错了")       # a good change: not applied either
    ws.cell(r0 + 1, _find(ws, "整改时限"), "下月底")
    ws.cell(r0 + 2, _find(ws, "序号"), 1)                        # duplicate 序号
    ws.cell(r0 + 3, ws.max_column, "XS-2023-99999")             # unknown 编号
    ws.cell(r0 + 4, _find(ws, "责任单位"), "丙县")
    wb.save(path)
    lines = refused(engine, calendar, path)
    assert lines == [
        f"{path}: 4 errors, nothing imported",
        f"row {r0 + 1}, 整改时限: '下月底' is not a date (write e.g. 2023-06-30 or 2023年6月30日)",
        f"row {r0 + 2}, 序号: duplicate 序号 1 (also row {r0})",
        f"row {r0 + 3}, 编号: unknown 编号 'XS-2023-99999' in this campaign (leave it empty for a "
        f"new problem)",
        f"row {r0 + 4}, 责任单位: unknown unit '丙县' (give a unit's name or code)"]


def test_a_unit_may_not_import_for_a_unit_it_does_not_act_for(engine, ledger_campaign, calendar,
                                                              tmp_path):
    n = populate(engine, calendar)
    path = blank_template(tmp_path / "x.xlsx", "004", [[1, "逐利执法", "罚款不开票", "退还", "甲县"]],
                          unit="乙县")
    lines = refused(engine, calendar, path, PermissionDenied, actor="off.b")
    assert lines[1].startswith("row 4, 责任单位: off.b (乙县) may not import ledger rows for 甲县")
    # an unchanged row of another unit is no write, so it needs no permission …
    export_path = export(engine, tmp_path, "004")
    assert run_import(engine, calendar, export_path, actor="off.b").unchanged == 7
    # … a changed one does
    edit(export_path, n[0], 备注="改")
    refused(engine, calendar, export_path, PermissionDenied, actor="off.b")


def test_a_file_that_is_not_a_workbook_is_refused_in_one_line(engine, ledger_campaign, calendar,
                                                              tmp_path):
    bad = tmp_path / "ledger.xlsx"
    bad.write_text("序号,问题方面\n", encoding="utf-8")
    assert refused(engine, calendar, bad) == [f"{bad}: cannot read: not an .xlsx workbook "
                                              f"(save it as Excel 2007 or later .xlsx)"]
    assert "no such file" in refused(engine, calendar, tmp_path / "missing.xlsx")[0]


def test_the_seeds_2022_headings_land_on_the_xinzhou_plans_aspects(engine, calendar, tmp_path):
    """003 附件3 heads its rows with the 2022 campaign's wording; the shipped plan's aliases
    carry them onto the 2023 aspects, and the 填报单位 line names the unit."""
    from services.campaigns.plans import read_plan

    load_plan(engine, read_plan("003-xinzhou-2023"), source="003", now=at("2023-03-15"))
    path = blank_template(tmp_path / "附件3.xlsx", "003-2022", [
        [1, "以人民为中心的执法理念树立不牢", "1. 答复诉求不细致 2. 3. 4.", "1. 建立回访制度"],
        [2, None, "1. 2. 3. 4."],
        [3, "趋利性 执法问 题", "1. 违规设置电子监控", "1. 拆除 2. 备案", "持续推进"],
        [4, "选择性 执法问 题", "人情案", "案件回访"],
    ], unit="原平市", merges=("B0:B1",))
    r = import_ledger(engine, "xinzhou-2023", path, actor="off.yuanping", now=NOW, calendar=calendar)
    got = [get_clue(engine, "xinzhou-2023", x) for x in r.numbers]
    assert [(c.aspect, c.unit, c.kind) for c in got] == [
        ("public_concern", "原平市", "carried_over"), ("profit", "原平市", "carried_over"),
        ("nonstandard", "原平市", "carried_over")]
