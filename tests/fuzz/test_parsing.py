"""Hostile and careless files, through the real `rectify` command (issue 13): plans,
clue CSVs and ledger workbooks on SQLite and PostgreSQL.

Each case ends in acceptance or in one line `rectify: error: …` with a non-zero
exit, never a traceback, quickly (a subprocess timeout fails the case: the
billion laughs ran 41 s into a MemoryError, one cell at XFD1 took minutes), and a
refusal writes nothing: the rows of every table that a command could write are
counted before and after.
"""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from models.db import make_engine
from models.tables import AuditRecord, Campaign, Clue, EscalationCase, InspectionRound, Notice, OutboxMessage, Unit
from services.core.input_files import MAX_CSV_BYTES, MAX_PLAN_BYTES

from ..e2e.conftest import SMALL_PLAN, Cli, Result, assert_one_line_error, clean_env

FAST = 60  # seconds: far more than any of these takes when bounded, far less than unbounded
TABLES = (Campaign, Unit, Clue, AuditRecord, EscalationCase, Notice, OutboxMessage, InspectionRound)


@pytest.fixture
def cli(db_url, tmp_path) -> Cli:
    return Cli(clean_env(db_url, tmp_path), tmp_path)


@pytest.fixture
def rows(db_url):
    """rows() → how many rows each table a command could write holds now."""
    engine = make_engine(db_url)

    def count() -> dict[str, int]:
        with engine.connect() as conn:
            return {t.__tablename__: conn.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in TABLES}
    yield count
    engine.dispose()


def refused(cli: Cli, rows, *args, says: str) -> str:
    """Run a command that must be refused in one line saying `says`, writing nothing."""
    before = rows()
    r = cli.run(*args, timeout=FAST)
    assert_one_line_error(r)
    assert "Traceback" not in r.stdout + r.stderr, str(r)
    assert says in r.stderr, str(r)
    assert rows() == before, f"a refused command wrote\n{r}"
    return r.stderr.strip().removeprefix("rectify: error: ")


def on_sqlite_and(cases, *, postgres: tuple[str, ...]) -> list:
    """(db_url, case) parameters: every case on SQLite, the named ones on PostgreSQL too.
    These refusals come from reading the file, before any SQL is sent, so one database
    proves each case; the PostgreSQL ones keep a refusal through that driver checked."""
    assert set(postgres) <= set(cases)
    return [pytest.param("sqlite", c, id=f"sqlite-{c}") for c in cases] + [
        pytest.param("postgres", c, id=f"postgres-{c}", marks=pytest.mark.postgres) for c in postgres]


def plan_text(**replace: str) -> str:
    text = SMALL_PLAN.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    return text


