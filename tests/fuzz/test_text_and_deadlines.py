"""Hostile text and deadlines (issue 13: items 2, 5, 9, 11), on SQLite and PostgreSQL.

Each hostile input is either accepted, or refused with a non-zero exit and one
line on stderr (a ledger's refusal lists its bad cells on the lines below its
one line), never a traceback, and a refusal writes nothing (every table counted
before and after). Text that reaches a spreadsheet stays text: read back with
openpyxl, a cell holding what someone typed is a string cell with exactly what
was typed, never a formula. Text stored before the door refused it never stops
an export, a report or the nightly run.
"""
from __future__ import annotations

import subprocess
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select, update

from models.tables import Base, Clue
from services.clues import lifecycle as clues
from services.reports import generate as reports
from statemachine.errors import GuardRefused
from statemachine.time.calendar import WorkingCalendar

from ..conftest import SMALL_PLAN, at
from ..e2e.conftest import RECTIFY, Cli, assert_one_line_error, cli  # noqa: F401  (cli: the fixture)
from ..integration.test_ledger_xlsx import ledger_plan_text

FORMULA = '=HYPERLINK("http://attacker.example.test/x","点击查看")'
CAMPAIGN = "smoke-2023"
ADD = ("clue", "add", "--channel", "12345", "--aspect", "profit", "--as", "sup.city", "--now", "2023-04-10")


def counts(engine) -> dict[str, int]:
    """Rows of every table: a refusal must leave each as it was."""
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables}


def refused(cli: Cli, engine, *args, code: int | None = None, **kw) -> str:
    before = counts(engine)
    msg = cli.fail(*args, code=code, **kw)
    assert counts(engine) == before, f"{args} was refused but wrote"
    return msg


@pytest.fixture
def loaded(cli: Cli, tmp_path) -> Cli:
    plan = tmp_path / "ledger-plan.yaml"  # the small plan with the ledger's aspects and contacts
    plan.write_text(ledger_plan_text(), encoding="utf-8")
    cli.ok("load", plan, "--now", "2023-03-15")
    return cli


def _rectifying(cli: Cli, summary: str = "罚款不开票", deadline: str = "2023-06-30") -> str:
    n = cli.ok(*ADD, "--unit", "county-a", "--summary", summary).stdout.strip()
    cli.ok("clue", "transition", n, "verify", "--as", "off.a", "--now", "2023-04-11")
    cli.ok("clue", "transition", n, "substantiate", "--as", "off.a", "--now", "2023-04-12",
           "--measures", "1. 退还罚款 2. 开展培训", "--deadline", deadline, "--owner", "赵书涵")
    return n


# -- text at the door (items 2 and 9) ------------------------------------------------------
@pytest.mark.parametrize("args, expected", [
    (("--unit", "county-a", "--summary", "罚款\x0b不开票"),
     "clue: summary: a control character (U+000B) at character 3: only line breaks and tabs may be used"),
    (("--unit", "county-a", "--summary", "罚款\x1b[2J不开票"),
     "clue: summary: a control character (U+001B) at character 3: only line breaks and tabs may be used"),
    (("--unit", "county-a", "--summary", "罚" * 10_001), "clue: summary: 10,001 characters, at most 10,000"),
    (("--unit", "county-a", "--summary", "乱罚款", "--reporter", "赵" * 101),
     "clue: reporter_name: 101 characters, at most 100"),
    (("--unit", "county-a", "--summary", "乱罚款", "--reporter", "赵书涵\n13800000000"),
     "clue: reporter_name: a line break (U+000A) at character 4: one line of text"),
    (("--unit", "county-a", "--summary", "乱罚款", "--phone", "1" * 51),
     "clue: reporter_phone: 51 characters, at most 50"),
    (("--unit", "甲县\nrectify: error: forged", "--summary", "乱罚款"),
     r"clue: unit: unknown unit '甲县\nrectify: error: forged'"),
])
def test_clue_add_refuses_what_its_columns_cannot_hold(loaded: Cli, engine, args, expected):
    assert refused(loaded, engine, *ADD, *args) == expected


