"""`rectify clue import` (issue 15): every bad cell of a CSV at once, one line each, and
nothing written; a 工单号 column makes importing the same file again add nothing."""
from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Cli
from .test_cli_usage import snapshot

HEADER = "工单号,来源,问题方面,问题表现,责任单位,受理时间\n"


def _file(tmp_path: Path, name: str, body: str) -> Path:
    p = tmp_path / name
    p.write_text(HEADER + body, encoding="utf-8")
    return p


def test_every_bad_cell_is_named_at_once_and_nothing_is_written(cli: Cli, db_url: str, campaign, tmp_path: Path):
    bad = _file(tmp_path, "five-bad.csv",
                "GD-001,12345,profit,设卡乱罚款,county-a,2023-04-01\n"
                "GD-002,12399,profit,罚款指标,county-a,2023-04-01\n"          # unknown channel
                "GD-003,12345,no-such,违规电子眼,county-x,2023-04-01\n"       # unknown aspect and unit
                "GD-004,12345,profit,,county-a,2023-02-30\n"                  # empty summary, no such day
                "GD-001,12345,profit,重复工单,county-b,2023-04-02\n"         # 工单号 given twice
                "GD-001,信访,profit,另一渠道的工单,county-b,2023-04-02\n")    # the same number by another channel
    before = snapshot(db_url)
    r = cli.run("clue", "import", bad, "--as", "sup.city", "--now", "2023-04-06")
    assert r.returncode == 1 and "Traceback" not in r.stderr and r.stdout == "", str(r)
    assert r.stderr.strip().splitlines() == [
        f"rectify: error: {bad}: 6 errors, nothing imported",
        "row 3, channel: unknown source '12399' (one of 12345, 12328, 信访投诉, 新闻媒体, 门户网站/微信, "
        "行政复议, 行政诉讼, 实地督察, 暗访, 随机抽查, 案卷评查, 自查自纠, 上级交办)",
        "row 4, aspect: unknown aspect 'no-such' (one of profit)",
        "row 4, unit: unknown unit 'county-x'",
        "row 5, summary: empty",
        "row 5, received_at: '2023-02-30' is not a date",
        "row 6, source_ref: 工单号 'GD-001' is row 2's too",
    ], str(r)
    assert snapshot(db_url) == before


@pytest.mark.both_backends
def test_importing_the_same_work_orders_again_adds_nothing(cli: Cli, campaign, tmp_path: Path):
    first = _file(tmp_path, "first.csv",
                  "GD-001,12345,profit,设卡乱罚款,county-a,2023-04-01\n"
                  "GD-002,信访,profit,辅警违规查车,county-b,2023-04-02\n"   # the short name of 信访投诉
                  ",自查自纠,profit,罚没收入挂钩考核,county-a,\n")         # no 工单号: a unit's own finding
    r = cli.ok("clue", "import", first, "--as", "sup.city", "--now", "2023-04-06")
    assert r.stdout.strip() == "imported 3 clues (XS-2023-00001 … XS-2023-00003)"
    r = cli.ok("clue", "import", first, "--as", "sup.city", "--now", "2023-04-07")
    assert r.stdout.strip() == "imported 1 clue (XS-2023-00004); " \
                               "2 rows already imported by 工单号, left out"
    # a later export of the same hotline: the known orders left out, the new one added
    later = _file(tmp_path, "later.csv",
                  "GD-002,信访投诉,profit,辅警违规查车,county-b,2023-04-02\n"
                  "GD-003,12328,profit,货车超限处罚畸重,county-a,2023-04-05\n")
    r = cli.ok("clue", "import", later, "--as", "sup.city", "--now", "2023-04-08")
    assert r.stdout.strip() == "imported 1 clue (XS-2023-00005); " \
                               "1 row already imported by 工单号, left out"
    clues = cli.json("clue", "list")
    assert len(clues) == 5
    assert sorted(c["channel"] for c in clues) == ["12328", "12345", "信访投诉", "自查自纠", "自查自纠"]
