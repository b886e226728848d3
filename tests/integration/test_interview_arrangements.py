"""A 函询约谈's time, place and attendees as the supervisor gives them for the case:
checked (inside the campaign, after the notice, text limits), stored with the case,
printed in the notice; the plan's `documents:` defaults only for what is not given."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models.tables import EscalationCase, Notice
from services.ladder import cases as esc
from statemachine.errors import InvalidInput, TextRefused

from ..conftest import at

E, N = EscalationCase.__table__, Notice.__table__
CHANNELS = ("file",)


def _notice_text(engine, case_id: int) -> str:
    with engine.connect() as conn:
        return conn.execute(select(N.c.text).where(N.c.case_id == case_id, N.c.kind == "interview")).scalar_one()


def _counts(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(E)).scalar(),
                conn.execute(select(func.count()).select_from(N)).scalar())


def _interview(engine, campaign, calendar, *, now="2023-05-10 10:00", **arranged):
    return esc.escalate_unit(engine, campaign, "county-b", 2, actor="sup.city", now=at(now), calendar=calendar,
                             channels=CHANNELS, data=esc.CaseInput(reason="执法记录仪使用不规范问题久拖未改",
                                                                   **arranged))


def test_the_supervisors_arrangements_are_stored_and_printed(engine, campaign, calendar):
    v = _interview(engine, campaign, calendar, interview_at=at("2023-05-16 14:30"),
                   interview_place="示例市交通运输局五楼第二会议室", attendees="你单位局长孙立新、副局长周雨桐")
    text = _notice_text(engine, v.id)
    assert ("请你单位局长孙立新、副局长周雨桐于2023年5月16日14时30分到示例市交通运输局五楼第二会议室接受约谈"
            in text), text
    with engine.connect() as conn:
        row = conn.execute(select(E).where(E.c.id == v.id)).one()
    assert (row.interview_scheduled_at, row.interview_place, row.interview_attendees) == (
        at("2023-05-16 14:30"), "示例市交通运输局五楼第二会议室", "你单位局长孙立新、副局长周雨桐")
    shown = esc.get_case(engine, campaign, v.id)  # `case show --json` gives them
    assert (shown.interview_at, shown.interview_place, shown.attendees) == (
        at("2023-05-16 14:30"), "示例市交通运输局五楼第二会议室", "你单位局长孙立新、副局长周雨桐")


def test_what_is_not_given_comes_from_the_plan(engine, campaign, calendar):
    # only the place: the time is the plan's (3 working days after issue, 9:30), so are the attendees
    v = _interview(engine, campaign, calendar, interview_place="乙县交通运输局会议室")
    text = _notice_text(engine, v.id)
    assert "请你单位主要负责同志、分管负责同志于2023年5月15日9时30分到乙县交通运输局会议室接受约谈" in text, text
    # nothing given: every fact from the plan, as before
    w = _interview(engine, campaign, calendar, now="2023-05-11 10:00")
    assert "于2023年5月16日9时30分到示例市交通运输局会议室接受约谈" in _notice_text(engine, w.id)


def test_confirming_a_proposed_interview_takes_the_arrangements(engine, campaign, calendar):
    first = esc.escalate_unit(engine, campaign, "county-b", 1, actor="sup.city", now=at("2023-05-08"),
                              calendar=calendar, channels=CHANNELS, data=esc.CaseInput(reason="台账不实"))
    # a supervisor moves the case up: the 约谈 is issued at once, with what was given
    esc.fire(engine, campaign, first.id, "escalate", actor="sup.city", now=at("2023-05-10"), calendar=calendar,
             channels=CHANNELS, data=esc.CaseInput(reason="通报后仍未整改", interview_at=at("2023-05-18 09:00"),
                                                   attendees="你单位党组书记"))
    [up] = [c for c in esc.list_cases(engine, campaign, unit="county-b") if c.parent_id == first.id]
    assert "请你单位党组书记于2023年5月18日9时00分到示例市交通运输局会议室接受约谈" in _notice_text(engine, up.id)


@pytest.mark.parametrize("arranged, refusal", [
    ({"interview_at": "2023-05-10 09:00"}, "is not after the notice's date"),
    ({"interview_at": "2023-05-09 15:00"}, "is not after the notice's date"),
    ({"interview_at": "2024-03-01 09:00"}, "outside the campaign"),
])
def test_a_time_before_the_notice_or_outside_the_campaign_is_refused(engine, campaign, calendar, arranged,
                                                                      refusal):
    before = _counts(engine)
    with pytest.raises(InvalidInput, match=refusal):
        _interview(engine, campaign, calendar, interview_at=at(arranged["interview_at"]))
    assert _counts(engine) == before  # nothing written, no number taken


def test_texts_are_held_to_their_limits(engine, campaign, calendar):
    with pytest.raises(TextRefused, match="interview_place"):
        esc.CaseInput(interview_place="会" * 201)
    with pytest.raises(TextRefused, match="attendees"):
        esc.CaseInput(attendees="局长\n副局长")  # one line: the notice's sentence goes on from it


def test_arrangements_belong_to_an_interview_only(engine, campaign, calendar):
    before = _counts(engine)
    with pytest.raises(InvalidInput, match="belong to a 函询约谈"):
        esc.escalate_unit(engine, campaign, "county-b", 1, actor="sup.city", now=at("2023-05-10"),
                          calendar=calendar, channels=CHANNELS,
                          data=esc.CaseInput(reason="台账不实", interview_place="会议室"))
    assert _counts(engine) == before
