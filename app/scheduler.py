"""The embedded scheduler (`rectify serve`): APScheduler fires each campaign's
nightly job (sweep, escalation pass, delivery) on its cron, in Asia/Shanghai,
until stopped.

Prefect's ephemeral API schedules nothing (STACK-NOTES), so one machine
needs its own scheduler; at scale Prefect deployments do it instead
(`rectify deploy`, docs/deploy.md) and RECTIFY_SCHEDULER=prefect turns this one off.
One method schedules a campaign at a time (services/campaigns/scheduling.py):
this one claims its campaigns at start and skips a fire time once another
method took the campaign over.
A second `serve` on the same database is harmless: every fire time is
claimed in the database first, and only the claimant runs the sweep.
"""
from __future__ import annotations

import contextvars
import os
import signal
import socket
import sys
from datetime import datetime, timedelta

from statemachine.errors import InvalidInput, RectifyError
from statemachine.limits import COLUMNS, clean_text
from statemachine.time.calendar import TZ

from app.cli.context import AppContext

__all__ = ["run_forever", "make_trigger", "scheduled_instant"]


def make_trigger(cron: str):
    """5 fields (minute hour day month weekday) or 6 with seconds first."""
    from apscheduler.triggers.cron import CronTrigger

    fields = cron.split()
    try:
        if len(fields) == 5:
            return CronTrigger.from_crontab(cron, timezone=TZ)
        if len(fields) == 6:
            s, m, h, d, mo, wd = fields
            return CronTrigger(second=s, minute=m, hour=h, day=d, month=mo, day_of_week=wd, timezone=TZ)
    except ValueError as e:
        raise InvalidInput(f"--cron '{cron}': {e}") from None
    raise InvalidInput(f"--cron '{cron}': expected 5 fields (or 6 with seconds first)")


def scheduled_instant(trigger, now: datetime, lookback: timedelta = timedelta(minutes=10)) -> datetime:
    """The latest fire time of `trigger` at or before `now`: the natural key of
    this firing, identical in every scheduler process that woke up for it."""
    t, last = trigger.get_next_fire_time(None, now - lookback), None
    while t is not None and t <= now:
        last = t
        t = trigger.get_next_fire_time(t, t + timedelta(microseconds=1))
    return last or now.replace(microsecond=0)


def _log(msg: str) -> None:
    print(f"{datetime.now(TZ):%Y-%m-%d %H:%M:%S} {msg}", flush=True)


def _warm_prefect() -> None:
    """Start (or reach) the Prefect API before the first fire time, not during it:
    an ephemeral server takes 10-20 s to start here."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        err = client.api_healthcheck()
    if err is not None:
        raise RectifyError(f"cannot reach the Prefect API: {err}")


def run_forever(c: AppContext, *, cron_override: str | None, holder: str | None,
                take_over: bool = False) -> None:
    from apscheduler.schedulers.blocking import BlockingScheduler

    from services.campaigns.load import list_campaigns
    from services.campaigns.firings import claim
    from services.campaigns.scheduling import claim_scheduling, usurper

    from .flow_runner import quiet_flows, run_enforcement

    engine = c.db()
    campaigns = list_campaigns(engine)
    if not campaigns:
        raise InvalidInput("no campaign loaded: nothing to schedule (run 'rectify load PLAN')")
    me = clean_text(holder, COLUMNS["job_firings.holder"], what="--name") or f"{socket.gethostname()}:{os.getpid()}"
    sched = BlockingScheduler(timezone=TZ)

    quiet_flows()
    # jobs run in APScheduler's worker threads; give them the main thread's
    # context so they see the Prefect settings entered above
    main_context = contextvars.copy_context()

    def fire(code: str, trigger) -> None:
        main_context.copy().run(_fire, code, trigger)

    def _fire(code: str, trigger) -> None:
        now = datetime.now(TZ)
        at = scheduled_instant(trigger, now)
        job = f"enforce:{code}"
        with engine.connect() as conn:
            other = usurper(conn, code, method="embedded")
        if other is not None:
            _log(f"[{me}] {job} at {at:%Y-%m-%d %H:%M:%S} skipped: the campaign's schedule was taken over "
                 f"by {other.sentence()}; stop this scheduler")
            return
        if not claim(engine, job=job, scheduled=at, holder=me, now=now):
            _log(f"[{me}] {job} at {at:%Y-%m-%d %H:%M:%S} already fired by another scheduler; skipped")
            return
        try:
            r = run_enforcement(code, at)
            _log(f"[{me}] {job} at {at:%Y-%m-%d %H:%M:%S}: {r.sweep.total} new lapses, "
                 f"{r.escalation.total} case actions, {r.delivered} messages sent")
        except (RectifyError, ValueError) as e:
            _log(f"[{me}] {job} at {at:%Y-%m-%d %H:%M:%S} failed: {e}")

    from services.core.directory import campaign_row

    with engine.connect() as conn:
        crons = {k.code: cron_override or campaign_row(conn, k.code).sweep_cron for k in campaigns}
    for code, cron in crons.items():
        trigger = make_trigger(cron)
        sched.add_job(fire, trigger, args=[code, trigger], id=f"enforce:{code}", coalesce=True,
                      max_instances=1, misfire_grace_time=3600)
        _log(f"[{me}] scheduled daily enforcement of {code} on '{cron}' (Asia/Shanghai)")

    def stop(*_):
        if not sched.running:  # a second signal while shutting down
            return
        _log(f"[{me}] stopping (a run in progress finishes first)")
        # wait: a flow cut off by interpreter exit logs into closed streams
        sched.shutdown(wait=True)

    _warm_prefect()
    for o in claim_scheduling(engine, list(crons), method="embedded", detail=me, take_over=take_over,
                              now=datetime.now(TZ)):
        _log(f"[{me}] took the schedule of {o.campaign} over from {o.sentence()}: stop that scheduler")
    signal.signal(signal.SIGTERM, stop)
    _log(f"[{me}] running; SIGTERM or Ctrl-C stops it")
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    sys.stdout.flush()
