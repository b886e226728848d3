"""延期, 挂账 and 考核排名 through the real `rectify` console script: each step, each
refusal as one line on stderr that changes nothing, the clue's history, the ranking."""
from __future__ import annotations

from .conftest import SMALL_PLAN, Cli, assert_one_line_error


def _rectifying(cli: Cli, summary: str, deadline: str) -> str:
    n = cli.ok("clue", "add", "--unit", "county-a", "--channel", "12345", "--aspect", "profit", "--summary", summary,
               "--as", "sup.city", "--now", "2023-03-20").stdout.strip()
    cli.ok("clue", "transition", n, "verify", "--as", "off.a", "--now", "2023-03-21")
    cli.ok("clue", "transition", n, "substantiate", "--measures", "退还罚款", "--deadline", deadline,
           "--owner", "赵书涵", "--as", "off.a", "--now", "2023-03-22")
    return n


def _deadline(cli: Cli, n: str) -> str:
    return cli.json("clue", "show", n)["deadline_at"][:10]


def test_extension_requests_and_suspension_through_the_cli(sqlite_cli: Cli):
    cli = sqlite_cli
    cli.ok("init")
    cli.ok("load", SMALL_PLAN, "--now", "2023-03-15")
    n = _rectifying(cli, "设卡乱罚款", "2023-04-20")
    m = _rectifying(cli, "罚款不开票", "2023-04-20")

    # asking: the unit, before its deadline, with a reason; one request waits at a time
    for args, needle in [
        (("--until", "2023-04-28", "--as", "off.a", "--now", "2023-04-10"), "reason"),
        (("--until", "2023-04-28", "--reason", "汛期", "--as", "off.b", "--now", "2023-04-10"), "off.b"),
        (("--until", "2023-04-28", "--reason", "汛期", "--as", "off.a", "--now", "2023-04-21"), "has passed"),
        (("--until", "2023-04-99", "--reason", "汛期", "--as", "off.a", "--now", "2023-04-10"), "--until"),
    ]:
        assert needle in cli.fail("clue", "request-extension", n, *args)
    r = cli.ok("clue", "request-extension", n, "--until", "2023-04-28", "--reason", "汛期施工受阻", "--as", "off.a",
               "--now", "2023-04-10")
    assert "extension to 2023-04-28 asked for" in r.stdout
    assert "waits for a decision" in cli.fail("clue", "request-extension", n, "--until", "2023-04-27",
                                              "--reason", "再次", "--as", "off.a", "--now", "2023-04-10")

    # deciding: the level above; never the unit itself; an earlier date than asked is fine
    assert "off.a" in cli.fail("clue", "approve-extension", n, "--as", "off.a", "--now", "2023-04-11")
    assert "later than the date asked" in cli.fail("clue", "approve-extension", n, "--until", "2023-05-05",
                                                  "--as", "sup.city", "--now", "2023-04-11")
    r = cli.ok("clue", "approve-extension", n, "--until", "2023-04-25", "--as", "sup.city", "--now", "2023-04-11")
    assert "deadline 2023-04-20 → 2023-04-25" in r.stdout and _deadline(cli, n) == "2023-04-25"
    # the plan allows one: neither a request nor a direct extend gets a second
    assert "allows 1 extension" in cli.fail("clue", "request-extension", n, "--until", "2023-04-28",
                                            "--reason", "再延", "--as", "off.a", "--now", "2023-04-12")
    assert "allows 1 extension" in cli.fail("clue", "transition", n, "extend", "--deadline", "2023-04-28",
                                            "--reason", "再延", "--as", "sup.city", "--now", "2023-04-12")
    assert "no extension request waits" in cli.fail("clue", "refuse-extension", n, "--reason", "x",
                                                    "--as", "sup.city", "--now", "2023-04-12")

    # refusing needs a reason and leaves the deadline
    cli.ok("clue", "request-extension", m, "--until", "2023-04-28", "--reason", "汛期", "--as", "off.a",
           "--now", "2023-04-10")
    assert "reason" in cli.fail("clue", "refuse-extension", m, "--as", "sup.city", "--now", "2023-04-11")
    r = cli.ok("clue", "refuse-extension", m, "--reason", "理由不充分", "--as", "sup.city", "--now", "2023-04-11")
    assert "refused, deadline stays 2023-04-20" in r.stdout and _deadline(cli, m) == "2023-04-20"

    # 挂账: a supervisor above the unit, with a reason; resuming moves the deadline on
    assert "reason" in cli.fail("clue", "suspend", m, "--as", "sup.city", "--now", "2023-04-12")
    assert "sup.a" in cli.fail("clue", "suspend", m, "--reason", "诉讼未决", "--as", "sup.a", "--now", "2023-04-12")
    assert "resume" in cli.fail("clue", "resume", m, "--as", "sup.city", "--now", "2023-04-12")
    assert "clock suspended" in cli.ok("clue", "suspend", m, "--reason", "诉讼未决", "--as", "sup.city",
                                       "--now", "2023-04-12").stdout
    assert "suspend" in cli.fail("clue", "suspend", m, "--reason", "再次", "--as", "sup.city", "--now", "2023-04-13")
    # 04-12 and 04-13 stood: 04-20 moves on to 04-21 and Sunday 04-23, a working day in 2023 (调休)
    r = cli.ok("clue", "resume", m, "--as", "sup.city", "--now", "2023-04-14")
    assert "moved on 2 working day(s), deadline 2023-04-23" in r.stdout and _deadline(cli, m) == "2023-04-23"

    # the history shows every step by its Chinese name
    history = cli.ok("clue", "show", m).stdout
    for step in ("申请延期", "不予延期", "挂账暂停", "恢复计时"):
        assert step in history, history
    assert "批准延期" in cli.ok("clue", "show", n).stdout


def test_the_ranking_command(sqlite_cli: Cli):
    cli = sqlite_cli
    cli.ok("init")
    cli.ok("load", SMALL_PLAN, "--now", "2023-03-15")
    n = _rectifying(cli, "设卡乱罚款", "2023-04-20")
    cli.ok("clue", "transition", n, "submit_evidence", "--evidence", "整改报告.pdf", "--as", "off.a",
           "--now", "2023-04-18")
    cli.ok("clue", "transition", n, "approve", "--as", "sup.city", "--now", "2023-04-19")
    t = cli.json("ranking", "--period", "2023-04")
    assert t["period"] == "2023-04" and t["ranked"] == 3 and "pending_facts" not in t
    a = next(r for r in t["rows"] if r["unit"] == "county-a")
    assert (a["rank"], a["score"], a["counts"]["closed_on_time"]) == (1, "100.00", 1)
    shown = cli.ok("ranking", "--period", "2023-04").stdout
    assert "考核排名 2023-04" in shown and "红榜" in shown and "黑榜" in shown
    for bad in ("2023-13", "May"):
        r = cli.run("ranking", "--period", bad)
        assert_one_line_error(r, code=1)
        assert "is not a month" in r.stderr