# -- plans ------------------------------------------------------------------------------
def _laughs(levels: int = 24) -> str:
    """Each level nine aliases of the one before: 9**24 strings from 2 KiB."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    return "\n".join(lines) + "\n"


HOSTILE_PLANS = {
    "billion laughs": (_laughs(), "anchors and aliases are not accepted"),
    "a self-referencing alias": ("campaign: &c [*c]\n", "anchors and aliases are not accepted"),
    "an alias inside a good plan": (plan_text(**{"  title: 示例专项整治": "  title: &t 示例专项整治",
                                                 "  issuing_unit: 示例市交通运输局": "  issuing_unit: *t"}),
                                    "plan.yaml:4: anchors and aliases are not accepted ('&t')"),
    "a list 10,000 deep": ("units: " + "[" * 10_000 + "]" * 10_000 + "\n", "nested more than 32 levels deep"),
    "a mapping 200 deep": ("".join(f"{'  ' * i}k{i}:\n" for i in range(200)) + "  " * 200 + "v\n",
                           "nested more than 32 levels deep"),
    "a key given twice": (plan_text(**{"  title: 示例专项整治": "  title: 示例专项整治\n  title: 另一个标题"}),
                          "plan.yaml:5: duplicate key 'title' (first on line 4)"),
    "a top-level section given twice": (plan_text() + "aspects:\n  - {key: other, name: 其他}\n",
                                        "duplicate key 'aspects' (first on line 8)"),
    "a cron that only looks valid": (plan_text(**{"  period:": "  sweep_cron: '99 99 * * *'\n  period:"}),
                                     "campaign.sweep_cron: minute 99 is outside 0-59"),
    "a weekday the schedulers read differently": (
        plan_text(**{"  period:": "  sweep_cron: '5 0 * * 1'\n  period:"}), "campaign.sweep_cron: day of week '1'"),
    "an e-mail address with a line break": (
        plan_text(**{"email: insp.city@example.test": 'email: "insp.city@example.test\\r\\nBcc: all@example.test"'}),
        # refused by the text limits first (statemachine/limits.py: one line of text)
        "people[5].email: a line break (U+000D)"),
    "two e-mail addresses in one": (
        plan_text(**{"email: insp.city@example.test": "email: 'a@example.test, b@example.test'"}),
        "people[5].email: 'a@example.test, b@example.test' is not one e-mail address"),
    "an e-mail address without a domain": (
        plan_text(**{"email: insp.city@example.test": "email: insp.city"}),
        "people[5].email: 'insp.city' is not an e-mail address"),
    "a liaison's address with a display name": (
        plan_text(**{"{code: county-b, name: 乙县, level: county, parent: city}":
                     "{code: county-b, name: 乙县, level: county, parent: city, "
                     "liaison: {name: 钱文博, email: '钱文博 <b@example.test>'}}"}),
        "units[2].liaison.email: '钱文博 <b@example.test>' is not one e-mail address"),
    "a tag that builds an object": ("campaign: !!python/object/apply:os.system ['id']\n",
                                    "not valid YAML"),
}


@pytest.mark.parametrize("db_url, case", on_sqlite_and(HOSTILE_PLANS, postgres=("billion laughs",
                                                                              "a key given twice")),
                         indirect=["db_url"])
def test_a_hostile_plan_is_refused_in_one_line_quickly_and_nothing_is_loaded(cli, rows, tmp_path, case):
    text, says = HOSTILE_PLANS[case]
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    refused(cli, rows, "load", "--check", "plan.yaml", says=says)
    refused(cli, rows, "load", "plan.yaml", "--now", "2023-03-15", says=says)
    assert rows()["campaigns"] == 0


def test_a_plan_larger_than_any_plan_is_refused_before_it_is_read(cli, rows, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(plan_text() + "#" * MAX_PLAN_BYTES + "\n", encoding="utf-8")
    refused(cli, rows, "load", plan, "--now", "2023-03-15", says="larger than any plan (at most 4 MiB is read)")
    refused(cli, rows, "load", "/dev/zero", says="/dev/zero: not a regular file")
    refused(cli, rows, "load", tmp_path, says="not a regular file")


def test_a_round_file_is_bounded_like_a_plan(cli, rows, tmp_path):
    cli.ok("load", SMALL_PLAN, "--now", "2023-03-15")
    spec = tmp_path / "round.yaml"
    spec.write_text(_laughs(), encoding="utf-8")
    refused(cli, rows, "round", "plan", spec, "--as", "sup.city", says="round.yaml:1: anchors and aliases")


# -- unit names several units share -----------------------------------------------------
# two 城区 (real: one in each county), and a unit named as another unit's code
COLLIDING = plan_text(**{
    "  - {code: town-c1, name: 甲县交通运输执法大队, level: team, parent: county-a}":
    "  - {code: town-c1, name: 甲县交通运输执法大队, level: team, parent: county-a}\n"
    "  - {code: chengqu-1, name: 城区, level: team, parent: county-a}\n"
    "  - {code: chengqu-2, name: 城区, level: team, parent: county-b}\n"
    "  - {code: county-c, name: county-b, level: county, parent: city}"})


@pytest.fixture
def colliding(cli, tmp_path) -> Cli:
    plan = tmp_path / "colliding.yaml"
    plan.write_text(COLLIDING, encoding="utf-8")
    r = cli.ok("load", plan, "--now", "2023-03-15")
    assert "loaded campaign 'smoke-2023'" in r.stdout
    return cli


def test_the_plan_validator_warns_of_names_several_units_share_and_still_loads(cli, rows, tmp_path):
    plan = tmp_path / "colliding.yaml"
    plan.write_text(COLLIDING, encoding="utf-8")
    for args in (("load", "--check", plan), ("load", plan, "--now", "2023-03-15")):
        r = cli.ok(*args)
        warnings = r.stderr.strip().splitlines()
        assert warnings == [
            f"rectify: warning: {plan}: units chengqu-1, chengqu-2 share the name '城区': "
            f"the name alone is refused, give their codes",
            f"rectify: warning: {plan}: unit 'county-c' is named 'county-b', which is another unit's "
            f"code: 'county-b' means that unit, give 'county-c' for this one"], str(r)
    assert rows()["campaigns"] == 1
    # loading it again is refused in the one line, without the warnings
    refused(cli, rows, "load", plan, "--now", "2023-03-16", says="campaign 'smoke-2023' is already loaded")
    # a plan without such names loads without a word on stderr
    assert cli.ok("load", "--check", SMALL_PLAN).stderr == ""


def test_escalate_by_a_shared_name_is_refused_listing_the_codes(colliding, rows):
    cli = colliding
    msg = refused(cli, rows, "escalate", "城区", "--level", "1", "--reason", "工作不力", "--as", "sup.city",
                  "--now", "2023-04-10", says="城区")
    assert msg == "unit name '城区' is shared by 2 units: give the code (chengqu-1, chengqu-2)"
    cli.ok("escalate", "chengqu-2", "--level", "1", "--reason", "工作不力", "--as", "sup.city",
           "--now", "2023-04-10")
    # a code identifies even where another unit bears it as its name: never 'the first row found'
    cli.ok("escalate", "county-b", "--level", "1", "--reason", "工作不力", "--as", "sup.city",
           "--now", "2023-04-10")
    # a name only one unit bears still works
    cli.ok("escalate", "甲县", "--level", "1", "--reason", "工作不力", "--as", "sup.city", "--now", "2023-04-10")
    cases = cli.json("case", "list")
    assert sorted((c["unit"], c["unit_name"]) for c in cases) == [
        ("chengqu-2", "城区"), ("county-a", "甲县"), ("county-b", "乙县")]


def test_every_command_naming_a_unit_refuses_a_shared_name(colliding, rows, tmp_path):
    cli = colliding
    says = "unit name '城区' is shared by 2 units: give the code (chengqu-1, chengqu-2)"
    refused(cli, rows, "clue", "add", "--unit", "城区", "--channel", "12345", "--aspect", "profit",
            "--summary", "乱罚款", "--as", "sup.city", "--now", "2023-04-10", says=says)
    csv = tmp_path / "clues.csv"
    csv.write_text("channel,aspect,summary,unit\n12345,profit,乱罚款,甲县\n12345,profit,乱收费,城区\n",
                   encoding="utf-8")
    before = rows()
    r = cli.run("clue", "import", csv, "--as", "sup.city", "--now", "2023-04-10", timeout=FAST)
    # the count, then one line per bad cell, as a ledger's (issue 15)
    assert r.returncode == 1 and r.stderr.splitlines() == [
        f"rectify: error: {csv}: 1 error, nothing imported", f"row 3, unit: {says}"], str(r)
    assert rows() == before
    refused(cli, rows, "clue", "list", "--unit", "城区", says=says)
    refused(cli, rows, "case", "list", "--unit", "城区", says=says)
    refused(cli, rows, "ledger", "export", "--unit", "城区", "--template", "004", "--out", tmp_path / "x.xlsx",
            says=says)
    assert not (tmp_path / "x.xlsx").exists()
    cli.ok("clue", "list", "--unit", "chengqu-1")


def test_a_ledger_row_naming_a_shared_name_is_refused_naming_its_row(colliding, rows, tmp_path):
    cli = colliding
    path = tmp_path / "ledger.xlsx"
    cli.ok("ledger", "export", "--unit", "city", "--template", "003-2023", "--out", path, "--date", "2023-05-15")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    row = 7  # the first row under the two-line header (tests/fixtures/ledgers/city-003-2023.txt)
    for col, value in (("A", 1), ("B", "“逐利执法”问题"), ("C", "乱罚款"), ("H", "城区")):
        ws[f"{col}{row}"] = value
    wb.save(path)
    before = rows()
    r = cli.run("ledger", "import", path, "--as", "sup.city", "--now", "2023-05-16", timeout=FAST)
    # a ledger's refusal is its one line, then one line per bad cell (app/cli/__init__.py)
    assert r.returncode == 1 and "Traceback" not in r.stdout + r.stderr, str(r)
    assert r.stderr.splitlines() == [
        f"rectify: error: {path}: 1 error, nothing imported",
        "row 7, 责任单位: unit name '城区' is shared by 2 units: give the code (chengqu-1, chengqu-2)"], str(r)
    assert rows() == before
    ws[f"H{row}"] = "chengqu-1"
    wb.save(path)
    assert "added 1" in cli.ok("ledger", "import", path, "--as", "sup.city", "--now", "2023-05-16").stdout


# -- clue CSV ---------------------------------------------------------------------------
@pytest.fixture
def loaded(cli, campaign) -> Cli:
    # the small plan comes loaded from the session's template (tests/conftest.py);
    # `rectify load` itself is driven through the command in tests/e2e/test_cli.py
    return cli


def _import(cli: Cli, tmp_path: Path, data: bytes) -> tuple[Path, Result]:
    path = tmp_path / "clues.csv"
    path.write_bytes(data)
    return path, cli.run("clue", "import", path, "--as", "sup.city", "--now", "2023-04-10", timeout=FAST)


def test_a_csv_saved_with_cr_line_endings_is_read(loaded, rows, tmp_path):
    # Excel for Mac's "CSV (Macintosh)": records end in CR alone
    _, r = _import(loaded, tmp_path, "channel,aspect,summary,unit\r12345,profit,乱罚款,county-a\r"
                                     "12328,profit,\"乱收费\r又一行\",county-b\r".encode("utf-8"))
    assert r.returncode == 0 and "Traceback" not in r.stderr, str(r)
    assert rows()["clues"] == 2
    shown = loaded.json("clue", "list")
    # a line break inside a quoted cell is kept as a line break (the door writes it \n)
    assert sorted(c["summary"] for c in shown) == ["乱收费\n又一行", "乱罚款"]


HOSTILE_CSV = {
    "a cell over 131,072 characters": (
        b"channel,aspect,summary,unit\n12345,profit,ok,county-a\n12345,profit," + b"x" * 131_073 + b",county-a\n",
        "row 3: cannot read the CSV: a cell is longer than 131,072 characters"),
    "a quoted cell that never ends": (
        b'channel,aspect,summary,unit\n12345,profit,"' + b"x" * 200_000 + b"\n",
        "row 2: cannot read the CSV: a cell is longer than 131,072 characters"),
    "a heading given twice": (b"channel,aspect,summary,unit,summary\n12345,profit,a,county-a,b\n",
                              "row 1: column 'summary' is given twice (columns 3 and 5)"),
    "two headings for one column": ("channel,aspect,summary,unit,问题描述\n12345,profit,a,county-a,b\n".encode(),
                                    "row 1: columns 'summary' and '问题描述' are both the summary"),
    "neither UTF-8 nor GB18030": (b"channel,aspect,summary,unit\n12345,profit,\x80\x80\xff,county-a\n",
                                  "not UTF-8 or GB18030 text"),
    "more cells than headings": (b"channel,aspect,summary,unit\n12345,profit,a,county-a,extra\n",
                                 "row 2: 5 cells but the header has 4"),
}


@pytest.mark.parametrize("case", HOSTILE_CSV)
def test_a_hostile_csv_is_refused_in_one_line_and_nothing_is_imported(loaded, rows, tmp_path, case):
    data, says = HOSTILE_CSV[case]
    path = tmp_path / "clues.csv"
    path.write_bytes(data)
    refused(loaded, rows, "clue", "import", path, "--as", "sup.city", "--now", "2023-04-10", says=says)


def test_a_csv_larger_than_any_import_is_refused_before_it_is_read(loaded, rows, tmp_path):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as f:
        f.write(b"channel,aspect,summary,unit\n")
        f.truncate(MAX_CSV_BYTES + 1)  # sparse: the size is what is checked, before a byte is read
    refused(loaded, rows, "clue", "import", path, "--as", "sup.city", "--now", "2023-04-10",
            says="larger than any clue CSV")


# -- ledger workbooks -------------------------------------------------------------------
SHEET = "xl/worksheets/sheet1.xml"


def _workbook(**cells) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws["A1"], ws["B1"], ws["C1"] = "序号", "问题方面", "问题表现"
    for ref, value in cells.items():
        ws[ref] = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _edited(data: bytes, part: str, edit=None, add: tuple = ()) -> bytes:
    """The workbook with one part's bytes edited, and parts added (name, bytes)."""
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            z.writestr(info.filename, edit(body) if edit and info.filename == part else body)
        for name, body in add:
            z.writestr(name, body)
    return out.getvalue()