@pytest.mark.parametrize("args, expected", [
    (("clue", "list", "--unit", "甲县\nrectify: error: forged"),
     r"unknown unit '甲县\nrectify: error: forged' in this campaign (see 'rectify units')"),
    ((*ADD[:-4], "--now", "2023-04-10", "--unit", "county-a", "--summary", "乱罚款", "--as", "sup.city\r\nforged"),
     r"unknown user 'sup.city\r\nforged' in this campaign (see 'rectify users')"),
    (("clue", "show", "XS-2023-00001\x1b[2J", "--campaign", "smoke-2023"),
     r"unknown clue 'XS-2023-00001\x1b[2J' (see 'rectify clue list')"),
    (("ledger", "export", "--unit", "city", "--template", "004\n", "--out", "x.xlsx"),
     r"unknown template '004\n' (one of 003-2023, 003-2022, 004)"),
])
def test_a_value_echoed_in_a_refusal_never_breaks_its_one_line(loaded: Cli, engine, args, expected):
    assert refused(loaded, engine, *args) == expected


def test_a_command_line_that_is_not_utf_8_is_refused_not_stored(loaded: Cli, engine):
    # bytes that are not UTF-8 reach Python as lone surrogates; PostgreSQL and every document refuse them
    before = counts(engine)
    p = subprocess.run([RECTIFY, *ADD, "--unit", "county-a", "--summary", b"\xff\xfe-bad".decode("utf-8", "surrogateescape")],
                       env=loaded.env, cwd=loaded.cwd, capture_output=True, timeout=60)
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.strip() == "rectify: error: clue: summary: a lone surrogate (U+DCFF), not text at character 1: " \
                          "only line breaks and tabs may be used"
    assert counts(engine) == before


def test_a_csv_row_with_nul_or_control_characters_is_refused_naming_row_and_column(loaded: Cli, engine, tmp_path):
    path = tmp_path / "clues.csv"

    def refusal_lines() -> list[str]:
        before = counts(engine)
        r = loaded.run("clue", "import", path, "--as", "sup.city", "--now", "2023-04-10")
        assert r.returncode == 1 and "Traceback" not in r.stderr and counts(engine) == before, str(r)
        return r.stderr.strip().splitlines()

    # the count, then one line per bad cell (issue 15), each naming its row and column
    for cell, why in (("罚款\x00不开票", "NUL (U+0000) at character 3"),
                      ("罚款\x0b不开票", "a control character (U+000B) at character 3")):
        path.write_text(f"channel,aspect,summary,unit\n12345,profit,乱收费,county-a\n12345,profit,{cell},county-a\n",
                        encoding="utf-8")
        assert refusal_lines() == [f"rectify: error: {path}: 1 error, nothing imported",
                                   f"row 3, summary: {why}: only line breaks and tabs may be used"]
    path.write_text("channel,aspect,summary,unit,reporter_name\n"
                    f"12345,profit,乱收费,county-a,{'赵' * 101}\n", encoding="utf-8")
    assert refusal_lines() == [f"rectify: error: {path}: 1 error, nothing imported",
                               "row 2, reporter_name: 101 characters, at most 100"]


@pytest.mark.parametrize("flag, value, expected", [
    ("--measures", "退还\x0b罚款", "measures: a control character (U+000B) at character 3: "
                                 "only line breaks and tabs may be used"),
    ("--owner", "赵" * 101, "owner: 101 characters, at most 100"),
    ("--owner", "赵书涵\t", "owner: a tab (U+0009) at character 4: one line of text"),
])
def test_what_a_step_is_given_is_held_to_its_column(loaded: Cli, engine, flag, value, expected):
    n = loaded.ok(*ADD, "--unit", "county-a", "--summary", "乱罚款").stdout.strip()
    loaded.ok("clue", "transition", n, "verify", "--as", "off.a", "--now", "2023-04-11")
    args = {"--measures": "退还罚款", "--owner": "赵书涵", "--deadline": "2023-06-30"} | {flag: value}
    msg = refused(loaded, engine, "clue", "transition", n, "substantiate", "--as", "off.a", "--now", "2023-04-12",
                  *[x for kv in args.items() for x in kv])
    assert msg == expected


def _plan(tmp_path: Path, name: str, change) -> Path:
    doc = yaml.safe_load(SMALL_PLAN.read_text(encoding="utf-8"))
    change(doc)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=10 ** 9), encoding="utf-8")
    return path


def _chain(doc):  # 31 units, each below the last
    doc["units"] += [{"code": f"t{i}", "name": f"第{i}队", "level": "team", "parent": f"t{i - 1}" if i > 1
                      else "town-c1"} for i in range(1, 29)]


