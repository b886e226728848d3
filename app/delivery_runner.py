"""Running the delivery flow from the CLI process (`rectify outbox deliver`)."""
from __future__ import annotations

from datetime import datetime

from .flow_runner import _run

__all__ = ["run_delivery"]


def run_delivery(as_of: datetime, *, batch: int = 100):
    """deliver_outbox as of `as_of`; returns its DeliveryResult."""
    from flows.deliver import deliver_outbox

    return _run(deliver_outbox, as_of=as_of, batch=batch)
