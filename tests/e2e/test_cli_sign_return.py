"""签收 and 退单 / 改派 through the real `rectify` script: a unit signs for an item before
verifying it, returns one that is not its own, the level above reassigns it (the new unit
must sign) or refuses a return; every refusal is one line and writes nothing, and
`clue show` lists every step."""
from __future__ import annotations

import pytest

from .conftest import Cli
from .test_cli_usage import snapshot
from ..integration.test_sign_for_returns import signing_plan

ADD = ("clue", "add", "--unit", "county-a", "--channel", "12345", "--aspect", "profit", "--summary",
       "路政执法只罚款不开票", "--as", "sup.city")


@pytest.mark.both_backends
def test_sign_return_reassign_and_refuse_from_the_command_line(cli: Cli, db_url: str, tmp_path):
    cli.ok("load", signing_plan(tmp_path), "--now", "2023-03-15")
    cli.env["RECTIFY_CAMPAIGN"] = "sign-2023"
    n, m = (cli.ok(*ADD, "--now", "2023-03-20").stdout.strip() for _ in range(2))

    # refusals: one line each, nothing written
    before = snapshot(db_url)
    for args, words in [
        (("clue", "transition", n, "verify", "--as", "off.a"), "not signed for"),
        (("clue", "sign", n, "--as", "sup.city"), "only a member of that unit"),
        (("clue", "sign", n, "--as", "off.b"), "only a member of that unit"),
        (("clue", "return", n, "--reason", "不属本单位", "--as", "off.b"), "only a member of that unit"),
        (("clue", "return", n, "--as", "off.a"), "reason"),
        (("clue", "return", n, "--reason", "不属本单位", "--as", "off.a", "--now", "2023-03-23"), "window"),
        (("clue", "reassign", n, "--to", "county-b", "--as", "sup.city"), "no return"),
    ]:
        now = () if "--now" in args else ("--now", "2023-03-21")
        assert words in cli.fail(*args, *now, code=None), args
    assert snapshot(db_url) == before

    # n: signed, verified; m: returned and reassigned to 乙县, which signs for it
    assert "signed for by off.a" in cli.ok("clue", "sign", n, "--as", "off.a", "--now", "2023-03-21").stdout
    assert "核查中" in cli.ok("clue", "transition", n, "verify", "--as", "off.a", "--now", "2023-03-21").stdout
    assert "waits for the level above" in cli.ok("clue", "return", m, "--reason", "该路段属乙县管辖", "--as", "off.a",
                                                 "--now", "2023-03-21").stdout
    assert "waits for the level above" in cli.fail("clue", "return", m, "--reason", "再次退单", "--as", "off.a",
                                                   "--now", "2023-03-21")
    assert "is their own unit" in cli.fail("clue", "reassign", m, "--to", "county-b", "--as", "sup.a", "--now",
                                      "2023-03-22")
    out = cli.ok("clue", "reassign", m, "--to", "county-b", "--as", "sup.city", "--now", "2023-03-22").stdout
    assert "reassigned from 甲县 to 乙县" in out and "sign for it by 2023-03-23 23:59" in out
    assert "only a member" in cli.fail("clue", "sign", m, "--as", "off.a", "--now", "2023-03-22")
    cli.ok("clue", "sign", m, "--as", "off.b", "--now", "2023-03-22")
    shown = cli.ok("clue", "show", m).stdout
    for step in ("受理", "退单", "改派", "签收"):
        assert step in shown, step
    assert cli.json("clue", "show", m)["unit"] == "乙县"

    # a refused return: the item stays, the refusal is in its history
    k = cli.ok(*ADD, "--now", "2023-03-27").stdout.strip()
    cli.ok("clue", "return", k, "--reason", "不属本单位", "--as", "off.a", "--now", "2023-03-27")
    assert "reason" in cli.fail("clue", "refuse-return", k, "--as", "sup.city", "--now", "2023-03-28")
    assert "stays with 甲县" in cli.ok("clue", "refuse-return", k, "--reason", "经核实属你单位职责", "--as",
                                      "sup.city", "--now", "2023-03-28").stdout
    assert "退单驳回" in cli.ok("clue", "show", k).stdout
    assert "no return" in cli.fail("clue", "refuse-return", k, "--reason", "x", "--as", "sup.city", "--now",
                                   "2023-03-28")
