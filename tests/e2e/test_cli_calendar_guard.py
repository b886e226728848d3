"""The CLI guards the calendar (issue 15 item 6), through the real `rectify` script:
a change on the real clock outside the campaign's period is refused in one line
until --now says which day it belongs to, and a deadline before the item's
receipt is refused. Refusals write nothing."""
from __future__ import annotations

from .conftest import Cli
from .test_cli_usage import snapshot

ADD = ("clue", "add", "--unit", "county-a", "--channel", "12345", "--aspect", "profit", "--as", "sup.city")


def test_a_change_on_the_real_clock_outside_the_period_needs_an_explicit_now(cli: Cli, db_url: str, campaign):
    # the small plan (loaded: `campaign`) runs 2023-03-15 – 2023-10-31; the real clock is years later
    n = cli.ok(*ADD, "--summary", "设卡乱罚款", "--now", "2023-04-03").stdout.strip()
    before = snapshot(db_url)
    refused = [
        (*ADD, "--summary", "无日期的线索"),
        ("clue", "transition", n, "verify", "--as", "off.a"),
        ("clue", "bulk", "verify", n, "--as", "off.a"),
        ("unit", "deliver", "county-a", "impl_plan", "--attachment", "甲县/实施方案.pdf", "--as", "off.a"),
        ("escalate", "county-a", "--level", "1", "--reason", "逾期", "--as", "sup.city"),
        ("sweep",),
    ]
    for args in refused:
        msg = cli.fail(*args, code=1)
        assert msg == ("the campaign smoke-2023 ran from 2023-03-15 to 2023-10-31 (its follow-up until "
                       f"2024-01-29); today is {msg.split('today is ')[1][:10]}: give --now to act as of a "
                       "date in it"), msg
    assert snapshot(db_url) == before
    # reading is never refused
    assert n in cli.ok("clue", "list").stdout
    # the same changes with an instant chosen: --now, or RECTIFY_NOW
    assert "核查中" in cli.ok("clue", "transition", n, "verify", "--as", "off.a", "--now", "2023-04-04").stdout
    assert cli.ok(*ADD, "--summary", "补录线索", env={"RECTIFY_NOW": "2023-04-05"}).stdout.strip() \
        == "XS-2023-00002"


def test_a_deadline_before_the_receipt_is_refused(cli: Cli, db_url: str, campaign):
    n = cli.ok(*ADD, "--summary", "设卡乱罚款", "--now", "2023-04-03").stdout.strip()
    cli.ok("clue", "transition", n, "verify", "--as", "off.a", "--now", "2023-04-04")
    before = snapshot(db_url)
    # acting as of a day before the receipt: the limit of that day would let 2023-04-01 pass
    msg = cli.fail("clue", "transition", n, "substantiate", "--deadline", "2023-04-01", "--measures", "退还罚款",
                   "--owner", "张科长", "--as", "off.a", "--now", "2023-03-30")
    assert "the deadline 2023-04-01 is before the item was received (2023-04-03)" in msg
    # the issue's own line, acted as of the day after the receipt
    msg = cli.fail("clue", "transition", n, "substantiate", "--deadline", "2022-01-01", "--measures", "退还罚款",
                   "--owner", "张科长", "--as", "off.a", "--now", "2023-04-04")
    assert "2022-01-01" in msg and "before" in msg
    assert snapshot(db_url) == before
