"""The nightly job sends the audit head to a witness outside the database (here the file
drop, through the outbox), and `rectify audit verify --witness` reads what was dropped:
a tail cut off behind a lowered head, with the database's triggers dropped, is named
there although the database alone says "intact" (real Prefect API; SQLite and
PostgreSQL)."""
from __future__ import annotations

import pytest

from services.campaigns.load import campaign_id
from services.clues import lifecycle as clues
from services.core.audit import audit_head
from services.core.witness import read_witness

from ..conftest import at, installed
from ..e2e.conftest import Cli, assert_one_line_error, clean_env
from ..integration.test_audit_head import cut, lower_head, unguard

pytestmark = pytest.mark.prefect


@pytest.fixture
def nightly(db_url, campaign, prefect_api, tmp_path):
    from app.flow_runner import quiet_flows

    quiet_flows()
    with installed(db=db_url, home=tmp_path / "home", file_drop=tmp_path / "drop", witness_channel="file",
                   witness_to="审计见证"):
        yield tmp_path / "drop"


def work(engine, campaign, calendar, day: str, summary: str) -> None:
    n = clues.add_clues(engine, campaign, [clues.NewClue(channel="12345", aspect="profit", summary=summary,
                                                         unit="county-a")],
                        actor="sup.city", now=at(day), calendar=calendar)[0]
    clues.transition(engine, campaign, n, "verify", actor="off.a", now=at(day))


def witnesses(drop):
    return sorted(drop.glob("audit-head_*.json"))


def test_a_cut_tail_behind_a_reset_head_is_named_by_the_nightly_witness(nightly, engine, campaign, calendar,
                                                                       db_url, tmp_path):
    from flows.enforce import daily_enforcement

    drop, cid = nightly, campaign_id(engine, campaign)
    work(engine, campaign, calendar, "2023-03-20", "设卡乱罚款")
    first = audit_head(engine, cid)
    r = daily_enforcement(campaign, as_of=at("2023-03-21 00:05"))
    assert r.witness.queued and r.witness.check_code == first.check_code and r.delivered == 1
    [dropped] = witnesses(drop)
    assert read_witness(dropped, campaign=campaign) == {first.seq: first.hash}

    again = daily_enforcement(campaign, as_of=at("2023-03-22 00:05"))  # nothing new: nothing sent again
    assert not again.witness.queued and again.delivered == 0 and len(witnesses(drop)) == 1

    work(engine, campaign, calendar, "2023-03-22", "罚款不开票")
    work(engine, campaign, calendar, "2023-03-22", "执法辅警收钱")
    second = audit_head(engine, cid)
    daily_enforcement(campaign, as_of=at("2023-03-23 00:05"))
    assert read_witness(drop, campaign=campaign) == {first.seq: first.hash, second.seq: second.hash}

    keep = second.seq - 3
    with engine.begin() as conn:  # whoever may drop the triggers: the tail goes, the head follows it
        unguard(conn, "audit_log", "audit_heads")
        cut(conn, cid, keep)
        lower_head(conn, cid, keep)
    cli = Cli(clean_env(db_url, tmp_path), tmp_path)
    assert f"intact: {keep} records" in cli.ok("audit", "verify").stdout  # the database alone cannot tell
    [latest] = [w for w in witnesses(drop) if f"_{second.seq}_{second.hash[:16]}." in w.name]
    for witness in (drop, latest):  # the drop folder, or the one dropped message
        r = cli.run("audit", "verify", "--witness", witness)
        assert_one_line_error(r, code=3)
        assert (f"BROKEN at record {keep + 1}: record {keep + 1} is missing: the chain ends at seq {keep}, "
                f"the witness saw seq {second.seq} ({second.check_code})") in r.stderr


def test_a_head_that_no_longer_holds_is_not_sent(nightly, engine, campaign, calendar):
    from flows.enforce import daily_enforcement

    drop, cid = nightly, campaign_id(engine, campaign)
    work(engine, campaign, calendar, "2023-03-20", "设卡乱罚款")
    head = audit_head(engine, cid)
    with engine.begin() as conn:  # the log's trigger dropped, the head's still there: the tail is gone
        unguard(conn, "audit_log")
        cut(conn, cid, head.seq - 1)
    r = daily_enforcement(campaign, as_of=at("2023-03-21 00:05"))
    assert r.witness.problem.startswith(f"audit chain BROKEN at record {head.seq}")
    assert not r.witness.queued and witnesses(drop) == []


def test_without_a_witness_configured_the_step_says_so(db_url, campaign, prefect_api, tmp_path):
    from app.flow_runner import quiet_flows
    from flows.enforce import daily_enforcement

    quiet_flows()
    with installed(db=db_url, home=tmp_path / "home", file_drop=tmp_path / "drop"):
        r = daily_enforcement(campaign, as_of=at("2023-03-21 00:05"))
    assert r.witness.problem == "no witness configured (RECTIFY_WITNESS_CHANNEL)" and not r.witness.queued
    assert not (tmp_path / "drop").exists() or witnesses(tmp_path / "drop") == []