PLANS = {  # (what it does to the small plan, the field refused, why)
    "title-1mb": (lambda d: d["campaign"].update(title="整" * 2 ** 20), "campaign.title",
                  "1,048,576 characters, at most 300"),
    "doc-number": (lambda d: d["campaign"].update(doc_number="示交发〔2023〕" + "1" * 100 + "号"),
                   "campaign.doc_number", "110 characters, at most 100"),
    "unit-name": (lambda d: d["units"][1].update(name="甲" * 201), "units[1].name",
                  "201 characters, at most 200"),
    "issuer-nul": (lambda d: d.update(escalation={"issuer_code": "示交\x00督"}), "escalation.issuer_code",
                   "NUL (U+0000) at character 3: one line of text"),
    "person-name": (lambda d: d["people"][0].update(name="李" * 101), "people[0].name",
                    "101 characters, at most 100"),
    "aspect-control": (lambda d: d["aspects"][0].update(name="逐利\x0b执法"), "aspects[0].name",
                       "a control character (U+000B) at character 3: one line of text"),
    "stage-name-break": (lambda d: d["stages"][0].update(name="动员\n部署"), "stages[0].name",
                         "a line break (U+000A) at character 3: one line of text"),
    "tree-too-deep": (_chain, "units[31].parent", "unit 't28' is more than 30 levels below the root"),
}


@pytest.mark.parametrize("name", sorted(PLANS))
def test_a_plan_that_passes_check_always_loads_on_either_database(cli: Cli, engine, tmp_path, name):
    change, field, why = PLANS[name]
    path = _plan(tmp_path, name, change)
    for args in (("load", path, "--check"), ("load", path)):
        msg = refused(cli, engine, *args)
        where, _, rest = msg.partition(": ")
        assert rest == f"{field}: {why}", msg
        file, line = where.rsplit(":", 1)  # names the file and the line of the field
        assert file == str(path) and line.isdigit() and int(line) >= 1


def test_a_plan_in_a_folder_too_deep_for_its_column_is_one_line_and_nothing_loaded(cli: Cli, engine, tmp_path):
    folder = tmp_path
    while len(str(folder)) <= 520:  # the campaign keeps its plan's path: 500 characters at most
        folder = folder / ("深" * 40)
    folder.mkdir(parents=True)
    plan = folder / "plan.yaml"
    plan.write_text(SMALL_PLAN.read_text(encoding="utf-8"), encoding="utf-8")
    msg = refused(cli, engine, "load", plan, "--now", "2023-03-15")
    assert msg.startswith("plan file path: ") and "500" in msg, msg


def test_the_limits_let_the_shipped_and_test_plans_through(cli: Cli, engine, tmp_path):
    cli.ok("load", SMALL_PLAN, "--check")
    for plan in ("000-neimenggu-2023", "003-xinzhou-2023", "004-haixi-2023"):
        cli.ok("load", plan, "--check")


# -- what reaches a spreadsheet stays text (item 5) --------------------------------------------
def _cells(path: Path):
    wb = openpyxl.load_workbook(path)
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


@pytest.mark.parametrize("summary", [FORMULA, "+86 1380000 0000", "-1+1", "@SUM(A1:A9)", "\t=1+1", "=1+1"])
def test_a_summary_that_looks_like_a_formula_is_exported_as_the_text_it_is(loaded: Cli, engine, tmp_path, summary):
    n = loaded.ok(*ADD, "--unit", "county-a", "--summary", summary).stdout.strip()
    assert loaded.json("clue", "show", n)["summary"] == summary.strip()
    out = tmp_path / "ledger.xlsx"
    loaded.ok("ledger", "export", "--unit", "city", "--template", "003-2023", "--out", out, "--date", "2023-05-15")
    cells = _cells(out)
    assert not [c.coordinate for c in cells if c.data_type == "f"], "a formula cell"
    [cell] = [c for c in cells if c.value == summary.strip()]
    assert cell.data_type == "s" and cell.quotePrefix  # Excel shows it as typed, and keeps it text on edit
    # and what the sheet says comes back unchanged
    assert loaded.ok("ledger", "import", out, "--as", "sup.city", "--now", "2023-05-16").stdout.strip() == \
        "added 0, updated 0, unchanged 1"


