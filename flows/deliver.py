"""deliver_outbox: drain the outbox to the configured channels (SMTP, webhook,
file drop) as of an instant, with backoff and dead letters (services/notices/outbox.py).

A task per batch of messages, never per message (docs/architecture.md
decision 2); a run takes at most MAX_BATCHES batches and leaves the rest to
the next run.
Channels come from this process's runtime (its RECTIFY_SMTP_*, …) and are
built inside the task: a password never becomes a task parameter that the
Prefect UI would show.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from services.campaigns.load import campaign_id as lookup_campaign
from services.notices import outbox
from services.notices.undelivered import undelivered
from statemachine.errors import RunFailed

from . import deps, night
from .deadline_sweep import ARTIFACT_ROWS, _as_of, _when, artifact_key as sweep_key

__all__ = ["deliver_outbox", "deliver_now", "DeliveryResult", "ARTIFACT_KEY", "artifact_key", "trouble"]

ARTIFACT_KEY = "outbox-delivery"  # the delivery run of every campaign's messages (deliver-outbox)
MAX_BATCHES = 20


@dataclass
class DeliveryResult:
    as_of: datetime
    sent: int = 0
    failed: int = 0
    dead: int = 0
    released: int = 0
    batches: int = 0
    problems: list[str] = field(default_factory=list)  # one line per message not sent (capped)

    def sentence(self) -> str:
        """This run's failures in one line, '' when every message due went out."""
        if not (self.failed or self.dead):
            return ""
        what = ", ".join(p for p in (f"{self.dead} went dead" if self.dead else "",
                                     f"{self.failed} failed and wait to be retried" if self.failed else "") if p)
        return f"{what} (first: {self.problems[0]})" if self.problems else what


def artifact_key(campaign: str | None) -> str:
    """Per campaign inside its nightly run; the plain key for a run over every campaign."""
    return sweep_key(campaign).replace("sweep-", "outbox-delivery-", 1) if campaign else ARTIFACT_KEY


# never cached: a cached batch would report sends that did not happen
@task(name="deliver-batch", task_run_name="deliver-batch-{number}", cache_policy=NO_CACHE)
def deliver_batch(number: int, as_of: datetime, batch: int, holder: str) -> outbox.DrainResult:
    return outbox.drain(deps.engine(), deps.channels(), now=as_of, holder=holder, batch=batch)


def deliver_now(as_of: datetime, batch: int = 100, campaign: str | None = None) -> DeliveryResult:
    """The delivery's tasks and artifact, inside whichever flow runs them (this
    one, or the daily enforcement flow of `campaign`). The drain takes every
    campaign's due messages; `campaign` names the artifact."""
    deps.channels()  # a bad setting fails the run here, once, not in every batch
    holder = f"{socket.gethostname()}:{os.getpid()}"
    total, result = outbox.DrainResult(), DeliveryResult(as_of)
    for number in range(1, MAX_BATCHES + 1):
        r = deliver_batch(number, as_of, batch, holder)
        total.add(r)
        result.batches = number
        # a short batch: nothing more is due; a released one: the lease ran out, stop for now
        if r.claimed < batch or r.released:
            break
    result.sent, result.failed, result.dead, result.released = total.sent, total.failed, total.dead, total.released
    result.problems = [f"message {ln.id} ({ln.channel} → {ln.recipient}): {ln.outcome}: {ln.error}"
                       for ln in total.lines if ln.outcome != "sent"][:ARTIFACT_ROWS]
    # the problems first and not all rows: an artifact travels in an event (deadline_sweep.py)
    rows = sorted(total.lines, key=lambda ln: ln.outcome == "sent")[:ARTIFACT_ROWS]
    get_run_logger().info("delivery as of %s: %d batches, sent %d, to retry %d, dead %d, given back %d",
                          as_of.isoformat(), result.batches, total.sent, total.failed, total.dead, total.released)
    create_table_artifact(
        key=night.key(artifact_key(campaign)),
        table=[{"message": ln.id, "key": ln.key, "channel": ln.channel, "to": ln.recipient,
                "outcome": ln.outcome, "error": ln.error} for ln in rows]
        or [{"message": "—", "key": "—", "channel": "—", "to": "—", "outcome": "nothing due", "error": ""}],
        description=(night.note() + f"Outbox delivery as of {as_of.isoformat()}: sent {total.sent}, to retry "
                     f"{total.failed}, dead {total.dead}"
                     + (f", given back {total.released}" if total.released else "")
                     + (f" (the first {ARTIFACT_ROWS} of {len(total.lines)} rows shown)"
                        if len(total.lines) > ARTIFACT_ROWS else "")))
    return result


def _run_name() -> str:
    from prefect.runtime import flow_run

    return f"deliver-{_when(flow_run.parameters.get('as_of'))}"


def trouble(campaign: str, as_of: datetime, delivered: DeliveryResult | None) -> str:
    """What of `campaign`'s delivery needs a person after this run, one line ('' when
    nothing): this run's failures still to be retried, the dead messages (whenever
    they died), messages for a channel not configured, and the notices issued since
    `as_of` (tonight's) that no configured channel could carry."""
    left = undelivered(deps.engine(), lookup_campaign(deps.engine(), campaign),
                       configured=tuple(deps.channels()), since=as_of)
    parts = []
    if delivered is not None and delivered.failed:
        retry = next((p for p in delivered.problems if ": retry: " in p), None)
        parts.append(f"{delivered.failed} messages failed and wait to be retried"
                     + (f" ({retry})" if retry else ""))
    return "; ".join(parts + ([left.sentence()] if left.any else []))


@flow(name="deliver-outbox", flow_run_name=_run_name, validate_parameters=False)
def deliver_outbox(as_of: datetime | None = None, batch: int = 100) -> DeliveryResult:
    """Ends Failed when a message failed or went dead: a run is green only when
    everything due went out (the messages sent stay sent)."""
    deps.ready()
    as_of = _as_of(as_of)
    result = deliver_now(as_of, batch)
    if result.failed or result.dead:
        raise RunFailed(f"delivery as of {as_of.isoformat()}: sent {result.sent}, {result.sentence()}",
                        failed=("delivery",), result=result)
    return result
