"""One scheduler at a time (services/campaigns/scheduling.py): each pair of methods,
both ways, on SQLite and PostgreSQL."""
from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from models.tables import CampaignScheduler
from services.campaigns.scheduling import METHODS, check_scheduling, claim_scheduling, owners, usurper
from statemachine.errors import ConflictError

from ..conftest import at

PAIRS = list(itertools.permutations(METHODS, 2))


def _rows(engine):
    with engine.connect() as conn:
        return conn.execute(select(CampaignScheduler.method, CampaignScheduler.detail)).all()


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_a_method_is_refused_a_campaign_another_owns_and_nothing_changes(engine, campaign, first, second):
    claim_scheduling(engine, [campaign], method=first, detail="host-a:1", take_over=False, now=at("2023-03-16"))
    with pytest.raises(ConflictError) as e:
        claim_scheduling(engine, [campaign], method=second, detail="host-b:2", take_over=False,
                         now=at("2023-03-17"))
    assert str(e.value).startswith(f"campaign {campaign}'s schedule belongs to {METHODS[first]} (host-a:1) "
                                   f"since 2023-03-16 09:00")
    assert f"--take-over to make {METHODS[second]} its scheduler" in str(e.value)
    assert _rows(engine) == [(first, "host-a:1")]
    with engine.connect() as conn:
        assert usurper(conn, campaign, method=first) is None
        assert usurper(conn, campaign, method=second).method == first


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_take_over_makes_the_new_method_the_owner_and_the_old_one_finds_itself_usurped(
        engine, campaign, first, second):
    claim_scheduling(engine, [campaign], method=first, detail="host-a:1", take_over=False, now=at("2023-03-16"))
    replaced = claim_scheduling(engine, [campaign], method=second, detail="host-b:2", take_over=True,
                                now=at("2023-03-17"))
    assert [(o.campaign, o.method) for o in replaced] == [(campaign, first)]
    assert _rows(engine) == [(second, "host-b:2")]
    with engine.connect() as conn:
        other = usurper(conn, campaign, method=first)
    assert other.method == second and other.since == at("2023-03-17")


@pytest.mark.parametrize("method", list(METHODS))
def test_the_same_method_claims_again_freely_and_a_new_campaign_is_anyones(engine, campaign, method):
    with engine.connect() as conn:
        assert check_scheduling(conn, [campaign], method=method, take_over=False) == []
    for n in (1, 2):  # a restart, a redeploy, a second embedded scheduler
        assert claim_scheduling(engine, [campaign], method=method, detail=f"host:{n}", take_over=False,
                                now=at("2023-03-16")) == []
    assert _rows(engine) == [(method, "host:2")]


def test_check_reads_only(engine, campaign):
    claim_scheduling(engine, [campaign], method="embedded", detail="", take_over=False, now=at("2023-03-16"))
    with engine.connect() as conn:
        [o] = check_scheduling(conn, [campaign], method="workers", take_over=True)
        assert o.method == "embedded"
        assert owners(conn, [campaign])[campaign].method == "embedded"
