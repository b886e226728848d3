"""`rectify clue merge`, `callback` and `redo` (issue 16 items 5 and 6) as a person types them:
each step shown in `clue show`, telephone numbers masked, each refusal one line."""
from __future__ import annotations

from pathlib import Path

from .conftest import SMALL_PLAN, Cli

HEADER = "工单号,来源,问题方面,问题表现,责任单位,反映人,联系电话,受理时间\n"


def _walk_to_closed(cli: Cli, number: str) -> None:
    cli.ok("clue", "transition", number, "verify", "--as", "off.a", "--now", "2023-04-07")
    cli.ok("clue", "transition", number, "substantiate", "--measures", "退还罚款", "--deadline", "2023-04-28",
           "--owner", "赵书涵", "--as", "off.a", "--now", "2023-04-10")
    cli.ok("clue", "transition", number, "submit_evidence", "--evidence", "整改报告.pdf", "--as", "off.a",
           "--now", "2023-04-20")
    cli.ok("clue", "transition", number, "approve", "--as", "sup.city", "--now", "2023-04-21")


def test_merge_callback_and_redo_from_the_command_line(cli: Cli, tmp_path: Path):
    cli.ok("load", SMALL_PLAN, "--now", "2023-03-15")
    orders = tmp_path / "orders.csv"
    orders.write_text(HEADER + "GD-001,12345,profit,超限站违规罚款,county-a,韩雪松,13800000101,2023-04-06\n"
                               "XF-7,信访,profit,超限站违规罚款(信访),county-a,杜若溪,13800000102,2023-04-06\n",
                      encoding="utf-8")
    assert cli.ok("clue", "import", orders, "--as", "sup.city", "--now", "2023-04-06").stdout.strip() == \
        "imported 2 clues (XS-2023-00001 … XS-2023-00002)"
    keep, dup = "XS-2023-00001", "XS-2023-00002"

    # refusals: one line each, nothing changed
    assert "cannot be merged into itself" in cli.fail("clue", "merge", dup, "--into", dup, "--reason", "重复",
                                                      "--as", "sup.city", "--now", "2023-04-07")
    assert "甲县 is their own unit" in cli.fail(
        "clue", "merge", dup, "--into", keep, "--reason", "重复", "--as", "sup.a", "--now", "2023-04-07")
    assert "a reason (--reason) is required" in cli.fail("clue", "merge", dup, "--into", keep, "--as", "sup.city",
                                                         "--now", "2023-04-07")

    r = cli.ok("clue", "merge", dup, "--into", keep, "--reason", "同一事项", "--as", "sup.city", "--now", "2023-04-07")
    assert r.stdout.strip() == f"{dup} → 已合并, merged into {keep}: 1 source(s) moved"
    assert "merge into the item it was merged into" in cli.fail(
        "clue", "merge", keep, "--into", dup, "--reason", "重复", "--as", "sup.city", "--now", "2023-04-07")
    again = cli.ok("clue", "import", orders, "--as", "sup.city", "--now", "2023-04-08").stdout.strip()
    assert again == "imported 0 clues; 2 rows already imported by 工单号, left out"

    _walk_to_closed(cli, keep)
    shown = cli.ok("clue", "show", keep, "--now", "2023-04-21").stdout
    assert "GD-001" in shown and "XF-7" in shown and "138****0101" in shown and "138****0102" in shown
    assert "13800000101" not in shown and "回访: 待回访" in shown and "并入重复件" in shown
    assert f"已合并至 {keep}" in cli.ok("clue", "show", dup, "--now", "2023-04-21").stdout

    assert "甲县 is their own unit" in cli.fail(
        "clue", "callback", keep, "--result", "满意", "--as", "off.a", "--now", "2023-04-24")
    assert "unknown result '很满意'" in cli.fail("clue", "callback", keep, "--result", "很满意", "--as", "sup.city",
                                              "--now", "2023-04-24")
    r = cli.ok("clue", "callback", keep, "--result", "不满意", "--unit-at-fault", "--note", "罚款未退还",
               "--as", "sup.city", "--now", "2023-04-24")
    assert r.stdout.strip() == f"{keep}: callback recorded, 不满意, the unit at fault: 重办 may follow"
    assert "made already" in cli.fail("clue", "callback", keep, "--result", "满意", "--as", "sup.city",
                                      "--now", "2023-04-24")

    r = cli.ok("clue", "redo", keep, "--reason", "群众不满意，重新整改", "--deadline", "2023-05-31",
               "--as", "sup.city", "--now", "2023-04-25")
    assert r.stdout.strip() == f"{keep} → 整改中, deadline 2023-05-31"
    shown = cli.ok("clue", "show", keep, "--now", "2023-04-25").stdout
    assert "回访记录" in shown and "罚款未退还" in shown and "重办" in shown
    assert "cannot 'redo' in state 'rectifying'" in cli.fail("clue", "redo", keep, "--reason", "再次", "--as", "sup.city",
                                                "--now", "2023-04-26")
