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

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from services.notices import outbox

from . import deps
from .deadline_sweep import ARTIFACT_ROWS, _as_of, _when

__all__ = ["deliver_outbox", "deliver_now", "DeliveryResult", "ARTIFACT_KEY"]

ARTIFACT_KEY = "outbox-delivery"
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


# never cached: a cached batch would report sends that did not happen
@task(name="deliver-batch", task_run_name="deliver-batch-{number}", cache_policy=NO_CACHE)
def deliver_batch(number: int, as_of: datetime, batch: int, holder: str) -> outbox.DrainResult:
    return outbox.drain(deps.engine(), deps.channels(), now=as_of, holder=holder, batch=batch)


def deliver_now(as_of: datetime, batch: int = 100) -> DeliveryResult:
    """The delivery's tasks and artifact, inside whichever flow runs them (this
    one, or the daily enforcement flow)."""
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
    create_table_artifact(
        key=ARTIFACT_KEY,
        table=[{"message": ln.id, "key": ln.key, "channel": ln.channel, "to": ln.recipient,
                "outcome": ln.outcome, "error": ln.error} for ln in rows]
        or [{"message": "—", "key": "—", "channel": "—", "to": "—", "outcome": "nothing due", "error": ""}],
        description=(f"Outbox delivery as of {as_of.isoformat()}: sent {total.sent}, to retry "
                     f"{total.failed}, dead {total.dead}"
                     + (f", given back {total.released}" if total.released else "")
                     + (f" (the first {ARTIFACT_ROWS} of {len(total.lines)} rows shown)"
                        if len(total.lines) > ARTIFACT_ROWS else "")))
    return result


def _run_name() -> str:
    from prefect.runtime import flow_run

    return f"deliver-{_when(flow_run.parameters.get('as_of'))}"


@flow(name="deliver-outbox", flow_run_name=_run_name, validate_parameters=False)
def deliver_outbox(as_of: datetime | None = None, batch: int = 100) -> DeliveryResult:
    return deliver_now(_as_of(as_of), batch)