def _merge(ref: str):
    return lambda body: body.replace(b"</sheetData>", f'</sheetData><mergeCells count="1"><mergeCell ref="{ref}"/>'
                                                      f"</mergeCells>".encode())


_DTD = b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
HOSTILE_XLSX = {
    "one cell at XFD1": (lambda: _workbook(XFD1="x"), "sheet '台账' has a cell at XFD1: a ledger has at most "
                                                      "20,000 rows and 256 columns"),
    "one cell at A1048576": (lambda: _workbook(A1048576="x"), "has a cell at A1048576"),
    "a merged range over 200,000 rows": (lambda: _edited(_workbook(), SHEET, _merge("B2:B200001")),
                                         "sheet '台账' merges B2:B200001"),
    "merged ranges over 200,000 cells": (lambda: _edited(_workbook(), SHEET, _merge("A2:Z9000")),
                                         "more than 200,000 cells in merged or linked ranges"),
    "a hyperlink over a whole column": (
        lambda: _edited(_workbook(), SHEET, lambda b: b.replace(
            b"</sheetData>", b'</sheetData><hyperlinks><hyperlink ref="D1:D1048576" display="x"/></hyperlinks>')),
        "sheet '台账' links D1:D1048576: a ledger has at most 20,000 rows"),
    "hyperlinks over 200,000 cells": (
        lambda: _edited(_workbook(), SHEET, lambda b: b.replace(
            b"</sheetData>", b'</sheetData><hyperlinks><hyperlink ref="A2:K19999" display="x"/></hyperlinks>')),
        "more than 200,000 cells in merged or linked ranges"),
    "a comment on XFD1048576": (  # openpyxl would make the cell it is on
        lambda: _edited(_workbook(), "", add=(("xl/comments1.xml", (
            '<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><authors>'
            '<author>x</author></authors><commentList><comment ref="XFD1048576" authorId="0"><text><t>x</t>'
            '</text></comment></commentList></comments>').encode()),)),
        "xl/comments1.xml: a comment on 'XFD1048576', outside any ledger"),
    "a DTD in a sheet": (lambda: _edited(_workbook(), SHEET,
                                         lambda b: _DTD + b.replace(b"<t>", b"<t>&b;", 1)),
                         "xl/worksheets/sheet1.xml declares a DTD"),
    "a DTD in the styles": (lambda: _edited(_workbook(), "xl/styles.xml", lambda b: _DTD + b),
                            "xl/styles.xml declares a DTD"),
    "a part that inflates past 256 MiB": (
        lambda: _edited(_workbook(), "", add=(("xl/media/image1.png", b"\0" * (257 * 2**20)),)),
        "more than 256 MiB unzipped"),
    "a sheet that is not XML": (lambda: _edited(_workbook(), SHEET, lambda b: b[:-40]),
                                "xl/worksheets/sheet1.xml is not well-formed XML"),
    "a cell reference that is none": (lambda: _edited(_workbook(), SHEET, lambda b: b.replace(b'r="A1"', b'r="1A"')),
                                      "'1A' is not a cell reference"),
    "a row number that is none": (lambda: _edited(_workbook(), SHEET,
                                                  lambda b: b.replace(b'<row r="1"', '<row r="²"'.encode(), 1)),
                                  "'²' is not a row number"),
    "a sheet entry openpyxl warns about": (  # and drops, saying so on stderr unless told not to
        lambda: _edited(_workbook(), "xl/workbook.xml",
                        lambda b: b.replace(b"</sheets>", b'<sheet name="x" sheetId="9"/></sheets>')),
        "cannot tell which template this is"),
    "a text file named .xlsx": (lambda: b"channel,aspect\n", "not an .xlsx workbook"),
    "a cell with a style that does not exist": (  # openpyxl: IndexError
        lambda: _edited(_workbook(), SHEET, lambda b: b.replace(b'<c r="A1"', b'<c r="A1" s="999"', 1)),
        "not an .xlsx workbook"),
    "a shared string that does not exist": (
        lambda: _edited(_workbook(), SHEET, lambda b: b.replace(b'<c r="A1" t="inlineStr"><is><t>',
                                                                b'<c r="A1" t="s"><v>99</v></c><c r="A9" '
                                                                b't="inlineStr"><is><t>', 1)),
        "not an .xlsx workbook"),
}