def test_report_workbooks_write_user_text_as_text(loaded: Cli, engine, tmp_path):
    n = _rectifying(loaded, summary=FORMULA)
    loaded.ok("clue", "typical", n, "--note", "=cmd|' /C calc'!A0", "--as", "sup.city", "--now", "2023-05-01")
    g = reports.generate(engine, CAMPAIGN, kind="final", formats=("xlsx", "docx"), out_dir=tmp_path / "reports",
                         actor=None, now=at("2023-11-01 09:00"))
    cells = _cells(Path(g.files["xlsx"]))
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    sheets = {c.parent.title for c in cells if c.value == FORMULA and c.data_type == "s"}
    assert {"典型案例", "台账004"} <= sheets, sheets
    assert [c.data_type for c in cells if c.value == "=cmd|' /C calc'!A0"] == ["s"]


def test_text_stored_before_the_door_never_stops_an_export_or_a_report(loaded: Cli, engine, tmp_path):
    n = _rectifying(loaded)
    with engine.begin() as conn:  # a row from before the door refused control characters: shown as their pictures (␋)
        conn.execute(update(Clue).where(Clue.number == n).values(summary=f"罚款\x0b不开票{FORMULA}",
                                                                 measures="1. 退还\x01罚款", remark="备" * 40_000))
    out = tmp_path / "ledger.xlsx"
    loaded.ok("ledger", "export", "--unit", "city", "--template", "004", "--out", out, "--date", "2023-05-15")
    values = {c.value for c in _cells(out)}
    assert f"罚款\u240b不开票{FORMULA}" in values and "1. 退还\u2401罚款" in values
    assert "备" * 32_766 + "…" in values  # no longer than an Excel cell holds
    g = reports.generate(engine, CAMPAIGN, kind="final", formats=("md", "xlsx", "docx"),
                         out_dir=tmp_path / "reports", actor=None, now=at("2023-11-01 09:00"))
    assert all(Path(f).stat().st_size > 0 for f in g.files.values())
    assert f"罚款\u240b不开票{FORMULA}" in {c.value for c in _cells(Path(g.files["xlsx"]))}


@pytest.mark.prefect
def test_the_issue_s_night_a_summary_with_a_control_character_and_the_notices_still_go_out(
        cli: Cli, engine, tmp_path, prefect_api):
    plan = _plan(tmp_path, "nightly", lambda d: d.update(reporting=[{
        "key": "weekly", "name": "周报", "start": "2023-04-01", "until": "2023-05-31", "owed_by": "lead",
        "schedule": {"kind": "weekly", "weekday": "thu", "at": "12:00"}}]))
    cli.ok("load", plan, "--now", "2023-03-15")
    n = cli.ok(*ADD[:-2], "--now", "2023-03-20", "--unit", "county-a", "--summary", "乱罚款").stdout.strip()
    with engine.begin() as conn:  # stored before the door: the issue's \x0b, and a formula
        conn.execute(update(Clue).where(Clue.number == n).values(summary=f"乱罚款\x0b{FORMULA}"))
    env = {"PREFECT_API_URL": prefect_api, "RECTIFY_FILE_DROP": str(tmp_path / "drop"),
           "RECTIFY_REPORTS_DIR": str(tmp_path / "reports")}
    r = cli.ok("enforce", "--now", "2023-04-08 00:05", env=env, timeout=240)
    # 3 stage lapses, the clue's verification, the lead's missed weekly report: 5 notices, all sent
    assert "5 new lapses" in r.stdout and "messages sent 5, failed 0" in r.stdout, str(r)
    assert len(list((tmp_path / "drop").iterdir())) == 5
    [xlsx] = (tmp_path / "reports").rglob("weekly-2023-04-06.xlsx")
    overdue = [c for c in _cells(xlsx) if c.parent.title == "逾期问题" and isinstance(c.value, str)
               and c.value.startswith("乱罚款")]
    assert [(c.value, c.data_type) for c in overdue] == [(f"乱罚款\u240b{FORMULA}", "s")]


