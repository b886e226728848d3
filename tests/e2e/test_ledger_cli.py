"""`rectify ledger export/import` with the real console script (SQLite and PostgreSQL)."""
from __future__ import annotations

import openpyxl
import pytest

from ..integration.test_ledger_xlsx import blank_template, ledger_plan_text
from .conftest import Cli


def setup(cli: Cli, tmp_path) -> str:
    plan = tmp_path / "ledger-plan.yaml"
    plan.write_text(ledger_plan_text(), encoding="utf-8")
    cli.ok("load", plan, "--now", "2023-03-15")
    # a change to the 2023 campaign says its day (issue 15): the ledger comes back in May
    cli.env["RECTIFY_NOW"] = "2023-05-16"
    add = ("clue", "add", "--channel", "自查自纠", "--kind", "self_inspection", "--as", "sup.city",
           "--now", "2023-04-10")
    n = cli.ok(*add, "--unit", "county-a", "--aspect", "profit", "--summary", "罚款不开票").stdout.strip()
    cli.ok(*add, "--unit", "county-b", "--aspect", "nonstandard", "--summary", "随意拦车")
    cli.ok("clue", "transition", n, "verify", "--as", "off.a", "--now", "2023-04-11")
    cli.ok("clue", "transition", n, "substantiate", "--as", "off.a", "--now", "2023-04-12",
           "--measures", "1. 退还 2. 培训", "--deadline", "2023-06-30", "--owner", "赵书涵")
    return n


@pytest.mark.both_backends
def test_export_then_import_changes_nothing_then_a_filled_row_is_added(cli: Cli, tmp_path):
    n = setup(cli, tmp_path)
    out = tmp_path / "ledger.xlsx"
    r = cli.ok("ledger", "export", "--unit", "city", "--template", "004", "--out", out,
               "--date", "2023-05-15")
    assert r.stdout.strip() == f"wrote 2 items to {out}"
    ws = openpyxl.load_workbook(out).active
    # the title names the unit's place (the seed's form is a blank for every level)
    assert ws["A1"].value == "示例市交通运输执法领域突出问题整改工作台账" and ws["B2"].value is None
    assert ws.column_dimensions["J"].hidden and ws["J4"].value == n
    audit = cli.ok("audit", "verify").stdout
    assert cli.ok("ledger", "import", out, "--as", "sup.city").stdout.strip() == \
        "added 0, updated 0, unchanged 2"
    assert cli.ok("audit", "verify").stdout == audit

    filled = blank_template(tmp_path / "filled.xlsx", "004", [
        [1, "逐利执法问题", "1. 超限不开票 2. 乱收费", "退还", "甲县", "2023年6月30日", "已整改", "退款凭证"]])
    before = cli.json("clue", "list")
    assert cli.ok("ledger", "import", filled, "--check", "--as", "off.a", "--now", "2023-05-16"
                  ).stdout.strip() == ("ledger is valid: would add 1, update 0, leave 0 unchanged "
                                       "(nothing written)")
    assert cli.json("clue", "list") == before and cli.ok("audit", "verify").stdout == audit
    assert cli.ok("ledger", "import", filled, "--template", "004", "--as", "off.a",
                  "--now", "2023-05-16").stdout.strip() == "added 1, updated 0, unchanged 0"
    rows = cli.json("clue", "list", "--unit", "county-a")
    new = next(x for x in rows if x["number"] != n)
    assert (new["state"], new["summary"], new["owner"]) == ("rectified", "1. 超限不开票\n2. 乱收费", "黄丽娜")


def test_refusals_list_every_bad_row_and_change_nothing(cli: Cli, tmp_path):
    setup(cli, tmp_path)
    bad = blank_template(tmp_path / "bad.xlsx", "003-2023", [
        [1, "逐利执法", "罚款不开票", None, "退还", "6月30日前", None, "甲县"],
        [2, "无此方面", "乱收费", None, None, None, None, "丙县"],
    ])
    before = cli.json("clue", "list")
    r = cli.run("ledger", "import", bad, "--as", "sup.city")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        f"rectify: error: {bad}: 3 errors, nothing imported",
        "row 7, 完成时限: '6月30日前' has no year: write the full date, e.g. 2023年6月30日",
        "row 8, 问题方面: unknown aspect '无此方面' (one of “逐利执法”问题、执法不规范问题、执法粗暴问题)",
        "row 8, 责任单位: unknown unit '丙县' (give a unit's name or code)"]
    assert cli.json("clue", "list") == before
    # one-line refusals: options and files
    assert "unknown template '2024'" in cli.fail("ledger", "export", "--unit", "city", "--template",
                                                 "2024", "--out", tmp_path / "x.xlsx")
    assert "unknown unit" in cli.fail("ledger", "export", "--unit", "nowhere", "--template", "004",
                                      "--out", tmp_path / "x.xlsx")
    assert "not a date" in cli.fail("ledger", "export", "--unit", "city", "--template", "004",
                                    "--out", tmp_path / "x.xlsx", "--date", "5月15日")
    assert "no such file" in cli.fail("ledger", "import", tmp_path / "none.xlsx", "--as", "sup.city")
    assert "cannot write" in cli.fail("ledger", "export", "--unit", "city", "--template", "004",
                                      "--out", tmp_path / "no-such-dir" / "x.xlsx")
    other = blank_template(tmp_path / "other.xlsx", "004", [[1, "逐利执法", "罚款不开票", "退还", "甲县"]],
                           unit="乙县")
    r = cli.run("ledger", "import", other, "--as", "off.b")
    assert r.returncode == 1 and r.stderr.strip().splitlines() == [
        f"rectify: error: {other}: 1 error, nothing imported",
        "row 4, 责任单位: off.b (乙县) may not import ledger rows for 甲县: only that unit or a "
        "supervisor above it may"]
    assert cli.json("clue", "list") == before