@pytest.mark.parametrize("db_url, case", on_sqlite_and(HOSTILE_XLSX, postgres=("one cell at XFD1",
                                                                             "a sheet that is not XML")),
                         indirect=["db_url"])
def test_a_hostile_workbook_is_refused_in_one_line_quickly_and_nothing_is_imported(loaded, rows, tmp_path,
                                                                                    case):
    make, says = HOSTILE_XLSX[case]
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(make())
    refused(loaded, rows, "ledger", "import", path, "--as", "sup.city", "--now", "2023-05-16", says=says)
    refused(loaded, rows, "ledger", "import", path, "--check", "--as", "sup.city", says=says)


def test_a_workbook_larger_than_any_ledger_is_refused_before_it_is_read(loaded, rows, tmp_path):
    path = tmp_path / "huge.xlsx"
    with open(path, "wb") as f:
        f.truncate(32 * 2**20 + 1)
    refused(loaded, rows, "ledger", "import", path, "--as", "sup.city", "--now", "2023-05-16",
            says="larger than any ledger workbook")


def test_a_workbook_with_a_picture_and_loose_vml_is_still_read(loaded, rows, tmp_path):
    """What the check lets through: parts that are not XML, or VML as Excel writes it."""
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(_edited(_workbook(), "", add=(("xl/media/image1.png", b"\x89PNG\r\n\x1a\n" + os.urandom(4096)),
                                                   ("xl/drawings/vmlDrawing1.vml", b"<xml><o:shapelayout><br></xml>"))))
    r = loaded.run("ledger", "import", path, "--as", "sup.city", "--now", "2023-05-16", timeout=FAST)
    # the sheet itself is no ledger: the refusal is the reader's, past the check
    assert_one_line_error(r)
    assert "cannot tell which template this is" in r.stderr, str(r)