@pytest.mark.prefect
def test_a_night_whose_report_step_fails_still_sends_its_notices_and_says_so_in_one_line(
        cli: Cli, engine, tmp_path, prefect_api):
    plan = _plan(tmp_path, "nightly", lambda d: d.update(reporting=[{
        "key": "weekly", "name": "周报", "start": "2023-04-01", "until": "2023-05-31", "owed_by": "lead",
        "schedule": {"kind": "weekly", "weekday": "thu", "at": "12:00"}}]))
    cli.ok("load", plan, "--now", "2023-03-15")
    blocked = tmp_path / "reports"
    blocked.write_text("not a folder", encoding="utf-8")
    env = {"PREFECT_API_URL": prefect_api, "RECTIFY_FILE_DROP": str(tmp_path / "drop"),
           "RECTIFY_REPORTS_DIR": str(blocked)}
    r = cli.run("enforce", "--now", "2023-04-08 00:05", env=env, timeout=240)
    assert_one_line_error(r, code=1)
    assert r.stderr.startswith(f"rectify: error: weekly report 2023-04-06: cannot write the report to {blocked}/")
    assert r.stderr.rstrip().endswith("reports failed; sweep, calendar check, escalation, witness, delivery ran "
                                      "(messages sent 4, failed 0)"), str(r)
    assert len(list((tmp_path / "drop").iterdir())) == 4  # the night's notices went out


# -- deadlines (item 11) -----------------------------------------------------------------------
@pytest.mark.parametrize("deadline, expected", [
    ("9999-12-31", "the deadline 9999-12-31 is beyond the plan's limit of 90 working days (at most 2023-08-18)"),
    ("2023-08-19", "the deadline 2023-08-19 is beyond the plan's limit of 90 working days (at most 2023-08-18)"),
    ("2023-04-11", "the deadline 2023-04-11 is before the day it is set (2023-04-12)"),
    ("0001-01-01", "the deadline 0001-01-01 is before the day it is set (2023-04-12)"),
])
def test_substantiate_refuses_a_deadline_outside_the_plan_s_limit(loaded: Cli, engine, deadline, expected):
    n = loaded.ok(*ADD, "--unit", "county-a", "--summary", "乱罚款").stdout.strip()
    loaded.ok("clue", "transition", n, "verify", "--as", "off.a", "--now", "2023-04-11")
    msg = refused(loaded, engine, "clue", "transition", n, "substantiate", "--as", "off.a", "--now", "2023-04-12",
                  "--measures", "退还罚款", "--owner", "赵书涵", "--deadline", deadline)
    assert msg.startswith(f"clue {n}: 'substantiate' refused (deadline_within_limit): {expected}"), msg
    loaded.ok("clue", "transition", n, "substantiate", "--as", "off.a", "--now", "2023-04-12",
              "--measures", "退还罚款", "--owner", "赵书涵", "--deadline", "2023-08-18")


def test_only_the_level_above_extends_a_deadline_before_it_passes(loaded: Cli, engine):
    n = _rectifying(loaded, deadline="2023-06-30")
    ext = ("clue", "transition", n, "extend", "--deadline", "2023-07-31", "--reason", "汛期施工，申请延期")
    assert refused(loaded, engine, *ext, "--as", "off.a", "--now", "2023-06-20") == \
        "off.a (甲县) may not 'extend' clues: 甲县 is their own unit"
    assert refused(loaded, engine, *ext, "--as", "sup.a", "--now", "2023-06-20").startswith(
        "sup.a (甲县) may not 'extend' clues")  # the unit's own supervisor neither
    assert refused(loaded, engine, *ext, "--as", "sup.city", "--now", "2023-07-01 00:00").endswith(
        "its deadline 2023-06-30 has passed: an extension (延期) is asked for before the deadline, "
        "and an overdue item stays overdue")
    assert refused(loaded, engine, "clue", "transition", n, "extend", "--deadline", "2023-06-29", "--reason", "r",
                   "--as", "sup.city", "--now", "2023-06-20").endswith(
        "the new deadline 2023-06-29 is not later than the current one (2023-06-30)")
    loaded.ok(*ext, "--as", "sup.city", "--now", "2023-06-30 18:00")
    shown = loaded.json("clue", "show", n)
    assert shown["deadline_at"].startswith("2023-07-31") and shown["state"] == "rectifying"
    last = shown["history"][-1]
    assert (last["trigger"], last["actor"], last["reason"]) == ("extend", "sup.city", "汛期施工，申请延期")
    assert "2023-07-31" in last["detail"]
    loaded.ok("audit", "verify")


