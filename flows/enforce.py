"""daily_enforcement: the nightly job of one campaign in one flow run.

sweep (record missed deadlines) → escalation round (cases, notices, chases,
next levels) → reports (the roll-ups whose duty fell due) → witness (the
audit head queued for the witness outside the database, flows/witness.py) →
delivery (drain the outbox). One flow run with a dozen tasks
rather than three subflows: a flow run costs more than its tasks here, and
this runs every night for every campaign (docs/architecture.md decision 2).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from statemachine.time.calendar import coverage_warning

from . import deps
from .deadline_sweep import SweepResult, _as_of, artifact_key, run_name, sweep_now
from .ladder import LadderResult, escalate_now
from .reports import ReportsResult, reports_now
from .witness import WitnessResult, witness_now

__all__ = ["daily_enforcement", "EnforcementResult", "warn_if_calendar_ends"]


@dataclass
class EnforcementResult:
    sweep: SweepResult
    round: LadderResult
    delivered: int
    failed: int
    reports: ReportsResult | None = None
    calendar_warning: str | None = None
    witness: WitnessResult | None = None


@flow(name="daily-enforcement", flow_run_name=run_name("enforce"), validate_parameters=False)
def daily_enforcement(campaign: str, as_of: datetime | None = None,
                      deliver: bool = True) -> EnforcementResult:
    as_of = _as_of(as_of)
    swept = sweep_now(campaign, as_of)
    warning = warn_if_calendar_ends(campaign, as_of)
    escalated = escalate_now(campaign, as_of)
    made = reports_now(campaign, as_of)
    witnessed = witness_now(campaign, as_of)  # after the night's records, before their delivery
    sent = failed = 0
    if deliver:
        from .deliver import deliver_now

        d = deliver_now(as_of)
        sent, failed = d.sent, d.failed
    return EnforcementResult(swept, escalated, sent, failed, made, warning, witnessed)


def warn_if_calendar_ends(campaign: str, as_of: datetime) -> str | None:
    """From 30 days before the working-day calendar runs out, every nightly run
    says so where operators look: its log (a warning) and an artifact. After
    the sweep: once as_of's year is not covered at all the sweep itself
    refuses, and that one-line refusal is the message, not a warning before it."""
    warning = coverage_warning(as_of, deps.calendar().coverage())
    if warning:
        get_run_logger().warning(warning)
        create_markdown_artifact(
            key=artifact_key(campaign).replace("sweep-", "calendar-", 1),
            markdown=f"**工作日历 working-day calendar**: {warning}.\n\n"
                     "The override file's format, with a whole year's 放假 and 调休 days: "
                     "deploy/calendar-overrides.example.yaml.",
            description=warning)
    return warning