# -- generated input: whatever comes in, a result or the one expected error -------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from services.campaigns.plans import parse_plan  # noqa: E402
from services.clues.importing import read_clue_csv  # noqa: E402
from services.ledgers.importing import read_ledger  # noqa: E402
from statemachine.errors import InvalidInput, PlanError  # noqa: E402

_YAML_BITS = st.sampled_from(["campaign:", "units:", "- ", "  ", "\n", "[", "]", "{", "}", "&a ", "*a", "!!",
                              "!!python/object:os.system", "? ", ": ", "'", '"', "#", "|", ">", "%YAML 1.1\n",
                              "---\n", "...\n", "<<: ", "2023-02-30", "1e9", "~", "\t", "\x00", "\ufeff", "城区",
                              "code: x", "name: y", ","])


@settings(max_examples=300, deadline=None)
@given(st.lists(_YAML_BITS, max_size=60).map("".join) | st.text(max_size=200))
def test_any_text_read_as_a_plan_is_a_plan_or_one_plan_error_line(text):
    try:
        parse_plan(text, source="p.yaml")
    except PlanError as e:
        assert "\n" not in str(e) and str(e).startswith("p.yaml")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=400) | st.lists(st.sampled_from(
    [b",", b'"', b"\r", b"\n", b"\r\n", b"\x00", b"12345", b"profit", b"county-a", "城区".encode(), b"\xff",
     b"summary", b"channel", b"aspect", b"unit"]), max_size=80).map(b"".join))