def test_a_ledger_cannot_move_a_deadline_the_day_before_it_lapses(loaded: Cli, engine, tmp_path):
    n = _rectifying(loaded, deadline="2023-06-30")
    out = tmp_path / "ledger.xlsx"
    loaded.ok("ledger", "export", "--unit", "city", "--template", "004", "--out", out, "--date", "2023-06-29")
    wb = openpyxl.load_workbook(out)
    ws = wb.active
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, ws.max_column).value == n)
    col = next(c.column for c in ws[3] if c.value == "整改时限")
    ws.cell(row, col, "2026-12-31")
    wb.save(out)
    before = counts(engine)
    r = loaded.run("ledger", "import", out, "--as", "sup.city", "--now", "2023-06-29 16:00")
    assert r.returncode == 1 and "Traceback" not in r.stderr + r.stdout, str(r)
    assert r.stderr.strip().splitlines() == [
        f"rectify: error: {out}: 1 error, nothing imported",
        f"row {row}, 整改时限: 2026-12-31, but the deadline of {n} is 2023-06-30 and a ledger does not move it; "
        "a later deadline is an extension (延期): asked for before the deadline passes, granted by a supervisor "
        f"above the unit ('rectify clue transition {n} extend --deadline 2026-12-31 --reason …')"]
    assert counts(engine) == before
    assert loaded.json("clue", "list", "--overdue", "--now", "2023-07-01")[0]["number"] == n


CAL = WorkingCalendar()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offset=st.integers(-400, 400), day=st.dates(date(2023, 4, 1), date(2023, 9, 30)))
def test_a_deadline_is_accepted_exactly_within_the_limit_and_a_refusal_writes_nothing(engine, campaign, offset, day):
    # the small plan: 90 working days (tests/fixtures/small-plan.yaml)
    now = at(f"{day.isoformat()} 10:00")
    [n] = clues.add_clues(engine, campaign, [clues.NewClue("12345", "profit", "乱罚款", "county-a")],
                          actor="sup.city", now=now, calendar=CAL)
    clues.transition(engine, campaign, n, "verify", actor="off.a", now=now, calendar=CAL)
    deadline = day + timedelta(days=offset)
    latest, seen, d = None, 0, day  # the oracle walks the calendar
    while seen < 90:
        d += timedelta(days=1)
        seen += CAL.is_workday(d)
    latest = d
    data = clues.ClueInput(measures="退还罚款", owner="赵书涵", deadline=deadline)
    before = counts(engine)
    if day <= deadline <= latest:
        v = clues.transition(engine, campaign, n, "substantiate", actor="off.a", now=now, data=data, calendar=CAL)
        assert v.state == "rectifying" and v.deadline_at.date() == deadline
    else:
        with pytest.raises(GuardRefused, match="deadline_within_limit"):
            clues.transition(engine, campaign, n, "substantiate", actor="off.a", now=now, data=data, calendar=CAL)
        assert counts(engine) == before


def test_the_bulk_path_holds_the_same_limit(engine, campaign):
    numbers = clues.add_clues(engine, campaign, [clues.NewClue("12345", "profit", "乱罚款", "county-a")] * 2,
                              actor="sup.city", now=at("2023-04-10"), calendar=CAL)
    clues.bulk_transition(engine, campaign, "verify", actor="off.a", now=at("2023-04-11"), numbers=numbers)
    far = clues.ClueInput(measures="退还罚款", owner="赵书涵", deadline=date(9999, 12, 31))
    before = counts(engine)
    with pytest.raises(GuardRefused, match=r"beyond the plan's limit of 90 working days \(at most 2023-08-17\)"):
        clues.bulk_transition(engine, campaign, "substantiate", actor="off.a", now=at("2023-04-11"), data=far,
                              numbers=numbers, calendar=CAL)
    assert counts(engine) == before
    ok = clues.bulk_transition(engine, campaign, "substantiate", actor="off.a", now=at("2023-04-11"),
                               data=clues.ClueInput(measures="退还罚款", owner="赵书涵", deadline=date(2023, 6, 30)),
                               numbers=numbers, calendar=CAL)
    assert len(ok.moved) == 2
    # 延期 as a set: only rows whose deadline still runs and is earlier move
    later = clues.ClueInput(reason="汛期施工", deadline=date(2023, 7, 14))
    r = clues.bulk_transition(engine, campaign, "extend", actor="sup.city", now=at("2023-06-30 20:00"), data=later,
                              numbers=numbers, calendar=CAL)
    assert len(r.moved) == 2 and r.skipped == 0
    again = clues.bulk_transition(engine, campaign, "extend", actor="sup.city", now=at("2023-07-20"),
                                  data=clues.ClueInput(reason="汛期施工", deadline=date(2023, 7, 31)),
                                  numbers=numbers, calendar=CAL)
    assert again.moved == [] and again.skipped == 2  # passed: an overdue item stays overdue
