"""`rectify escalate --level 2` / `case confirm` / `case escalate` take the 约谈's time,
place and attendees for the case; a bad one is refused in one line and changes nothing."""
from __future__ import annotations

from .conftest import SMALL_PLAN


def test_the_interview_given_on_the_command_line_is_in_its_notice(cli):
    cli.ok("load", SMALL_PLAN, "--now", "2023-03-15")
    base = ("escalate", "county-b", "--level", "函询约谈", "--reason", "执法记录仪使用不规范问题久拖未改",
            "--as", "sup.city", "--now", "2023-05-10 10:00")
    assert "not after the notice's date" in cli.fail(*base, "--interview-at", "2023-05-09 15:00")
    assert "outside the campaign" in cli.fail(*base, "--interview-at", "2024-03-01 09:00")
    assert "--interview-at: 'next tuesday' is not a date or time" in cli.fail(*base, "--interview-at", "next tuesday")
    assert "interview_place: 201 characters, at most 200" in cli.fail(*base, "--interview-place", "会" * 201)
    assert "belong to a 函询约谈" in cli.fail(*base[:3], "通报批评", *base[4:], "--attendees", "局长")
    assert cli.json("notice", "list") == []  # nothing issued, no number taken
    out = cli.ok(*base, "--interview-at", "2023-05-16 14:30", "--interview-place", "示例市交通运输局五楼第二会议室",
                 "--attendees", "你单位局长、分管副局长").stdout
    [notice] = cli.json("notice", "list")
    assert notice["doc_number"] in out
    text = cli.ok("notice", "show", notice["doc_number"]).stdout
    assert "请你单位局长、分管副局长于2023年5月16日14时30分到示例市交通运输局五楼第二会议室接受约谈" in text