def test_any_bytes_read_as_a_clue_csv_are_clues_or_one_error_line(tmp_path, body):
    path = tmp_path / "c.csv"
    path.write_bytes(b"channel,aspect,summary,unit\n" + body)
    try:
        read_clue_csv(path)
    except InvalidInput as e:
        # one line; or, for bad cells, the count and one line per cell (issue 15)
        first, *cells = str(e).split("\n")
        assert not cells or (first.endswith("nothing imported") and len(cells) == int(first.split(": ")[-1].split()[0])
                             and all(c.startswith("row ") for c in cells)), str(e)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1, max_size=6),
       part=st.sampled_from([SHEET, "xl/workbook.xml", "xl/styles.xml", "xl/_rels/workbook.xml.rels",
                             "[Content_Types].xml"]))
def test_any_damaged_workbook_is_read_or_refused_in_one_line(tmp_path, flips, part):
    """Bytes of one XML part changed (inside the zip, so that the XML is what breaks)."""
    def damage(body: bytes) -> bytes:
        b = bytearray(body)
        for at, value in flips:
            b[at % len(b)] = value
        return bytes(b)

    path = tmp_path / "l.xlsx"
    path.write_bytes(_edited(_workbook(A2=1, B2="“逐利执法”问题", C2="乱罚款"), part, damage))
    try:
        read_ledger(path)
    except InvalidInput as e:
        assert "\n" not in str(e).split("nothing imported")[0]
