"""The steps of a run that must not stop each other (the nightly job: sweep,
escalation, reports, delivery; the due reports one by one).

A step that fails is logged with its cause and the run goes on: a report that
cannot be written never keeps that night's notices from going out. The run
still ends failed, visibly: `Steps.finish` raises RunFailed, so Prefect marks
the flow run Failed and the command line prints one line naming the failed
steps and the first cause, and exits non-zero.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from prefect import get_run_logger

from statemachine.errors import RectifyError, RunFailed

__all__ = ["Steps", "one_line"]

R = TypeVar("R")
MAX_CAUSE_CHARS = 300


def one_line(e: BaseException) -> str:
    """A failure as one line: an expected error's own sentence, else its type and first line."""
    text = str(e).strip()
    if not isinstance(e, RectifyError):
        text = f"{type(e).__name__}: {text}" if text else type(e).__name__
    first = text.splitlines()[0] if text else type(e).__name__
    return first if len(first) <= MAX_CAUSE_CHARS else first[:MAX_CAUSE_CHARS] + "…"


@dataclass
class Steps:
    label: str                                   # "nightly run of xz-2023 as of 2023-05-20 00:05"
    ran: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # step → its cause, one line

    def run(self, name: str, fn: Callable[..., R], *args: Any) -> R | None:
        """fn(*args), or None when it fails: the failure is kept and logged, not raised."""
        try:
            out = fn(*args)
        except Exception as e:  # noqa: BLE001 - isolating the steps is the point; Prefect's signals are BaseExceptions
            self.fail(name, e)
            return None
        self.ran.append(name)
        return out

    def fail(self, name: str, e: BaseException) -> None:
        self.failed[name] = one_line(e)
        # exc_info: the console keeps an expected error off the terminal (app/prefect_env.py),
        # the run's logs in the UI keep its cause and, for a bug, its traceback
        get_run_logger().error(f"{self.label}: {name} failed: {self.failed[name]}", exc_info=e)

    def flag(self, name: str, cause: str) -> None:
        """A step that ran but left work for a person (a message gone dead): the run
        goes on and still ends Failed, naming it like a step that raised."""
        if name in self.ran:
            self.ran.remove(name)
        self.failed[name] = cause if len(cause) <= MAX_CAUSE_CHARS else cause[:MAX_CAUSE_CHARS] + "…"
        # the run's log in the UI keeps it; the console leaves it to the command's one line
        get_run_logger().error(f"{self.label}: {name} needs attention: {cause}", extra={"rectify_expected": True})

    def finish(self, result: Any, *, ran_detail: str = "") -> None:
        """Raise RunFailed when a step failed: the first cause first, then what failed and what ran."""
        if not self.failed:
            return
        first = next(iter(self.failed.values()))
        ran = ", ".join(self.ran) or "no step"
        raise RunFailed(f"{first} — {self.label}: {', '.join(self.failed)} failed; {ran} ran{ran_detail}",
                        failed=tuple(self.failed), result=result)
