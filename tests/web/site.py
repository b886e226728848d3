"""A campaign in mid-course served by the real app: what the page and browser tests sign
in to. The small plan, its nightly job run on the days that matter (so the ladder has
issued, chased and escalated cases and three 函询约谈 wait for confirmation), and
county A's clues in every state a liaison meets; the domain's clock stands on
2023-04-28 12:00 (the runtime's, as `--now` sets it).
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, timezone
from typing import Iterator

from services.campaigns.load import campaign_id, campaign_codes, load_plan
from services.campaigns.plans import read_plan
from services.clues.lifecycle import ClueInput, NewClue, add_clues, transition
from services.core.runtime import Runtime
from services.ladder import automatic, sweep

from ..conftest import SMALL_PLAN, at
from .conftest import Web, WebClock, serving, web_settings

NOW = "2023-04-28 12:00"
CHANNELS = ("file",)


def nightly(engine, campaign: str, calendar, when: str) -> None:
    """What the nightly job does on `when`: the sweep, then the escalation round."""
    as_of = at(when)
    cid = campaign_id(engine, campaign)
    params = sweep.parameters(engine, cid, as_of, calendar)
    for step in sweep.STEPS:
        sweep.run_step(engine, step, campaign_id=cid, as_of=as_of, run_key=f"r-{when}", params=params)
    automatic.propose_for_lapses(engine, campaign, now=as_of, calendar=calendar)
    for step in (automatic.issue_automatic, automatic.escalate_unanswered, automatic.chase_overdue):
        step(engine, campaign, channels=CHANNELS, now=as_of, calendar=calendar)


def county_a_clues(engine, campaign: str, calendar, *, extra: int = 0) -> dict[str, str]:
    """County A's items by what waits on them: 'verify' (received), 'rectify' (due
    2023-04-29, so yellow at NOW), 'approve' (evidence submitted, 申请销号); `extra` more
    received ones. Returns role → clue number."""
    when = at("2023-04-25")
    items = [NewClue(channel="12345", aspect="profit", summary=s, unit="county-a")
             for s in ("路口违规设置测速设备", "执法人员态度粗暴", "罚款未开具票据")]
    items += [NewClue(channel="12328", aspect="profit", summary=f"群众反映问题{i}", unit="county-a")
              for i in range(extra)]
    numbers = add_clues(engine, campaign, items, actor="off.a", now=when, calendar=calendar)
    verify, rectify, approve = numbers[:3]
    for n in (rectify, approve):
        transition(engine, campaign, n, "verify", actor="off.a", now=when)
        transition(engine, campaign, n, "substantiate", actor="off.a", now=when,
                   data=ClueInput(measures="拆除违规设备，通报整改", deadline=date(2023, 4, 29), owner="赵书涵"))
    transition(engine, campaign, approve, "submit_evidence", actor="off.a", now=at("2023-04-27"),
               data=ClueInput(evidence="整改报告及现场照片"))
    return {"verify": verify, "rectify": rectify, "approve": approve}


def seed(runtime: Runtime, *, extra_clues: int = 0) -> dict[str, str]:
    engine, calendar = runtime.engine, runtime.calendar
    plan = read_plan(SMALL_PLAN)
    code = plan.campaign.code
    with engine.connect() as conn:
        if code in campaign_codes(conn):
            raise AssertionError("seed() expects a fresh database")
    load_plan(engine, plan, source=str(SMALL_PLAN), now=at("2023-03-15"))
    # 动员部署 missed on 04-07: criticisms issued 04-08, chased 04-22, escalated 04-28 into
    # 函询约谈 cases that wait for a supervisor's confirmation
    for day in ("2023-04-08 00:05", "2023-04-22 00:05", "2023-04-28 00:05"):
        nightly(engine, code, calendar, day)
    numbers = county_a_clues(engine, code, calendar, extra=extra_clues)
    # county B's verification long overdue (received 04-03, never verified)
    [numbers["overdue_b"]] = add_clues(engine, code, [NewClue(channel="信访投诉", aspect="profit",
                                                               summary="乙县执法人员违规收费", unit="county-b",
                                                               received_at=at("2023-04-03"))],
                                       actor="off.b", now=at("2023-04-28 08:00"), calendar=calendar)
    return numbers


@contextmanager
def mid_campaign(db_url: str, tmp_path, *, extra_clues: int = 0, **settings) -> Iterator[tuple[Web, dict]]:
    """The seeded campaign served on loopback; yields the site and the clue numbers."""
    runtime = Runtime(web_settings(db_url, tmp_path, **settings), now=at(NOW))
    try:
        numbers = seed(runtime, extra_clues=extra_clues)
        clock = WebClock(datetime.now(timezone.utc).replace(microsecond=0))
        with serving(runtime, clock) as url:
            yield Web(url, runtime, clock, read_plan(SMALL_PLAN).campaign.code), numbers
    finally:
        runtime.close()
