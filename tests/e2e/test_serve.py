"""`rectify serve` with the embedded scheduler: the sweep fires on the cron, and
two schedulers on one database never fire the same instant twice."""
from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter

import pytest
from sqlalchemy import select

from models.tables import JobFiring, SweepRun

from .conftest import RECTIFY, SMALL_PLAN, Cli, clean_env

pytestmark = pytest.mark.slow


def _start(env: dict, name: str, cwd) -> subprocess.Popen:
    """`rectify serve` writing to NAME.out and NAME.err in `cwd`, read while it runs."""
    with open(cwd / f"{name}.out", "w") as out, open(cwd / f"{name}.err", "w") as err:
        return subprocess.Popen([RECTIFY, "serve", "--cron", "*/2 * * * * *", "--name", name],
                                env=env, cwd=cwd, stdout=out, stderr=err, text=True)


def _said(cwd, name: str) -> tuple[str, str]:
    return ((cwd / f"{name}.out").read_text(encoding="utf-8"), (cwd / f"{name}.err").read_text(encoding="utf-8"))


SKIPPED = "already fired by another scheduler; skipped"


def _calendar_for_the_real_clock(tmp_path) -> dict[str, str]:
    """serve fires at the real clock's instants: once chinese_calendar stops covering
    the year, give it plain Monday-Friday years, so that this test keeps testing the
    scheduler and does not start failing on the first of January."""
    from datetime import datetime

    from statemachine.time.calendar import TZ, WorkingCalendar

    this = datetime.now(TZ).year
    missing = [y for y in (this - 1, this, this + 1) if WorkingCalendar().coverage().source(y) is None]
    if not missing:
        return {}
    path = tmp_path / "calendar.yaml"
    path.write_text("years:\n" + "".join(f"  {y}: {{}}\n" for y in missing), encoding="utf-8")
    return {"RECTIFY_CALENDAR_OVERRIDES": str(path)}


@pytest.mark.both_backends
def test_two_embedded_schedulers_fire_each_instant_once(db_url, engine, tmp_path, prefect_api):
    env = clean_env(db_url, tmp_path, PREFECT_API_URL=prefect_api, **_calendar_for_the_real_clock(tmp_path))
    Cli(env, tmp_path).ok("load", SMALL_PLAN, "--now", "2023-03-15")
    names = ("alpha", "beta")
    procs = [_start(env, name, tmp_path) for name in names]
    try:
        # until four instants were swept and the two met on one (under load one may start
        # seconds after the other has fired alone)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                fired = conn.execute(select(SweepRun.__table__.c.as_of)).scalars().all()
            if len(fired) >= 4 and any(SKIPPED in _said(tmp_path, n)[0] for n in names):
                break
            assert all(p.poll() is None for p in procs), [_said(tmp_path, n) for n in names]
            time.sleep(0.5)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)
    outputs = [_said(tmp_path, n) for n in names]
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, (out, err)
        assert "Traceback" not in out + err, (out, err)
        assert "scheduled daily enforcement of smoke-2023 on '*/2 * * * * *'" in out
    with engine.connect() as conn:
        runs = conn.execute(select(SweepRun.__table__.c.as_of)).scalars().all()
        claims = conn.execute(select(JobFiring.__table__.c.fire_key,
                                     JobFiring.__table__.c.holder)).all()
    assert len(runs) >= 4, "the sweep did not fire on its cron"
    assert max(Counter(runs).values()) == 1, f"an instant was swept twice: {sorted(runs)}"
    assert len(claims) >= len(runs) and {h for _, h in claims} <= {"alpha", "beta"}
    assert all(r.second % 2 == 0 and r.microsecond == 0 for r in runs)  # the cron's instants
    both = "".join(out for out, _ in outputs)
    assert SKIPPED in both
