"""A night run twice: what the second run of it (a retry, or a worker that lost a
race) tells an operator.

Both runs do every step (each is exactly-once by natural keys, so the second adds
only what the first left undone, and a first run that crashed is made good). What
differs is what they show: the first run's artifacts keep their keys, so the latest
artifact under `sweep-<campaign>` is never a repeat's "0 new lapses"; a repeat
publishes its own attached to its run only, each saying "already done by run …",
and its run's name says so too (issue 17).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from prefect import get_run_logger

from services.ladder.sweep import EarlierRun

__all__ = ["Repeat", "mark", "repeat", "key", "note", "SUFFIX", "current_flow_run_id"]

SUFFIX = "already-done"
_repeats: dict[str, Repeat] = {}  # flow run id → the night's first run; one entry per repeat run


@dataclass(frozen=True)
class Repeat:
    run: str             # the first run: its Prefect flow run id, or its run key outside Prefect
    ran_at: datetime
    new_lapses: int

    def says(self) -> str:
        return f"already done by run {self.run} (ran {self.ran_at:%Y-%m-%d %H:%M:%S} UTC, {self.new_lapses} new lapses)"


def current_flow_run_id() -> str | None:
    from prefect.context import get_run_context

    try:
        return str(get_run_context().flow_run.id)
    except Exception:  # noqa: BLE001 - in a task the run context is the task's; outside a run there is none
        from prefect.runtime import flow_run

        return flow_run.id or None


_current = current_flow_run_id


def mark(earlier: EarlierRun | None) -> Repeat | None:
    """Record that this flow run repeats a night (earlier: its first run), and rename
    the run so that the run list shows it; a rename that fails is logged, never fatal."""
    run_id = _current()
    if earlier is None or run_id is None:
        return None
    r = Repeat(earlier.flow_run_id or earlier.run_key, earlier.ran_at, earlier.new_lapses)
    _repeats[run_id] = r
    try:
        from prefect import get_client
        from prefect.runtime import flow_run

        name = flow_run.name
        if name and SUFFIX not in name:
            with get_client(sync_client=True) as client:
                client.update_flow_run(run_id, name=f"{name}-{SUFFIX}-by-{r.run[:8]}")
    except Exception as e:  # noqa: BLE001 - a label; the night's work must go on
        get_run_logger().warning("could not rename the run: %s", e)
    get_run_logger().info("this night was %s; this run publishes its artifacts under no key", r.says())
    return r


def repeat() -> Repeat | None:
    run_id = _current()
    return _repeats.get(run_id) if run_id else None


def key(k: str) -> str | None:
    """The artifact key to publish under: none for a repeat, so the first run's stays the latest."""
    return None if repeat() else k


def note() -> str:
    """What a repeat's artifact descriptions start with ('' for a night's first run)."""
    r = repeat()
    return f"**{r.says()}**; this run: " if r else ""
