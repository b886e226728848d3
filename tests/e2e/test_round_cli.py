"""A look-back round as a supervisor and inspectors drive it from the command line:
a round file opened as a flow, checks recorded, the round closed, the report
and the re-drawn sample; bad input is one line and changes nothing."""
from __future__ import annotations

import pytest

from .conftest import Cli, clean_env

pytestmark = pytest.mark.slow

ROUND = """\
code: lb-2023
title: 专项整治问题整改“回头看”
kind: look_back
scope: city
selection: {mode: sample, share: 0.5, seed: 20230824}
deadline: 2023-09-15
visits: {start: 2023-09-01, end: 2023-09-08}
methods: [随机抽查, 案卷审查, 四不两直]
teams:
  - {code: t1, name: 第一督察组, leader: insp.city, members: [insp.city]}
  - {code: t2, name: 第二督察组, members: [insp.b]}
"""


@pytest.fixture
def round_cli(db_url, campaign, tmp_path, prefect_api) -> Cli:
    cli = Cli(clean_env(db_url, tmp_path, PREFECT_API_URL=prefect_api,
                        RECTIFY_FILE_DROP=str(tmp_path / "drop")), tmp_path)
    rows = ["unit,channel,aspect,summary"] + [f"{u},12345,profit,{u} 反映问题 {i}"
                                              for u, n in (("county-a", 4), ("county-b", 2)) for i in range(n)]
    (tmp_path / "clues.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    cli.ok("clue", "import", tmp_path / "clues.csv", "--as", "sup.city", "--now", "2023-04-10")
    sup = ("--as", "sup.city", "--state")
    cli.ok("clue", "bulk", "verify", *sup, "received", "--now", "2023-04-11")
    cli.ok("clue", "bulk", "substantiate", *sup, "verifying", "--measures", "整改", "--deadline", "2023-06-30",
           "--owner", "王主任", "--now", "2023-04-12")
    cli.ok("clue", "bulk", "submit_evidence", *sup, "rectifying", "--evidence", "整改报告", "--now", "2023-05-12")
    cli.ok("clue", "bulk", "approve", *sup, "rectified", "--now", "2023-05-20")
    (tmp_path / "round.yaml").write_text(ROUND, encoding="utf-8")
    return cli


def test_a_round_from_file_to_report(round_cli, tmp_path):
    cli = round_cli
    r = cli.ok("round", "open", tmp_path / "round.yaml", "--as", "sup.city", "--now", "2023-08-24 10:00",
               timeout=180)
    assert "drew 3 of 6 closed items in 2 units (seed 20230824)" in r.stdout, str(r)
    assert "notice 整治督〔2023〕1号" in r.stdout
    again = cli.ok("round", "open", "lb-2023", "--as", "sup.city", "--now", "2023-08-25", timeout=180)
    assert "open already: nothing changed" in again.stdout

    shown = cli.ok("round", "show", "lb-2023").stdout
    assert "第一督察组 (t1)" in shown and "乙县 (county-b)" in shown
    checks = cli.json("round", "checks", "lb-2023")
    assert len(checks) == 3 and {c["state"] for c in checks} == {"pending"}
    b_item = next(c for c in checks if c["unit"] == "county-b")
    assert b_item["team"] == "t1"  # insp.b comes from county-b: 回避
    a_items = sorted((c for c in checks if c["unit"] == "county-a"), key=lambda c: c["number"])
    who = {"t1": "insp.city", "t2": "insp.b"}

    r = cli.ok("round", "record", "lb-2023", a_items[0]["number"], "relapsed", "--method", "四不两直",
               "--findings", "执法站点再次出现乱罚款", "--as", who[a_items[0]["team"]], "--now", "2023-09-04")
    assert "→ 问题反弹" in r.stdout and "reopened with deadline" in r.stdout
    cli.ok("round", "record", "lb-2023", a_items[1]["number"], "faked", "--method", "案卷审查",
           "--findings", "整改台账系事后补写", "--as", who[a_items[1]["team"]], "--now", "2023-09-04")
    cli.ok("round", "record", "lb-2023", b_item["number"], "confirmed", "--method", "随机抽查",
           "--as", "insp.city", "--now", "2023-09-05")

    live = cli.ok("round", "report", "lb-2023", "--now", "2023-09-06").stdout
    assert "as of 2023-09-06" in live and "甲县" in live

    r = cli.ok("round", "close", "lb-2023", "--as", "sup.city", "--now", "2023-09-16 09:00", timeout=180)
    assert "3 of 3 checked" in r.stdout and "relapsed 1" in r.stdout and "faked 1" in r.stdout, str(r)
    assert "2 items reopened" in r.stdout and "1 accountability cases proposed" in r.stdout

    report = cli.json("round", "report", "lb-2023")
    assert report["final"] and report["tally"]["totals"]["relapse_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert [x["number"] for x in report["tally"]["reopened"]] == [a_items[0]["number"], a_items[1]["number"]]
    text = cli.ok("round", "report", "lb-2023").stdout
    assert "by unit" in text and "by aspect" in text and "reopened items" in text

    clue = cli.ok("clue", "show", a_items[0]["number"]).stdout
    assert "整改中" in clue and "重新整改(回头看)" in clue and "执法站点再次出现乱罚款" in clue
    cases = cli.json("case", "list")
    assert [(c["unit"], c["level"], c["state"]) for c in cases] == [("county-a", 4, "proposed")]
    assert "sample OK" in cli.ok("round", "verify", "lb-2023").stdout
    assert "cannot be opened" in cli.fail("round", "open", "lb-2023", "--as", "sup.city")


def test_bad_round_input_is_one_line_and_changes_nothing(round_cli, tmp_path):
    cli = round_cli
    bad = tmp_path / "bad.yaml"
    bad.write_text(ROUND.replace("share: 0.5", "share: 2"), encoding="utf-8")
    msg = cli.fail("round", "plan", bad, "--as", "sup.city", "--now", "2023-08-24")
    assert msg.startswith(f"{bad}:5: selection.share") and "less than or equal to 1" in msg
    bad.write_text(ROUND.replace("四不两直", "走马观花"), encoding="utf-8")
    assert "unknown method '走马观花'" in cli.fail("round", "plan", bad, "--as", "sup.city")
    assert "only a supervisor" in cli.fail("round", "plan", tmp_path / "round.yaml", "--as", "off.a",
                                           "--now", "2023-08-24")
    assert cli.json("round", "list") == []
    cli.ok("round", "plan", tmp_path / "round.yaml", "--as", "sup.city", "--now", "2023-08-24")
    assert "exists already" in cli.fail("round", "plan", tmp_path / "round.yaml", "--as", "sup.city",
                                        "--now", "2023-08-24")
    assert "may not open round" in cli.fail("round", "open", "lb-2023", "--as", "insp.city")
    assert "unknown round 'nope'" in cli.fail("round", "show", "nope")
    assert "is planned" in cli.fail("round", "record", "lb-2023", "XS-2023-00001", "confirmed",
                                    "--method", "随机抽查", "--as", "sup.city", "--now", "2023-08-25")
    assert "unknown outcome 'fine'" in cli.fail("round", "record", "lb-2023", "XS-2023-00001", "fine",
                                                "--as", "sup.city", "--now", "2023-08-25")
