"""The per-address throttle of sign-ins (app/web/auth.py): refused exactly when the
address failed `limit` times within the window, and never for longer."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, strategies as st

from app.web.auth import AddressThrottle

T0 = datetime(2026, 12, 1, 8, tzinfo=timezone.utc)
WINDOW = timedelta(minutes=15)


@given(st.integers(1, 6), st.lists(st.tuples(st.sampled_from(["10.0.0.1", "10.0.0.2"]),
                                             st.integers(0, 3600)), max_size=40), st.integers(0, 4000))
def test_refused_exactly_when_the_window_holds_limit_failures(limit, failures, probe_at):
    t = AddressThrottle(limit=limit, window=WINDOW)
    history: dict[str, list[datetime]] = {}
    clock = T0
    for address, step in failures:
        clock += timedelta(seconds=step % 120)
        t.failed(address, clock)
        history.setdefault(address, []).append(clock)
    now = clock + timedelta(seconds=probe_at)
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        recent = [at for at in history.get(address, []) if now - at < WINDOW]
        wait = t.retry_after(address, now)
        if len(recent) >= limit:
            assert wait is not None and 0 < wait <= WINDOW.total_seconds() + 1
            # and it is free once that wait is over
            assert t.retry_after(address, now + timedelta(seconds=wait)) is None
        else:
            assert wait is None


def test_the_memory_is_bounded():
    t = AddressThrottle(limit=1, window=WINDOW, max_addresses=100)
    for i in range(1000):
        t.failed(f"10.1.{i // 256}.{i % 256}", T0)
    assert len(t._failures) == 100
    assert t.retry_after("10.1.3.231", T0) is not None  # the latest are kept
