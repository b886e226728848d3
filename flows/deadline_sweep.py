"""deadline_sweep: find every missed deadline of a campaign as of an instant.

A handful of set-based tasks per campaign, whatever the number of clues
(docs/architecture.md decision 2); idempotent by the lapses' natural keys.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact

from services.campaigns.load import campaign_id as lookup_campaign
from services.clues.reminders import remind_unsigned
from services.ladder import sweep

from statemachine.lapses import CAUSES
from statemachine.time.clock import instant
from statemachine.errors import InvalidInput

from . import deps, night
from .night import current_flow_run_id

__all__ = ["deadline_sweep", "sweep_now", "SweepResult"]

ARTIFACT_ROWS = 500
KIND_LABELS = {c.value: info.short for c, info in CAUSES.items()}  # statemachine/lapses.py


@dataclass
class SweepResult:
    campaign: str
    as_of: datetime
    run_key: str
    new_lapses: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.new_lapses.values())


@task(name="find-lapses", task_run_name="find-{step}", retries=2, retry_delay_seconds=2,
      retry_condition_fn=deps.transient)
def find_lapses(step: str, campaign_id: int, as_of: datetime, run_key: str,
                params: sweep.SweepParams) -> int:
    return sweep.run_step(deps.engine(), step, campaign_id=campaign_id, as_of=as_of, run_key=run_key,
                          params=params)


def artifact_key(campaign: str) -> str:
    return "sweep-" + re.sub(r"[^a-z0-9-]+", "-", campaign.lower())


def _as_of(as_of: object) -> datetime:
    """The instant a run is about: `as_of` if given, else the run's scheduled
    start (a deployment fired on its cron), made one clock type (statemachine/time/clock.py)."""
    if as_of is None:
        from prefect.runtime import flow_run

        as_of = flow_run.scheduled_start_time  # a pendulum DateTime, or now outside a run
    return instant(as_of, name="as_of")


def run_name(prefix: str, *keys: str):
    """`<prefix>-<campaign>[-<key parameters>]-<YYYYMMDD-HHMM>` of the instant the run is about."""
    def name() -> str:
        from prefect.runtime import flow_run

        params = flow_run.parameters
        parts = [prefix, params["campaign"], *(str(params[k]) for k in keys)]
        return f"{'-'.join(parts)}-{_when(params.get('as_of'))}"
    return name


def _when(as_of: object) -> str:
    # A run-name function must not raise: Prefect calls it outside its error
    # handling and leaves the run Pending for ever. The flow body refuses a bad
    # as_of instead, which fails the run with the one-line reason.
    try:
        return f"{_as_of(as_of):%Y%m%d-%H%M}"
    except InvalidInput:
        return "bad-as_of"


@flow(name="deadline-sweep", flow_run_name=run_name("sweep"), validate_parameters=False)
def deadline_sweep(campaign: str, as_of: datetime | None = None) -> SweepResult:
    deps.ready(campaign)
    return sweep_now(campaign, _as_of(as_of))


def sweep_now(campaign: str, as_of: datetime) -> SweepResult:
    """The sweep's tasks and artifact, inside whichever flow runs them (this one,
    or the daily enforcement flow)."""
    engine = deps.engine()
    cid = lookup_campaign(engine, campaign)
    flow_run_id = current_flow_run_id()
    run_key = flow_run_id or uuid.uuid4().hex
    params = sweep.start_run(engine, campaign_id=cid, as_of=as_of, run_key=run_key,
                             calendar=deps.calendar(), flow_run_id=flow_run_id)
    result = SweepResult(campaign, as_of, run_key)
    for step in sweep.STEPS:
        result.new_lapses[step] = find_lapses(step, cid, as_of, run_key, params)
    sweep.finish_run(engine, run_key=run_key, new_lapses=result.total)
    remind_unsigned(engine, campaign_id=cid, run_key=run_key, now=as_of)  # 签收 reminders to the liaisons
    # asked after the steps: by then a racing run's row is long committed
    night.mark(sweep.earlier_run(engine, campaign_id=cid, as_of=as_of, run_key=run_key))
    lines = sweep.run_summary(engine, campaign_id=cid, run_key=run_key)
    get_run_logger().info("sweep of %s as of %s: %d new lapses in %d units (%s)", campaign, as_of.isoformat(),
                          result.total, len({ln.unit for ln in lines}),
                          ", ".join(f"{KIND_LABELS.get(k, k)} {v}" for k, v in result.new_lapses.items()))
    create_table_artifact(
        key=night.key(artifact_key(campaign)),
        # the largest rows first, and not all of them: an artifact travels in an
        # event, and Prefect drops events over ~1.5 MB (a province has thousands of units)
        table=[{"unit": ln.unit, "单位": ln.unit_name, "kind": ln.kind,
                "类型": KIND_LABELS.get(ln.kind, ln.kind), "new_lapses": ln.new}
               for ln in sorted(lines, key=lambda ln: -ln.new)[:ARTIFACT_ROWS]]
        or [{"unit": "—", "单位": "—", "kind": "—", "类型": "无新增逾期", "new_lapses": 0}],
        description=(night.note() + f"Deadline sweep of **{campaign}** as of {as_of.isoformat()}: "
                     f"{result.total} new lapses "
                     + ", ".join(f"{KIND_LABELS[k]} {v}" for k, v in result.new_lapses.items())
                     + (f" (the {ARTIFACT_ROWS} largest of {len(lines)} rows shown)"
                        if len(lines) > ARTIFACT_ROWS else "")),
    )
    return result
