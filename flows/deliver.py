"""deliver_outbox: drain the outbox to the configured channels (SMTP, webhook,
file drop), in batches, with retries and a dead-letter state."""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime

from prefect import flow, task
from prefect.artifacts import create_table_artifact

from services import outbox

from . import deps
from .deadline_sweep import ARTIFACT_ROWS, _as_of

__all__ = ["deliver_outbox", "deliver_now", "DeliveryResult"]

MAX_BATCHES = 50  # a run sends at most this many batches; the next run takes the rest


@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    lines: list = field(default_factory=list)


@task(name="deliver-batch", task_run_name="deliver-batch")
def deliver_batches(as_of: datetime, batch: int) -> outbox.DrainResult:
    """All batches in one task: a task per message (or per batch) would cost more
    than the sending (ARCH decision 2)."""
    from notifications.channels import channels_from_env

    channels = channels_from_env()
    total = outbox.DrainResult()
    holder = f"{socket.gethostname()}:{os.getpid()}"
    for _ in range(MAX_BATCHES):
        r = outbox.drain(deps.engine(), channels, now=as_of, holder=holder, batch=batch)
        total.sent, total.failed, total.dead = total.sent + r.sent, total.failed + r.failed, total.dead + r.dead
        total.lines += r.lines
        if len(r.lines) < batch:
            break
    return total


def deliver_now(as_of: datetime, batch: int = 100) -> DeliveryResult:
    r = deliver_batches(as_of, batch)
    if r.lines:
        create_table_artifact(
            key="outbox-delivery",
            table=[{"message": i, "channel": ch, "to": to, "outcome": outcome, "error": err}
                   for i, ch, to, outcome, err in r.lines[:ARTIFACT_ROWS]],
            description=f"Outbox delivery as of {as_of.isoformat()}: sent {r.sent}, "
                        f"to retry {r.failed}, dead {r.dead}")
    return DeliveryResult(r.sent, r.failed, r.dead, r.lines)


def _run_name() -> str:
    from prefect.runtime import flow_run

    return f"deliver-{_as_of(flow_run.parameters.get('as_of')):%Y%m%d-%H%M}"


@flow(name="deliver-outbox", flow_run_name=_run_name, validate_parameters=False)
def deliver_outbox(as_of: datetime | None = None, batch: int = 100) -> DeliveryResult:
    return deliver_now(_as_of(as_of), batch)
