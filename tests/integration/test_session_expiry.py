"""A session's life as its holder sees it, for any rhythm of use (hypothesis): used
within the idle time it lives until its lifetime; a pause of the idle time or more
ends it for good; nothing outlives the lifetime."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from services.accounts.accounts import Limits
from services.accounts.links import invite, set_password
from services.accounts.sessions import session_identity, sign_in
from statemachine.errors import NotSignedIn

LIMITS = Limits(idle=timedelta(minutes=30), lifetime=timedelta(hours=12))
T0 = datetime(2026, 12, 1, 1, tzinfo=timezone.utc)
PASSWORD = "Lotus-Pond-2023"


@pytest.fixture
def account(engine, campaign):
    link = invite(engine, campaign, "off.a", by="operator", now=T0, valid_for=LIMITS.link_valid)
    set_password(engine, link.token, PASSWORD, now=T0)
    return engine


def _alive(engine, key: str, now: datetime) -> bool:
    try:
        who = session_identity(engine, key, now=now, limits=LIMITS)
    except NotSignedIn:
        return False
    assert who.actor.username == "off.a" and who.via == "session"
    return True


# pauses between uses, in seconds: mostly short, some around the idle time
PAUSES = st.lists(st.one_of(st.integers(0, 29 * 60), st.integers(29 * 60, 31 * 60), st.integers(0, 3 * 3600)),
                  min_size=1, max_size=40)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pauses=PAUSES)
def test_a_session_lives_while_used_and_never_past_its_lifetime(account, pauses):
    opened = sign_in(account, "off.a", PASSWORD, now=T0, limits=LIMITS)
    now, ended = T0, False
    for pause in pauses:
        now += timedelta(seconds=pause)
        # the service writes the last use at most once a minute: within a minute of the
        # idle time either answer is right, and the rule is tested outside that minute
        if not ended and LIMITS.idle - timedelta(minutes=1) <= timedelta(seconds=pause) < LIMITS.idle:
            if not _alive(account, opened.key, now):
                ended = True
            continue
        expected = (not ended and timedelta(seconds=pause) < LIMITS.idle and now - T0 < LIMITS.lifetime)
        assert _alive(account, opened.key, now) is expected, (pause, now - T0)
        ended = ended or not expected
